"""The simulated board's Wi-Fi radio: the interface of board/esp32_wifi.py over a
neighbourhood of networks that is scenario data (scenario key "wifi"):

    {"networks": [{"ssid": "Maison", "rssi": -58, "key": "soleil2026"}, ...],
     "assoc_s": 2.5, "dhcp_s": 1.0, "scan_s": 2.2, "not_found_s": 6.0,
     "hold_ms": {"start": 1, "stop": 1, "ap": 2, "scan": 2}}

Joining takes assoc_s (association and the WPA2 handshake), then dhcp_s for an address; a
wrong key is known after assoc_s, a network out of range after not_found_s (the chip scans
every channel for it first). `/sim/set?wifi=down` takes every network out of range (a box
switched off), `wifi=nodhcp` keeps them but no DHCP server answers, `wifi=up` ends both;
the station then rejoins by itself, as the ESP32's does. `/sim/set?phone=on` puts a phone
on the setup access point (`off` takes it away).

The router loop's cost: on the chip the calls that block run on a thread of their own
(board/esp32_wifi.py explains why and what still holds the loop); `hold_ms` is what each still takes from the
loop, charged to the virtual clock when the call is made, so the window cadence figures of
the tests include it. A scan's own duration passes in board time while the router runs.

The address the station gets is 127.0.0.1 (the simulated board is served there), as the
access point's 127.0.0.1 stands for 192.168.4.1.
"""
import asyncio

NEIGHBOURHOOD = [
    {"ssid": "Maison", "rssi": -58, "key": "soleil2026"},
    {"ssid": "Livebox-7A3C", "rssi": -71, "key": "voisin-du-dessus"},
    {"ssid": "FreeWifi_secure", "rssi": -80, "key": ""},
    {"ssid": "Atelier", "rssi": -88, "key": "copeaux"},
]
HOLD_MS = {"start": 1, "stop": 1, "ap": 2, "scan": 2}
LAN = ("127.0.0.1", "255.0.0.0", "127.0.0.1", "127.0.0.1")


class SimRadio:
    AP_IP = "127.0.0.1"        # stands for 192.168.4.1

    def __init__(self, board, dns="127.0.0.1"):
        self.board = board
        self.sc = board.scenario
        w = getattr(self.sc, "wifi", None) or {}
        self.networks = w.get("networks", NEIGHBOURHOOD)
        self.assoc_s = w.get("assoc_s", 2.5)
        self.dhcp_s = w.get("dhcp_s", 1.0)
        self.scan_s = w.get("scan_s", 2.2)
        self.not_found_s = w.get("not_found_s", 6.0)
        self.hold_ms = dict(HOLD_MS, **w.get("hold_ms", {}))
        self.dns = dns
        self.name = None
        self._sta = None          # (ssid, key, static) of the current attempt
        self._ap = None
        self._since = None        # board seconds from which the current attempt runs
        self._gone = False        # its network was out of range at the last look

    def _charge(self, what):
        self.board.now += int(self.hold_ms[what] * 1000)

    def _manual(self):
        return self.sc.manual.get("wifi", "up")

    def _network(self, ssid):
        if self._manual() == "down":
            return None
        for n in self.networks:
            if n["ssid"] == ssid:
                return n
        return None

    # --- the interface of board/esp32_wifi.py ------------------------------------------------
    def chip_id(self):
        return "5A17"

    def hostname(self, name):
        self.name = name

    async def start(self, ssid, key, static=None):
        self._charge("start")
        self._sta = (ssid, key, static)
        self._since = self.board.seconds()

    async def stop(self):
        self._charge("stop")
        self._sta = None

    def status(self):
        """"off", "connecting", "joined", "wrong_password", "not_found" or "failed"."""
        if self._sta is None:
            return "off"
        ssid, key, static = self._sta
        now = self.board.seconds()
        n = self._network(ssid)
        if n is None:
            # out of range: the chip keeps looking, and joins by itself once it is back
            self._gone = True
            return "not_found" if now - self._since >= self.not_found_s else "connecting"
        if self._gone:
            self._gone = False
            self._since = now
        t = now - self._since
        if t < self.assoc_s:
            return "connecting"
        if n["key"] != key:
            return "wrong_password"
        if static is None and (self._manual() == "nodhcp" or t < self.assoc_s + self.dhcp_s):
            return "connecting"
        return "joined"

    def associated(self):
        """Linked to the network (with or without an address yet)."""
        s = self.status()
        if s == "joined":
            return True
        if s != "connecting" or self._network(self._sta[0]) is None:
            return False
        return self.board.seconds() - self._since >= self.assoc_s

    def rssi(self):
        if self.status() != "joined":
            return None
        return self._network(self._sta[0])["rssi"]

    def address(self):
        if self.status() != "joined":
            return None
        static = self._sta[2]
        return static if static else LAN[:3] + (self.dns,)

    async def ap(self, name):
        """Open the setup access point `name` (None: close it)."""
        self._charge("ap")
        self._ap = name

    def ap_clients(self):
        """1 while a phone is on the access point (/sim/set?phone=on), else 0."""
        return 1 if self._ap and self.sc.manual.get("phone") == "on" else 0

    async def scan(self):
        """[(ssid, rssi dBm, secured)], strongest first; takes scan_s of board time."""
        self._charge("scan")
        b = self.board
        end = b.seconds() + self.scan_s
        while b.seconds() < end:
            await asyncio.sleep_ms(20)
        if self._manual() == "down":
            return []
        return sorted(((n["ssid"], n["rssi"], bool(n["key"])) for n in self.networks),
                      key=lambda x: -x[1])
