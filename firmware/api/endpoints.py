"""The HTTP API's endpoints as one table: what /api/get, /api/set, /api/action and
/api/history accept, in which order, and who serves it.

ENDPOINTS rows are (path, key, usage, handler). A request to `path` is served by the handler
of the first row whose key it carries (the original's rule: the table's order is the
priority); a row without handler is a modifier that another row's handler reads. `usage` is
how the key is written; a request that carries no key of its path is refused with the list
of them. Adding an endpoint is one row and its handler.

Each handler's docstring documents it: what it does, then tagged lines: "example: QUERY"
(a test runs it against the firmware) and "MODIFIER: what it changes" for the modifier rows
that follow it. tools/docs.py makes docs/api.md and docs/openapi.yaml from this table.
MicroPython compiles docstrings away, so they cost the board nothing.

A handler takes (backend, args) and returns the body (200, plain text) or (body, status,
headers). A command the router refuses raises realtime.Refused: 400 (409 when there is
nothing saved to load), "Bad request: " and the router's reason; nothing was changed.
"""
from api import data
from realtime import Refused, NothingSaved
from router import params as P
from router.status import MODE_WORDS
from records.config import ConfigError, check as check_config

VERSION = "0.1.0"          # this firmware (served as the router's and the web UI's version)
API_VERSION = "3.1"        # the MaxPV! API it serves (the admin page shows it)
OK = "Request successfully processed"
TEXT = {"Content-Type": "text/plain; charset=utf-8"}
JSON = {"Content-Type": "application/json"}
CSV = {"Content-Type": "text/csv; charset=utf-8"}

# path, the words of its refusal when no key matches, and whether it changes anything (then
# it is guarded: cross-site requests refused, the admin password asked for when one is set)
PATHS = (
    ("/api/get", "Unknown request", False),
    ("/api/set", "Bad request or request unknown", True),
    ("/api/action", "Unknown request", True),
    ("/api/history", "Unknown request", False),
)


class Backend:
    """What the endpoints read and command (wired by main.py): the router's interface and
    the records beside it."""

    def __init__(self, rt, clock, config, history, admin, reboot, wifi=None):
        self.rt = rt
        self.wifi = wifi               # net.wifi.Wifi, or None on a board without a radio
        self.clock = clock             # net.clock.Clock: text(), known()
        self.config = config
        self.history = history
        self.admin = admin
        self.reboot = reboot           # () -> None: save and restart the firmware
        self.mqtt = None               # net.mqtt_link.MqttLink once MQTT has been enabled
        self.remote_relay = None       # net.remote_relay.RemoteRelay once it has been enabled
        self.safemode = None           # safemode.Guard: this boot's start and safe mode
        self.firmware = None           # main.Firmware, for the self-test (selftest.py)


def fail(body, status=400):
    return body, status, TEXT


def _number(a, key, top):
    """args[key] '01'..'NN' -> int, or None."""
    t = a.get(key, "").strip()
    if not t.isdigit():
        return None
    n = int(t)
    return n if 1 <= n <= top else None


MISSING = "Bad request: value is missing"


# --- /api/get -------------------------------------------------------------------------------
def _get_param(b, a):
    """one router parameter, by its number NN (docs/parameters.md)
    example: param=06"""
    n = _number(a, "param", P.COUNT)
    if n is None:
        return fail("Unknown request: param must be 01..%02d" % P.COUNT)
    return b.rt.param_text(n)


def _get_data(b, a):
    """one value of the data list below, by its number NN in the numbering of the
    configuration key api_layout (3.1: 01..29, 3.60: 01..30)
    example: data=01"""
    layout = b.config.get("api_layout")
    top = data.count(layout)
    n = _number(a, "data", top)
    if n is None:
        return fail("Unknown request: data must be 01..%02d" % top)
    return data.value(b.rt.state, n, layout)


def _get_config(b, a):
    """the configuration, JSON (keys below; the MQTT password reads as ********)
    example: configmaxpv"""
    return b.config.to_json(), 200, JSON


def _get_allparam(b, a):
    """the 16 parameters in order, comma separated
    example: allparam"""
    return b.rt.params_text()


def _get_alldata(b, a):
    """the data list in order, comma separated: with api_layout 3.1, data 01..26 of the 3.1
    numbering; with 3.60, data 01..29 of the 3.60 numbering
    extended: instead the whole 3.1 numbering, 01..29, whatever api_layout (the web UI's read)
    states: then ssrstate, relaystate, ping and time (the web UI's second in one request)
    clock: then synced or unsynced (the time of day is known, or the time since boot)
    example: alldata"""
    st = b.rt.state
    body = data.alldata(st, "extended" in a, b.config.get("api_layout"))
    if "states" in a:
        body = ",".join((body, data.ssr_state(st), data.relay_state(st), _ping(b),
                         b.clock.text()))
        if "clock" in a:
            body += ",synced" if b.clock.known() else ",unsynced"
    return body


def _get_version(b, a):
    """firmware version
    example: version"""
    return VERSION


def _get_versionweb(b, a):
    """web UI version (the UI is built with the firmware)
    example: versionweb"""
    return VERSION


def _get_versionmaxpv(b, a):
    """the version of the firmware running (the original's "ESP code version", same plain
    form: numbers and dots); it changes with an update (/api/update)
    example: versionmaxpv"""
    return VERSION


def _get_relaystate(b, a):
    """STOP, FORCE, ON or OFF
    example: relaystate"""
    return data.relay_state(b.rt.state)


def _get_ssrstate(b, a):
    """STOP, FORCE, MAX, ON or OFF
    example: ssrstate"""
    return data.ssr_state(b.rt.state)


def _ping(b):
    return "running" if b.rt.running() else "offline"


def _get_ping(b, a):
    """running, or offline (no fresh figures, mains not synchronised)
    example: ping"""
    return _ping(b)


def _get_time(b, a):
    """local time of day HH:MM:SS (time_zone); until the clock is synchronised, the time
    since boot (as v3.1)
    example: time"""
    return b.clock.text()


def _json(obj):
    import json
    return json.dumps(obj), 200, JSON


NO_RADIO = {"mode": "host", "joined": True}     # the simulated board on the host's network


def _get_network(b, a):
    """the network state, JSON: mode (station, connecting, setup: the access point is open,
    idle; host: the simulated board on the computer's network), ssid, joined, rssi (dBm), ip,
    gateway, dns, hostname, url (http://NAME.local), ap and ap_ip (the setup access point),
    reason (why the last attempt to join failed: wrong_password, not_found, no_dhcp, timeout,
    failed), trial (the last "save and connect": ssid and result: trying, joined, not_saved or
    a reason), scanning, watchdog_restarts; and synced (the time of day is known)
    example: network"""
    d = b.wifi.state() if b.wifi else dict(NO_RADIO)
    d["synced"] = b.clock.known()
    return _json(d)


def _get_networks(b, a):
    """the Wi-Fi networks around, JSON: scanning, and networks [[ssid, rssi dBm, secured]]
    strongest first; asking starts a new scan when the last is older than 15 s
    example: networks"""
    if b.wifi is None:
        return _json({"scanning": False, "networks": []})
    nets = b.wifi.scan_results()
    return _json({"scanning": b.wifi.scanning, "networks": nets})


def _get_mqtt(b, a):
    """the MQTT link, JSON: state (off, waiting: not on the network yet, connecting,
    connected, refused: the broker said no, usually to the credentials, unreachable: not
    found, no answer or connection lost, error: the firmware's own fault, retried), error (the
    last one, in words), broker, since (s in this state), retry_in (s to
    the next attempt, or null), connects, published (messages), skipped (telemetry cycles a
    slow broker made us drop), commands (taken), ignored (messages on our topics that were
    not commands), cycle_us (µs of work in the last publication cycle), step_us_max (the
    longest the link held the loop in one step, since boot)
    example: mqtt"""
    if b.mqtt is None:
        c = b.config.get
        return _json({"state": "off", "error": None,
                      "broker": "%s:%d" % (c("mqtt_ip"), c("mqtt_port"))})
    return _json(b.mqtt.state())


def _get_booststate(b, a):
    """ON while a boost runs (manual, scheduled or to an energy target), else OFF
    example: booststate"""
    return "ON" if b.rt.state.boost else "OFF"


def _get_relayplusstate(b, a):
    """ON once RelayPlus has taken its daily reference (and until a manual relay command or
    the next reference hour), else OFF, as the original
    example: relayplusstate"""
    return "ON" if b.rt.state.relayplus else "OFF"


def _get_storage(b, a):
    """the flash's health since boot, JSON: faults (how many writes failed or records were
    found damaged; data 30), recent (the last 8: record, what happened, e.g. "not saved
    (flash full)", "set aside as energy.bad-1.json"). A failed save is retried; a damaged
    record is kept aside and the previous generation used
    example: storage"""
    return _json(b.rt.storage_state())


def _get_heater(b, a):
    """who drives the heater, JSON: reason (fault, over_temp, manual_stop, manual_force,
    boost, legionella, keep_warm, routing), boost (null, or kind: manual, timer or energy;
    left_s; ratio %; burst_on: in the on part of the boost's 5-minute burst; target_wh and
    left_wh for an energy boost), temperature (°C or null), over_temp (the limit holds the
    heater off), keep_warm (heating to the minimum), legionella (due, running, hot_min_today:
    minutes at 60 °C or more today, last_day: the local date of the last hot hour or null),
    grid_heat_kwh (grid energy the boost, keep-warm and anti-legionella took), note (the last
    boost or schedule event, in words, or null)
    example: heater"""
    d = b.rt.heater_state()
    leg = d["legionella"]
    if leg["last_day"] is not None:
        from net.localtime import civil
        leg["last_day"] = "%04d-%02d-%02d" % civil(leg["last_day"])
    return _json(d)


def _get_remoterelay(b, a):
    """the remote relay mirror, JSON: state (off, sending, acknowledged, retrying), target
    (http://IP:PORT), relay_on (the state being mirrored), last_error (in words, or null),
    retry_in (s, or null), sent (requests), acknowledged (requests answered 2xx)
    example: remoterelay"""
    if b.remote_relay is None:
        c = b.config.get
        return _json({"state": "off", "last_error": None,
                      "target": "http://%s:%d" % (c("remoterelay_ip"), c("remoterelay_port"))})
    return _json(b.remote_relay.state())


def _get_ota(b, a):
    """the update over the network, JSON: version (running), state (none; staged: a verified
    bundle waits for the next reboot; backup, install, rollback: a swap under way; trial: the
    new version's first start, confirmed once healthy, else rolled back at the next boot;
    confirmed; rolled_back), new and previous (the versions of the last update), reason (why
    it was rolled back, or null), upload (this boot's last upload: result receiving, staged
    or refused, and why)
    example: ota"""
    from otastate import read
    s = read() or {}
    return _json({"version": VERSION, "state": s.get("state", "none"),
                  "new": s.get("version"), "previous": s.get("from"),
                  "reason": s.get("why"), "upload": getattr(b, "ota_upload", None)})


def _get_selftest(b, a):
    """the last self-test's report, JSON (kept on the flash): state (idle: none has run,
    running, done), uptime (s after boot it started), utc (its UNIX time, or null while the
    clock is not set), seconds (its length), summary (in words), checks (in order, each: id,
    ok: true, false or null when it could not be judged, value and unit measured, expected,
    text: what it means and what to do), modes (the SSR's and the relay's after it), note
    (a boost it ended, a test a reset cut short), error (why it stopped early). The checks'
    ids: adc_read, sample_rate, rmt_latency, adc_mid_v, adc_mid_i, zero_crossings,
    mains_voltage, ct_idle, relay (docs/setup.md, Self-test)
    example: selftest"""
    import selftest
    return _json(selftest.report(b.firmware))


def _get_safemode(b, a):
    """the start and the safe mode, JSON: active (in safe mode: the router stopped, SSR and
    relay off; the API, web UI and Wi-Fi run), reason (why, or null), failed_starts (in a
    row; safe mode at 3), healthy (this start is up: 10 s of measurements, the HTTP server
    listening), watchdog (the router's 8 s watchdog runs: once healthy; a 2 min one guards
    the start before), last_crash (the last failure: the uptime
    and the traceback's end, or null). A reboot (rebootesp) ends the safe mode
    example: safemode"""
    g = b.safemode
    return _json(g.state() if g else {"active": False, "reason": None})


# --- /api/set -------------------------------------------------------------------------------
def _set_param(b, a):
    """set a parameter ('.' or ',' as decimal point); refused (nothing changed) if out of
    range; live at once
    example: param=06&value=10"""
    n = _number(a, "param", P.COUNT)
    if n is None:
        return fail("Bad request: param must be 01..%02d" % P.COUNT)
    v = a.get("value")
    if v is None:
        return fail(MISSING)
    b.rt.set_param(n, v)
    return OK


def _set_mode(key, command, a):
    mode = MODE_WORDS.get((a.get("value") or "").strip())
    if mode is None:
        return fail("Bad request: %s value must be stop, force or auto" % key)
    command(mode)
    return OK


def _set_relaymode(b, a):
    """secondary relay mode: value=stop, force or auto
    example: relaymode&value=auto"""
    return _set_mode("relaymode", b.rt.set_relay_mode, a)


def _set_ssrmode(b, a):
    """SSR mode: value=stop, force or auto
    example: ssrmode&value=auto"""
    return _set_mode("ssrmode", b.rt.set_ssr_mode, a)


def _set_config(b, a):
    """change some configuration keys, value=a JSON object (all or nothing; keys this
    firmware does not know are ignored and named in the answer); the answer names the keys
    that apply at the next reboot (network, time zone and servers)
    example: configmaxpv&value=%7B%22mqtt_port%22:1883%7D"""
    v = a.get("value")
    if v is None:
        return fail(MISSING)
    try:
        later, ignored = b.config.update(v)
    except ConfigError as e:
        return fail("Bad request: %s" % e)
    body = OK
    if later:
        body += " (applied at the next reboot: %s)" % ", ".join(later)
    if ignored:
        body += "; ignored: %s" % ", ".join(ignored)
    return body


def _set_adminpass(b, a):
    """admin password, value=P (empty: none); then set and action need HTTP Basic auth as
    user admin"""
    v = a.get("value")
    if v is None:
        return fail(MISSING + " (empty to remove the password)")
    try:
        b.admin.set(v)
    except ValueError as e:
        return fail("Bad request: %s" % e)
    return OK


def _set_wifi(b, a):
    """join a Wi-Fi network and save it once joined (the setup page's "save and connect"),
    value=a JSON object: wifi_ssid, wifi_pass, and optionally dhcp, ip, subnet, gateway, dns1,
    hostname (as configmaxpv; the others keep their values) and adminpass (set with them
    if not empty). The access point stays up meanwhile; network's trial says how it went;
    nothing is kept from a network that was not joined."""
    import json
    from net.wifi import TRIAL_KEYS
    v = a.get("value")
    if v is None:
        return fail(MISSING)
    if b.wifi is None:
        return fail("Bad request: this board has no Wi-Fi radio (the simulated board uses "
                    "the computer's network; start it with WIFI=setup)", 409)
    try:
        d = json.loads(v)
    except ValueError:
        d = None
    if not isinstance(d, dict):
        return fail("Bad request: the value must be a JSON object")
    unknown_keys = [k for k in d if k not in TRIAL_KEYS and k != "adminpass"]
    if unknown_keys:
        return fail("Bad request: unknown key(s) %s" % ", ".join(unknown_keys))
    if not d.get("wifi_ssid"):
        return fail("Bad request: wifi_ssid (the network's name) is missing")
    settings = {}
    try:
        for k in TRIAL_KEYS:
            settings[k] = check_config(k, d[k]) if k in d else b.config.get(k)
    except ConfigError as e:
        return fail("Bad request: %s" % e)
    if "wifi_pass" not in d:
        settings["wifi_pass"] = ""
    pw = d.get("adminpass")
    if pw and not (isinstance(pw, str) and len(pw) <= 64):
        return fail("Bad request: adminpass must be text of at most 64 characters")
    # the admin password is set with the network, once joined: a failed trial keeps nothing
    b.wifi.try_network(settings, (lambda: b.admin.set(pw)) if pw else None)
    return OK


# --- /api/action ----------------------------------------------------------------------------
def _restart(b, a):
    """restart measurement and regulation (counters kept, modes back to auto)"""
    b.rt.restart()


def _resetindex(b, a):
    """energy indices to 0 (saved)"""
    b.rt.reset_energy()


def _saveindex(b, a):
    """save the energy indices now
    example: saveindex"""
    b.rt.save_energy()


def _saveparam(b, a):
    """save the live parameters"""
    b.rt.save_params()


def _loadparam(b, a):
    """back to the saved parameters (409 if none); also spelt loaddparam"""
    b.rt.load_params()


def _format(b, a):
    """parameters back to their defaults (erases the saved ones)"""
    b.rt.format_params()


def _eraseconfigesp(b, a):
    """configuration back to its defaults at the next boot"""
    try:
        b.config.erase()
    except ConfigError as e:
        raise Refused(str(e))


def _rebootesp(b, a):
    """save the counters and reboot the firmware (in safe mode: the router starts again)"""
    b.reboot()


def _booston(b, a):
    """start a boost: the heater at boost_ratio % for boost_duration minutes (a running boost
    starts again); refused above the temperature limit or when boost_ratio is 0; an SSR in
    STOP or FORCE is set to AUTO, as the original (the boost ends in AUTO)
    example: booston"""
    b.rt.boost_on()


def _selftest(b, a):
    """start the self-test (about 12 s; at the first start it runs by itself): the SSR is
    stopped from its current check on and the relay switched off, on and off, then both
    modes are given back; a running boost ends. Its report: /api/get?selftest"""
    import selftest
    return "Self-test started" if selftest.start(b.firmware) else "Self-test already running"


def _boostoff(b, a):
    """stop the boost
    example: boostoff"""
    b.rt.boost_off()


# --- /api/history ---------------------------------------------------------------------------
def _history_power(b, a):
    """CSV: 30-minute average import, -export, PV, routed (W)
    example: power"""
    return b.history.power_csv(), 200, CSV


def _history_relay(b, a):
    """CSV: secondary relay on-time per 30 minutes (%)
    example: relay"""
    return b.history.relay_csv(), 200, CSV


ENDPOINTS = (
    ("/api/get", "param", "param=NN", _get_param),
    ("/api/get", "data", "data=NN", _get_data),
    ("/api/get", "configmaxpv", "configmaxpv", _get_config),
    ("/api/get", "allparam", "allparam", _get_allparam),
    ("/api/get", "alldata", "alldata", _get_alldata),
    ("/api/get", "extended", "alldata&extended", None),
    ("/api/get", "states", "alldata&extended&states", None),
    ("/api/get", "clock", "alldata&extended&states&clock", None),
    ("/api/get", "version", "version", _get_version),
    ("/api/get", "versionweb", "versionweb", _get_versionweb),
    ("/api/get", "versionmaxpv", "versionmaxpv", _get_versionmaxpv),
    ("/api/get", "relaystate", "relaystate", _get_relaystate),
    ("/api/get", "ssrstate", "ssrstate", _get_ssrstate),
    ("/api/get", "ping", "ping", _get_ping),
    ("/api/get", "time", "time", _get_time),
    ("/api/get", "network", "network", _get_network),
    ("/api/get", "networks", "networks", _get_networks),
    ("/api/get", "booststate", "booststate", _get_booststate),
    ("/api/get", "relayplusstate", "relayplusstate", _get_relayplusstate),
    ("/api/get", "mqtt", "mqtt", _get_mqtt),
    ("/api/get", "heater", "heater", _get_heater),
    ("/api/get", "storage", "storage", _get_storage),
    ("/api/get", "safemode", "safemode", _get_safemode),
    ("/api/get", "ota", "ota", _get_ota),
    ("/api/get", "selftest", "selftest", _get_selftest),
    ("/api/get", "remoterelay", "remoterelay", _get_remoterelay),
    ("/api/set", "param", "param=NN&value=V", _set_param),
    ("/api/set", "relaymode", "relaymode&value=M", _set_relaymode),
    ("/api/set", "ssrmode", "ssrmode&value=M", _set_ssrmode),
    ("/api/set", "configmaxpv", "configmaxpv&value=JSON", _set_config),
    ("/api/set", "adminpass", "adminpass&value=P", _set_adminpass),
    ("/api/set", "wifi", "wifi&value=JSON", _set_wifi),
    ("/api/action", "restart", "restart", _restart),
    ("/api/action", "resetindex", "resetindex", _resetindex),
    ("/api/action", "saveindex", "saveindex", _saveindex),
    ("/api/action", "saveparam", "saveparam", _saveparam),
    ("/api/action", "loadparam", "loadparam", _loadparam),
    ("/api/action", "loaddparam", "loaddparam", _loadparam),
    ("/api/action", "format", "format", _format),
    ("/api/action", "eraseconfigesp", "eraseconfigesp", _eraseconfigesp),
    ("/api/action", "rebootesp", "rebootesp", _rebootesp),
    ("/api/action", "booston", "booston", _booston),
    ("/api/action", "boostoff", "boostoff", _boostoff),
    ("/api/action", "selftest", "selftest", _selftest),
    ("/api/history", "power", "power", _history_power),
    ("/api/history", "relay", "relay", _history_relay),
)


async def _post_update(b, req):
    """install a new version of the firmware: the body is an update bundle (tools/flash.py
    ota builds and sends it; its format: firmware/ota/bundle.py), checked file by file as it
    is written to the flash; it is swapped in at the next reboot, and rolled back at the
    boot after if its start does not become healthy within a minute (/api/get?ota). Needs an
    admin password set (403 without one) and given (401); a bundle that does not check is
    refused (400) and nothing changes
    example: curl -u admin:P --data-binary @build/update.bin http://maxpv.local/api/update"""
    from ota.upload import receive
    return await receive(b, req)


# the paths that take a POST, their body streamed to their handler (b, request): the
# module that reads it is imported only when one comes
POSTS = (
    ("/api/update", "update", "POST body: an update bundle", _post_update),
)


def unknown(path, words):
    """The refusal of a request to `path` that carries none of its keys."""
    keys = [r[2] for r in ENDPOINTS if r[0] == path and r[3] is not None]
    listed = ", ".join(keys[:-1]) + " or " + keys[-1] if len(keys) > 1 else keys[0]
    return fail("%s: %s takes %s" % (words, path, listed))


def serve(b, path, a):
    """Answer a request to `path` with the query args `a` (after the guard)."""
    for p, key, _, handler in ENDPOINTS:
        if p == path and handler is not None and key in a:
            try:
                r = handler(b, a)
            except NothingSaved as e:
                return fail("Bad request: %s" % e, 409)
            except Refused as e:
                return fail("Bad request: %s" % e)
            if r is None:
                return OK, 200, TEXT
            if isinstance(r, str):
                return r, 200, TEXT
            return r
    for p, words, _ in PATHS:
        if p == path:
            return unknown(path, words)
