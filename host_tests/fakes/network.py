"""A fake of the ESP32 port's `network` module for board/esp32_wifi.py: WLAN objects that
record every call (in order, in `log`) and behave as the port's network_wlan.c and
network_common.c (MicroPython v1.28) do for the calls used:
- status() in the port's order: got an address -> 1010; the last disconnect reason if it is
  "no AP found" (201, 210-212); 202 for 202/205; 1000 for 8 (after disconnect()); CONNECTING
  while a connect is requested and the driver still retries (config(reconnects=n): n
  retries; unlimited by default); 1000 for no reason; else the raw reason. connect() does
  not clear the last reason (a stale one outranks CONNECTING), disconnect() sets 8.
- the test plays the driver's events: disconnected(reason), associated(), got_ip();
- ifconfig("dhcp") raises RuntimeError when the DHCP client already runs (ESP-IDF's
  "already started"), ipconfig(dhcp4=True) does not; config() of the AP before it is
  active fails ("Wifi Invalid Mode"); scan() returns [] while the station is connecting.
`world` holds what the radio finds.
"""
log = []
_hostname = ["mpy-esp32"]
world = {"rssi": -60, "networks": [],
         "address": ("192.168.1.42", "255.255.255.0", "192.168.1.1", "192.168.1.1")}


def hostname(name=None):
    if name is None:
        return _hostname[0]
    log.append(("hostname", name))
    _hostname[0] = name


def _sta():
    return WLAN._made[0]


def disconnected(reason):
    """The driver's STA_DISCONNECTED event."""
    s = _sta()
    s._reason = reason
    s._got_ip = False
    s._assoc = False
    if s._requested:
        s._count += 1


def associated():
    _sta()._assoc = True


def got_ip():
    s = _sta()
    s._got_ip = True
    s._assoc = True
    s._reason = 0


class WLAN:
    IF_STA = 0
    IF_AP = 1
    _made = {}

    def __new__(cls, if_id=0):
        # as the port: one object per interface
        if if_id not in cls._made:
            o = object.__new__(cls)
            o.if_id = if_id
            o._active = False
            o._config = {}
            o._reason = 0
            o._got_ip = False
            o._assoc = False
            o._requested = False
            o._count = 0
            o._conf = 0           # reconnects: 0 = unlimited, else n + 1 tries
            o._dhcpc = True       # the default station netif starts its DHCP client
            cls._made[if_id] = o
        return cls._made[if_id]

    def __init__(self, if_id=0):
        pass

    def _log(self, *call):
        log.append(("sta" if self.if_id == 0 else "ap",) + call)

    def active(self, on=None):
        if on is None:
            return self._active
        import _thread
        world["active_thread_%d" % self.if_id] = _thread.get_ident()
        self._log("active", bool(on))
        self._active = bool(on)

    def config(self, *args, **kw):
        if args:
            return self._config.get(args[0])
        self._log("config", tuple(sorted(kw.items())))
        if self.if_id == 1 and not self._active:
            raise OSError("Wifi Invalid Mode")
        if "reconnects" in kw:
            n = kw["reconnects"]
            self._conf = 0 if n == -1 else n + 1
        self._config.update(kw)

    def connect(self, ssid, key=None):
        if not WLAN._made[0]._active:
            raise OSError("STA must be active")
        self._log("connect", ssid, key)
        self._count = 0
        self._requested = True

    def disconnect(self):
        self._log("disconnect")
        self._requested = False
        self._got_ip = False
        self._assoc = False
        self._reason = 8

    def ifconfig(self, cfg=None):
        if cfg is None:
            return world["address"] if self.isconnected() else ("0.0.0.0",) * 4
        self._log("ifconfig", cfg if isinstance(cfg, str) else tuple(cfg))
        if cfg == "dhcp":
            if self._dhcpc:
                raise RuntimeError("Wifi Unknown Error 0x5004")
            self._dhcpc = True
        else:
            self._dhcpc = False

    def ipconfig(self, **kw):
        self._log("ipconfig", tuple(sorted(kw.items())))
        if kw.get("dhcp4"):
            self._dhcpc = True

    def status(self, what=None):
        if what is None:
            r = self._reason
            if self._got_ip:
                return 1010
            if r in (201, 210, 211, 212):
                return r
            if r in (202, 205):
                return 202
            if r == 8:
                return 1000
            if self._requested and (self._conf == 0 or self._count < self._conf):
                return 1001
            return 1000 if r == 0 else r
        if what == "rssi":
            if not self._assoc:
                raise OSError("Wifi Not Connected")
            return world["rssi"]
        if what == "stations":
            return [(b"\x01\x02\x03\x04\x05\x06",)] * world.get("stations", 0)
        raise ValueError("unknown status param")

    def isconnected(self):
        return self._got_ip

    def scan(self):
        import _thread
        world["scan_thread"] = _thread.get_ident()     # which thread was held by it
        self._log("scan")
        if not self._active:
            raise OSError("STA must be active")
        if self._requested and not self._got_ip:
            return []             # ESP-IDF refuses to scan while connecting
        return list(world["networks"])
