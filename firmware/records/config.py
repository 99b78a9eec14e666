"""The router's own configuration (MaxPV!'s `configmaxpv`): one table of keys, types,
defaults and checks, stored power-loss-safe. Partial updates; an update with any bad value
is refused as a whole and changes nothing. Keys this firmware does not know are ignored and
named, as the original ignores them (its admin pages send keys of other versions). Network
settings (and http_port) are applied at the next boot, as on the original, and so are the
time zone and the time servers; the MQTT settings apply at once (net/mqtt_link.py); a
board that has not joined its network uses new Wi-Fi settings at its next attempt
(net/wifi.py), and the setup page's "save and connect" saves only what it has joined with.

Keys are the original's (v3.1's six network keys first, then later versions'), plus what this
firmware needs (dhcp, hostname, the Wi-Fi network and the setup access point's timings: the
original kept the Wi-Fi credentials outside its configuration). Ranges admit whatever the original's admin page can send.
The passwords (SECRETS) are never read back: GET shows "********" when one is set, and
posting that placeholder back keeps the stored password.

Only the values that differ from the defaults are stored, so a default given by the board
(the simulated board's http_port is its command line's) holds until the owner changes it.
"""
import json
from net.localtime import ZONES

SECRET = "********"
SECRETS = ("wifi_pass", "mqtt_pass")

# (key, type, default, check) -- type: "ip", "int" (check = (min, max)), "flag",
# "str" (check = max length), "host" (a DNS label), "path" (starts with "/"),
# "choice" (check = the values), "servers" (comma-separated host[:port], check = max length),
# "wpa" (a WPA2 passphrase: 8..63 characters or 64 hex digits, or empty for an open network),
# "addr" (an IPv4 address or a host name, check = max length), "topic" (an MQTT topic of
# letters, digits, '-', '_' and '.' levels separated by '/', check = max length), "hhmm" (a
# local time of day, "HH:MM"), "names" (host names separated by commas, or empty, check = max
# length)
TABLE = (
    ("ip", "ip", "192.168.1.250", None),
    ("gateway", "ip", "192.168.1.1", None),
    ("subnet", "ip", "255.255.255.0", None),
    ("dns1", "ip", "192.168.1.1", None),
    ("dns2", "ip", "8.8.8.8", None),
    ("http_port", "int", 80, (1, 65535)),
    ("dhcp", "flag", 1, None),
    ("hostname", "host", "maxpv", 32),
    # names other than its address and NAME.local that reach the router (the owner's DNS
    # name, a reverse proxy): api/guard.py refuses changes sent to any other name
    ("http_names", "names", "", 127),
    ("wifi_ssid", "str", "", 32),
    ("wifi_pass", "wpa", "", 64),
    ("watchdogwifi_active", "flag", 0, None),
    ("ap_after_min", "int", 3, (1, 60)),
    ("ap_timeout_min", "int", 15, (0, 1440)),
    ("time_zone", "choice", "Europe/Paris", ZONES),
    ("ntp_servers", "servers", "pool.ntp.org,time.google.com", 127),
    ("mqtt_active", "flag", 0, None),
    ("mqtt_ip", "addr", "192.168.1.100", 64),
    ("mqtt_port", "int", 1883, (1, 65535)),
    ("mqtt_period", "int", 10, (1, 3600)),
    ("mqtt_user", "str", "", 64),
    ("mqtt_pass", "str", "", 64),
    ("mqtt_topic", "topic", "maxpv", 64),
    ("mqtt_discovery", "flag", 1, None),
    ("mqtt_ha_prefix", "topic", "homeassistant", 64),
    ("boost_duration", "int", 120, (1, 1440)),
    ("boost_ratio", "int", 100, (0, 100)),
    ("boost_timer_active", "flag", 0, None),
    ("boost_timer_hour", "int", 4, (0, 23)),
    ("boost_timer_minute", "int", 0, (0, 59)),
    ("RelayPlus_active", "flag", 0, None),
    ("RelayPlus_min", "int", 60, (5, 1440)),
    ("RelayPlus_max", "int", 480, (5, 1440)),
    ("RelayPlus_hour", "int", 21, (0, 23)),
    ("boost_energy_active", "flag", 0, None),
    ("boost_energy_hour", "int", 18, (0, 23)),
    ("boost_energy_wh", "int", 3000, (100, 30000)),
    ("max_temp", "int", 45, (15, 90)),
    ("temp_limit_active", "flag", 0, None),
    ("keepwarm_active", "flag", 0, None),
    ("keepwarm_min", "int", 40, (20, 70)),
    ("keepwarm_offpeak", "flag", 0, None),
    ("offpeak_start", "hhmm", "22:00", None),
    ("offpeak_end", "hhmm", "06:00", None),
    ("legionella_active", "flag", 0, None),
    ("legionella_day", "int", 6, (0, 6)),
    ("legionella_hour", "int", 13, (0, 23)),
    ("persist_modes", "flag", 1, None),
    ("api_layout", "choice", "3.1", ("3.1", "3.60")),
    ("remoterelay_active", "flag", 0, None),
    ("remoterelay_ip", "ip", "192.168.1.200", None),
    ("remoterelay_port", "int", 80, (1, 65535)),
    ("remoterelay_on", "path", "/relay0/cmd/1", 127),
    ("remoterelay_off", "path", "/relay0/cmd/0", 127),
)
BY_KEY = {r[0]: r for r in TABLE}
# applied at the next boot
AT_BOOT = ("wifi_ssid", "wifi_pass", "ip", "gateway", "subnet", "dns1", "dns2", "http_port", "dhcp", "hostname",
           "time_zone", "ntp_servers")


class ConfigError(ValueError):
    pass


def is_ipv4(v):
    parts = v.split(".") if isinstance(v, str) else ()
    # no leading zeros: 010 is octal to some resolvers and decimal to others
    return len(parts) == 4 and all(p.isdigit() and len(p) <= 3 and int(p) <= 255 and
                                   (p == "0" or p[0] != "0") for p in parts)


def _name(host):
    labels = host.split(".")
    return bool(host) and all(x and len(x) < 64 and all(c.isalpha() or c.isdigit() or c == "-"
                                                           for c in x) for x in labels)


def _server(text):
    host, _, port = text.strip().partition(":")
    if port and not (port.isdigit() and 1 <= int(port) <= 65535):
        return False
    return _name(host)


def _topic(text):
    return all(x and all("a" <= c.lower() <= "z" or c.isdigit() or c in "-_." for c in x)
               for x in text.split("/"))


def check(key, value):
    """The value to store for `key`, or ConfigError saying what is wrong. Numbers may come as
    strings (the original admin page sends everything as strings)."""
    r = BY_KEY.get(key)
    if r is None:
        raise ConfigError("unknown key '%s'" % key)
    kind, lim = r[1], r[3]
    if kind in ("int", "flag"):
        try:
            bad = isinstance(value, bool) or (isinstance(value, str) and "_" in value)
            v = None if bad else int(value)
        except (ValueError, TypeError, OverflowError):    # OverflowError: 1e999 is inf
            v = None
        if v is None or (isinstance(value, float) and value != int(value)):
            raise ConfigError("%s must be a whole number" % key)
        lo, hi = (0, 1) if kind == "flag" else lim
        if not lo <= v <= hi:
            raise ConfigError("%s must be within %d..%d" % (key, lo, hi))
        return v
    if not isinstance(value, str):
        raise ConfigError("%s must be a string" % key)
    if any(0xD800 <= ord(c) <= 0xDFFF for c in value):
        raise ConfigError("%s is not valid text" % key)
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        # CR/LF in a path would be a header injected into the remote relay's request
        raise ConfigError("%s must not contain control characters" % key)
    if kind == "choice":
        if value not in lim:
            raise ConfigError("%s must be one of %s" % (key, ", ".join(lim)))
        return value
    if kind == "hhmm":
        h, _, m = value.partition(":")
        if not (len(h) == 2 and len(m) == 2 and h.isdigit() and m.isdigit() and int(h) < 24
                and int(m) < 60):
            raise ConfigError("%s must be a time of day HH:MM" % key)
        return value
    if kind == "ip":
        if not is_ipv4(value):
            raise ConfigError("%s is not an IPv4 address: '%s'" % (key, value))
        return value
    if len(value) > lim:
        raise ConfigError("%s is longer than %d characters" % (key, lim))
    if key == "wifi_ssid" and len(value.encode()) > 32:
        raise ConfigError("wifi_ssid is longer than 32 bytes (an accented letter takes two)")
    if kind == "wpa" and value and not (8 <= len(value) <= 63 and all(
            " " <= c <= "~" for c in value) or len(value) == 64 and all(
            c in "0123456789abcdefABCDEF" for c in value)):
        raise ConfigError("%s must be 8 to 63 printable ASCII characters, or 64 hex digits "
                          "(WPA2), or empty for an open network" % key)
    if kind == "host" and not (value and all(c.isalpha() or c.isdigit() or c == "-" for c in value)
                               and value[0] != "-" and value[-1] != "-"):
        raise ConfigError("hostname must be letters, digits and '-'")
    if kind == "addr" and not (is_ipv4(value) or _name(value) and not value.replace(".", "").isdigit()):
        raise ConfigError("%s is not an IPv4 address or a host name: '%s'" % (key, value))
    if kind == "topic" and not _topic(value):
        raise ConfigError("%s must be levels of letters, digits, '-', '_' or '.' separated "
                          "by single '/' (no '+' or '#')" % key)
    if kind == "path" and not (value.startswith("/") and " " not in value):
        # a space would end the request line of the remote relay's GET: written %20
        raise ConfigError("%s must start with '/' and contain no spaces (write them %%20)" % key)
    if kind == "names" and value and not all(_name(x.strip()) for x in value.split(",")):
        raise ConfigError("%s must be host names separated by commas, or empty" % key)
    if kind == "servers" and not all(_server(x) for x in value.split(",")):
        raise ConfigError("%s must be host names or addresses, with an optional :port, "
                          "separated by commas" % key)
    return value


class Config:
    def __init__(self, store, board_defaults=None):
        """board_defaults: {key: value} where the board's default differs from the table's."""
        self.store = store
        self.defaults = {r[0]: r[2] for r in TABLE}
        if board_defaults:
            self.defaults.update(board_defaults)
        self.values = dict(self.defaults)
        saved = store.read("config", lambda d: isinstance(d, dict)) if store else None
        if saved:
            for k, v in saved.items():
                try:
                    self.values[k] = check(k, v)
                except ConfigError:
                    pass          # a key that no longer validates (or is gone) keeps its default
        # what this boot runs with: a change of these is "at the next reboot" until then
        self.booted = {k: self.values[k] for k in AT_BOOT}

    def get(self, key):
        return self.values[key]

    def to_json(self):
        out = []
        for r in TABLE:
            v = self.values[r[0]]
            if r[0] in SECRETS and v:
                v = SECRET
            out.append("%s:%s" % (json.dumps(r[0]), json.dumps(v)))
        return "{" + ",".join(out) + "}"

    def update(self, text):
        """Apply a JSON object of keys to change; all of it or nothing. Returns the keys whose
        new values wait for the next boot (they differ from what this boot runs with), and
        the keys that were ignored."""
        try:
            d = json.loads(text)
        except ValueError:
            raise ConfigError("the value is not valid JSON")
        if not isinstance(d, dict) or not d:
            raise ConfigError("the value must be a JSON object with at least one key")
        new = {}
        ignored = []
        for k, v in d.items():
            if k not in BY_KEY:
                ignored.append(k)
            elif not (k in SECRETS and v == SECRET):
                new[k] = check(k, v)
        merged = dict(self.values)
        merged.update(new)
        if merged["RelayPlus_max"] < merged["RelayPlus_min"]:
            raise ConfigError("RelayPlus_max must not be below RelayPlus_min")
        if merged["temp_limit_active"]:
            # the limit (released 2 °C below max_temp) ranks above both: they could never
            # finish, and would cycle at the limit on grid power
            if merged["legionella_active"] and merged["max_temp"] < 62:
                raise ConfigError("anti-legionella needs max_temp of at least 62 °C while the "
                                  "temperature limit is on (it heats to 61.5 °C)")
            if merged["keepwarm_active"] and merged["keepwarm_min"] + 3 > merged["max_temp"] - 2:
                raise ConfigError("keepwarm_min must be at least 5 °C below max_temp while "
                                  "the temperature limit is on")
        if self.store is not None and not self.store.write(
                "config", {k: v for k, v in merged.items() if v != self.defaults[k]}):
            raise ConfigError("the configuration could not be saved (storage fault): "
                              "nothing changed")
        later = [k for k in AT_BOOT if merged[k] != self.booted[k]]
        self.values = merged
        return later, ignored

    def running(self, keys):
        """This boot now runs with the current values of `keys` (the Wi-Fi joined them)."""
        for k in keys:
            if k in self.booted:
                self.booted[k] = self.values[k]

    def erase(self):
        """Back to the defaults at the next boot (the original then starts its access point).
        ConfigError if the flash would not erase it (the saved configuration stays)."""
        if self.store is not None and not self.store.remove("config"):
            raise ConfigError("the configuration could not be erased (storage fault): "
                              "unchanged")
