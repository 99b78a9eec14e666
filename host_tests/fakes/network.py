"""A fake of the ESP32 port's `network` module for board/esp32_wifi.py: WLAN objects that
record every call (in order, in `log`) and answer as the port's network_wlan.c does for
the calls used: the same status codes, `scan()` rows, `status("rssi")` raising OSError
when not associated, `isconnected()` true only with an address. The test sets `world`:
what the radio finds (networks and their keys) and what it does next.
"""
STAT_IDLE = 1000
STAT_CONNECTING = 1001
STAT_GOT_IP = 1010
STAT_NO_AP_FOUND = 201
STAT_WRONG_PASSWORD = 202
STAT_HANDSHAKE_TIMEOUT = 204

log = []
_hostname = ["mpy-esp32"]
# what the test makes the radio see: status() answers, in turn, then the last one stays
world = {"status": [STAT_CONNECTING], "rssi": -60, "networks": [],
         "address": ("192.168.1.42", "255.255.255.0", "192.168.1.1", "192.168.1.1")}


def hostname(name=None):
    if name is None:
        return _hostname[0]
    log.append(("hostname", name))
    _hostname[0] = name


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
            o._static = None
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
        self._config.update(kw)

    def connect(self, ssid, key=None):
        if not WLAN._made[0]._active:
            raise OSError("STA must be active")
        self._log("connect", ssid, key)

    def disconnect(self):
        self._log("disconnect")

    def ifconfig(self, cfg=None):
        if cfg is None:
            return world["address"] if self.isconnected() else ("0.0.0.0",) * 4
        self._log("ifconfig", cfg if isinstance(cfg, str) else tuple(cfg))
        self._static = cfg

    def _status(self):
        s = world["status"]
        return s.pop(0) if len(s) > 1 else s[0]

    def status(self, what=None):
        if what is None:
            return self._status()
        if what == "rssi":
            if not world.get("associated", False):
                raise OSError("Wifi Not Connected")
            return world["rssi"]
        if what == "stations":
            return [(b"\x01\x02\x03\x04\x05\x06",)] * world.get("stations", 0)
        raise ValueError("unknown status param")

    def isconnected(self):
        return world.get("got_ip", False)

    def scan(self):
        import _thread
        world["scan_thread"] = _thread.get_ident()     # which thread was held by it
        self._log("scan")
        if not self._active:
            raise OSError("STA must be active")
        return list(world["networks"])
