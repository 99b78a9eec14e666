"""The ESP32's Wi-Fi radio (network.WLAN), with the interface net/wifi.py drives and
board/sim/radio.py imitates: start/stop the station, open/close the setup access point,
scan, and the reads (status, rssi, address) that return at once.

What blocks, on MicroPython v1.27/v1.28 (ports/esp32/network_wlan.c), and what is done
about it -- the router loop must never be held longer than a window gap (~3 ms):
- `active(True)` on the first interface runs esp_wifi_start, RF calibration included
  (~100-170 ms, ESP-IDF's RF calibration guide and published start-up logs), holding the
  interpreter. It is done once, in the constructor, before the router loop starts; the
  station interface then stays active for good.
- Opening or closing the access point is `active()` on the AP interface with Wi-Fi already
  started: esp_wifi_set_mode, then a wait without time-out for the AP's start or stop
  event, which releases the interpreter every tick (10 ms). Run on the router's thread,
  that wait would hold the loop until the event; so it runs on a `_thread`, and the loop
  only waits for the interpreter while set_mode runs (not measured: no board here).
- `connect()` releases the interpreter around esp_wifi_connect and returns at once;
  association, the handshake and DHCP go on in the Wi-Fi task (core 0, priority 23), and
  their outcome is read from `status()`. `disconnect()`, `ifconfig`, `config`, `status()`
  and `network.hostname()` only set or read the driver's state.
- `scan()` blocks its caller for the whole scan (~2.4 s: 120 ms on each of channels 1-11,
  360 ms passive on 12-14; ~2.8 s with the AP up; 2.5 s measured in esp32-wifi-manager
  issue 40), with the interpreter released. So it runs on a `_thread` too (stack from the
  IDF heap, not MicroPython's; same core and priority as the main task, which has the
  interpreter meanwhile) and the coroutine polls for its end. A scan while the station is
  connecting returns [] (ESP-IDF refuses it): net/wifi.py pauses the station.
The simulated radio charges the loop what is left: 1-2 ms a call (board/sim/radio.py).

Statuses: network.WLAN.status() -> net/wifi.py's words. status() reports, in this order
(network_wlan.c): joined; the last disconnect reason if it is "no AP found" (201, 210-212)
or 202/205 (as 202, wrong password); CONNECTING while the driver still retries; then the
raw last reason. A wrong WPA2 password mostly ends as a handshake time-out (15 or 204),
which unlimited reconnects would hide behind CONNECTING for ever (MicroPython issue
11625): so the station is configured for RECONNECTS retries (net/wifi.py has its own
back-off), after which the raw reason shows. `connect()` does not clear the previous
reason, so failure codes in the first GRACE_MS after `start()` are not believed; a failure
seen after that is kept until the next start, so a 250 ms poll cannot miss it.
"""
import asyncio
import time
import network
import machine

_STATUS = {
    1000: "off", 1001: "connecting", 1010: "joined",
    201: "not_found", 210: "not_found", 211: "not_found", 212: "not_found",
    202: "wrong_password", 204: "wrong_password", 15: "wrong_password", 2: "wrong_password",
}
RECONNECTS = 2     # the driver's own retries of an attempt (3 tries, ~1-3 s each)
GRACE_MS = 3000
AP_IP = "192.168.4.1"          # ESP-IDF's default soft-AP address, its DHCP server on


def _run(box, fn, arg):
    try:
        box.append(fn() if arg is None else fn(arg))
    except Exception as e:       # OSError mostly; nothing may end the thread unreported
        box.append(e)


async def _off_loop(fn, arg=None):
    """fn(arg) on a thread of its own, the router loop polling for its end (every 50 ms)."""
    import _thread
    box = []
    _thread.start_new_thread(_run, (box, fn, arg))
    while not box:
        await asyncio.sleep_ms(50)
    if isinstance(box[0], Exception):
        raise OSError(str(box[0]))
    return box[0]


class Esp32Wifi:
    AP_IP = AP_IP

    def __init__(self):
        self._sta = network.WLAN(network.WLAN.IF_STA)
        self._ap = network.WLAN(network.WLAN.IF_AP)
        self._ap.active(False)           # the chip may remember an AP from an earlier image
        self._sta.active(True)           # esp_wifi_start: before the router loop runs
        self._started = False
        self._failure = None
        self._since = 0

    def chip_id(self):
        """Four hex digits of the chip's MAC (the access point's name MaxPV-XXXX)."""
        u = machine.unique_id()
        return "%02X%02X" % (u[-2], u[-1])

    def hostname(self, name):
        # before connect(): it is sent in the DHCP request and the mDNS responder takes it
        # at the first address (and never again: a change needs a reset)
        network.hostname(name)

    async def start(self, ssid, key, static=None):
        s = self._sta
        s.disconnect()
        if static:
            s.ifconfig(static)           # stops the DHCP client, sets address, mask, gw, dns
        else:
            # ipconfig, not ifconfig("dhcp"): it starts the DHCP client only if it is not
            # running (ifconfig raises RuntimeError on ESP-IDF's "already started")
            s.ipconfig(dhcp4=True)
        s.config(reconnects=RECONNECTS)
        self._failure = None
        self._started = True
        self._since = time.ticks_ms()
        s.connect(ssid, key)

    async def stop(self):
        self._started = False
        self._sta.disconnect()

    def status(self):
        if not self._started:
            return "off"
        w = _STATUS.get(self._sta.status(), "failed")
        if w == "joined":
            self._failure = None
            return w
        if w not in ("off", "connecting") and self._failure is None:
            if time.ticks_diff(time.ticks_ms(), self._since) < GRACE_MS:
                return "connecting"      # perhaps the last attempt's reason
            self._failure = w
        return self._failure or ("connecting" if w == "off" else w)

    def associated(self):
        """Linked to the access point, with or without an address yet (status('rssi')
        asks the driver for the AP's record, which exists only then)."""
        try:
            self._sta.status("rssi")
            return True
        except OSError:
            return False

    def rssi(self):
        try:
            return self._sta.status("rssi")
        except OSError:
            return None

    def address(self):
        """(ip, mask, gateway, dns) once joined, else None."""
        if not self._sta.isconnected():
            return None
        return self._sta.ifconfig()

    async def ap(self, name):
        """Open the setup access point `name`, open (no password: docs/setup.md says
        why), or close it (None)."""
        a = self._ap
        await _off_loop(a.active, bool(name))
        if name:
            # after active(True): ESP-IDF's set_config fails on an interface not enabled
            a.config(essid=name, authmode=0, max_clients=4)      # 0: open (WLAN.SEC_OPEN)

    def ap_clients(self):
        # status("stations") is a list of (mac,) tuples (network_wlan.c); the stub says int
        return len(self._ap.status("stations")) if self._ap.active() else 0  # pyright: ignore[reportArgumentType]

    async def scan(self):
        """[(ssid, rssi dBm, secured)] strongest first."""
        got = await _off_loop(self._sta.scan)
        rows = []
        for r in got:          # (ssid bytes, bssid, channel, rssi, authmode, hidden)
            try:
                rows.append((r[0].decode(), r[3], r[4] != 0))
            except UnicodeError:     # a name that is not UTF-8 cannot be typed on the page
                pass
        rows.sort(key=lambda x: -x[1])
        return rows
