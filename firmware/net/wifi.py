"""Joining the network: the station on the saved network, the setup access point with its
captive portal when there is none or it keeps failing, and the Wi-Fi watchdog.

One asyncio task polls the radio every POLL_MS; it never waits on it. The radio is the
board's (board/esp32_wifi.py on the chip, board/sim/radio.py on the simulated board):
`start`, `stop`, `ap` and `scan` are coroutines whose blocking part runs off the router
loop, `status()` and the other reads return at once. All durations are in board time
(`board.seconds()`), so the simulated board, which may run faster than the wall clock,
sees the same behaviour as the chip.

What happens, and when (docs/setup.md says it for owners):
- No saved network (a new board, or after eraseconfigesp): the setup access point
  MaxPV-XXXX opens and stays open.
- A saved network: the station joins it (DHCP, or the static address of the
  configuration). An attempt that has not joined after CONNECT_TIMEOUT_S, or that the radio
  reports as a wrong password or a network not found, has failed: the reason is kept and
  the next attempt comes after a back-off (RETRY_S doubling to RETRY_MAX_S). After
  ap_after_min minutes without the network the setup access point opens as well, while the
  station goes on trying; it closes when the network is back, or after ap_timeout_min
  minutes (0: never) -- and opens again after another ap_after_min minutes without it.
  While a phone is on the access point the background attempts wait (the AP follows the
  station's channel while it searches), and none starts during a scan (the chip would
  abort it); settings saved through configmaxpv are tried at the next attempt (at once on
  a board that has none).
- The portal's "save and connect" (`trial`) tries the new network with the access point
  up, saves it only once it has joined, and closes the access point SETUP_LINGER_S later so
  the phone can show the result. A failed trial keeps the saved network and the AP.
- The watchdog (watchdogwifi_active, as MaxPV! 3.54): joined, the DNS server is asked
  every WATCHDOG_PERIOD_S; after WATCHDOG_LIMIT_S without an answer the Wi-Fi (not the
  router) is restarted.
"""
import asyncio
import json
from net import dns
from net.udp import exchange, host_port

POLL_MS = 250
CONNECT_TIMEOUT_S = 30
RETRY_S = 5
RETRY_MAX_S = 60
SETUP_LINGER_S = 60
SCAN_MAX_AGE_S = 15            # a scan older than this is redone when the portal asks
WATCHDOG_PERIOD_S = 30
WATCHDOG_LIMIT_S = 600
FAILURES = ("wrong_password", "not_found", "failed")
# what the portal may set, and the configuration keys they are saved as
TRIAL_KEYS = ("wifi_ssid", "wifi_pass", "dhcp", "ip", "subnet", "gateway", "dns1", "hostname")


class Wifi:
    """radio: the board's radio; config: records.config.Config; board: for seconds();
    captive: (port, bind address) of the captive DNS responder while the AP is up."""

    def __init__(self, radio, config, board, captive=(53, "0.0.0.0")):
        self.radio = radio
        self.config = config
        self.board = board
        self.captive = captive
        self.ap_name = "MaxPV-" + radio.chip_id()
        self.target = None          # settings being joined (dict of TRIAL_KEYS), or None
        self.joined = False
        self.attempt_at = None      # board seconds the current attempt started
        self.next_try = None        # board seconds of the next attempt of the saved network
        self.retry = RETRY_S
        self.failing_since = None   # the saved network has been missing since then
        self.reason = None          # why the last attempt failed
        self.ap_open = False
        self.ap_opened_at = None
        self.ap_closed_at = None
        self.ap_close_at = None     # after a successful trial
        self.trial = None           # {"ssid", "result"}: the portal's last "save and connect"
        self._pending = None
        self._on_joined = None
        self.networks = []          # the last scan: [(ssid, rssi, secured)]
        self.scanned_at = None
        self.scanning = False
        self.watchdog_ok_at = None
        self.restarts = 0           # by the watchdog
        self._dns = None
        self._task = None

    # --- what the API reads and asks ---------------------------------------------------------
    def saved(self):
        """The saved network's settings, or None when there is none."""
        cfg = self.config.get
        if not cfg("wifi_ssid"):
            return None
        return {k: cfg(k) for k in TRIAL_KEYS}

    def dns_server(self):
        """The network's DNS server (from DHCP, or the configuration's), None when not joined."""
        a = self.radio.address() if self.joined else None
        return a[3] if a else None

    def state(self):
        """The network state as a dict (the API's `network`, the UI's)."""
        t = self.target or self.saved() or {}
        a = self.radio.address() if self.joined else None
        name = t.get("hostname") or self.config.get("hostname")
        mode = ("setup" if self.ap_open else "station" if self.joined else
                "connecting" if self.target or self.saved() else "idle")
        return {
            "mode": mode,
            "ssid": t.get("wifi_ssid", ""), "joined": self.joined,
            "rssi": self.radio.rssi() if self.joined else None,
            "ip": a[0] if a else None, "gateway": a[2] if a else None,
            "dns": a[3] if a else None, "hostname": name, "url": "http://%s.local" % name,
            "ap": self.ap_name if self.ap_open else None,
            "ap_ip": self.radio.AP_IP if self.ap_open else None,
            "reason": self.reason, "trial": self.trial, "scanning": self.scanning,
            "watchdog_restarts": self.restarts,
        }

    def try_network(self, settings, on_joined=None):
        """The portal's "save and connect": `settings` (TRIAL_KEYS, already checked) are
        tried with the access point up, and saved once joined; `on_joined()` then runs too
        (the admin password the page gave: nothing is kept from a trial that failed)."""
        self.trial = {"ssid": settings["wifi_ssid"], "result": "trying"}
        self._pending = settings
        self._on_joined = on_joined

    def scan_results(self):
        """The last scan's networks; starts a new scan when it is older than SCAN_MAX_AGE_S."""
        now = self.board.seconds()
        if not self.scanning and (self.scanned_at is None or now - self.scanned_at > SCAN_MAX_AGE_S):
            self.scanning = True
            asyncio.create_task(self._scan())
        return self.networks

    async def _scan(self):
        # The chip refuses to scan while its station is connecting: a station that has
        # not joined pauses for the scan (~2.5 s) and tries again right after; no attempt
        # starts while the scan runs (step() waits for it).
        paused = (self.target is not None and not self.joined and self._pending is None and
                  not (self.trial and self.trial["result"] == "trying"))
        try:
            if paused:
                await self.radio.stop()
                self.target = None
                self.next_try = None
            found = await self.radio.scan()
            seen = set()
            self.networks = []
            for ssid, rssi, secured in found:     # strongest first; one row per name
                if ssid and ssid not in seen:
                    seen.add(ssid)
                    self.networks.append((ssid, rssi, secured))
        except Exception as e:     # the radio's OSError, or anything: the scan ends anyway
            print("wifi: scan failed: %s" % e)
        finally:
            self.scanned_at = self.board.seconds()
            self.scanning = False
            if paused:
                self.next_try = self.scanned_at

    # --- the task ------------------------------------------------------------------------------
    async def _join(self, settings):
        r = self.radio
        if self.target is not None:
            await r.stop()
        r.hostname(settings["hostname"])     # before the station starts: the mDNS name
        static = None if settings["dhcp"] else (settings["ip"], settings["subnet"],
                                                 settings["gateway"], settings["dns1"])
        self.target = settings
        self.joined = False
        self.attempt_at = self.board.seconds()
        self.next_try = None
        await r.start(settings["wifi_ssid"], settings["wifi_pass"], static)

    async def _open_ap(self):
        if self.ap_open:
            return
        await self.radio.ap(self.ap_name)
        self.ap_open = True
        self.ap_opened_at = self.board.seconds()
        self.ap_close_at = None
        from net.captive_dns import CaptiveDns
        port, bind = self.captive
        self._dns = CaptiveDns(self.radio.AP_IP, port, bind)
        asyncio.create_task(self._dns.run())
        print("wifi: setup access point %s open" % self.ap_name)

    async def _close_ap(self):
        if not self.ap_open:
            return
        if self._dns:
            self._dns.stop()
            self._dns = None
        await self.radio.ap(None)
        self.ap_open = False
        self.ap_closed_at = self.board.seconds()
        print("wifi: setup access point closed")

    def _joined_now(self, now):
        self.joined = True
        self.reason = None
        self.retry = RETRY_S
        self.failing_since = None
        self.watchdog_ok_at = now
        a = self.radio.address()
        print("wifi: joined %s, address %s" % (self.target["wifi_ssid"], a[0] if a else "?"))
        if self.trial is not None and self.trial["result"] == "trying":
            saved = {k: self.target[k] for k in TRIAL_KEYS}
            try:
                self.config.update(json.dumps(saved))
                self.config.running(TRIAL_KEYS)      # this boot now runs with them
                if self._on_joined:
                    self._on_joined()
                self.trial["result"] = "joined"
                self.ap_close_at = now + SETUP_LINGER_S
            except ValueError as e:          # ConfigError, admin.set: storage fault
                self.trial["result"] = "not_saved"   # the AP stays: nothing to come back to
                print("wifi: %s" % e)
            self._on_joined = None
        elif self.ap_open:
            self.ap_close_at = now           # the network is back: the AP is not needed

    async def _failed(self, now, reason):
        print("wifi: %s: %s" % (self.target["wifi_ssid"], reason))
        self.reason = reason
        if self.trial is not None and self.trial["result"] == "trying":
            self.trial["result"] = reason
        await self.radio.stop()
        self.target = None
        self.joined = False
        if self.failing_since is None:
            self.failing_since = now
        self.next_try = now + self.retry
        self.retry = min(self.retry * 2, RETRY_MAX_S)

    async def step(self):
        """One look at the radio (every POLL_MS)."""
        now = self.board.seconds()
        cfg = self.config.get
        if self.scanning:
            return                           # the chip would abort the scan
        if self._pending is not None:
            settings, self._pending = self._pending, None
            await self._join(settings)
            return
        if self.target is not None:
            st = self.radio.status()
            if st == "joined":
                if not self.joined:
                    self._joined_now(now)
            else:
                if self.joined:              # lost: the radio rejoins by itself meanwhile
                    print("wifi: lost %s" % self.target["wifi_ssid"])
                    self.joined = False
                    self.attempt_at = now
                    self.failing_since = now
                if st in FAILURES:
                    await self._failed(now, st)
                elif now - self.attempt_at >= CONNECT_TIMEOUT_S:
                    await self._failed(now, "no_dhcp" if self.radio.associated() else "timeout")
        else:
            saved = self.saved()
            if saved and (self.next_try is None or now >= self.next_try) and not (
                    self.ap_open and self.radio.ap_clients()):
                # due, or saved since (configmaxpv on a new board); not while a phone is on
                # the access point, which follows the station's channel while it searches
                if self.failing_since is None:
                    self.failing_since = now
                await self._join(saved)
        saved = self.saved()
        if not self.ap_open:
            after = cfg("ap_after_min") * 60
            if (saved is None and not self.joined) or (
                    self.failing_since is not None and now - self.failing_since >= after and
                    (self.ap_closed_at is None or now - self.ap_closed_at >= after)):
                await self._open_ap()
        elif self.ap_close_at is not None and now >= self.ap_close_at and self.joined:
            await self._close_ap()
        elif (saved is not None and self.failing_since is not None and cfg("ap_timeout_min") and
              self._pending is None and (self.trial is None or self.trial["result"] != "trying")
              and now - self.ap_opened_at >= cfg("ap_timeout_min") * 60):
            await self._close_ap()
        if not (self.joined and cfg("watchdogwifi_active")):
            self.watchdog_ok_at = now        # switched on later: counts from then
        elif now - self.watchdog_ok_at >= WATCHDOG_LIMIT_S:
            print("wifi: watchdog: no answer from %s for %d s, restarting the Wi-Fi"
                  % (self.dns_server(), WATCHDOG_LIMIT_S))
            self.restarts += 1
            await self._join(self.target)

    async def _watchdog(self):
        qid = 0x5744
        asked = self.board.seconds()
        while True:
            await asyncio.sleep_ms(POLL_MS)
            if self.board.seconds() - asked < WATCHDOG_PERIOD_S:
                continue
            asked = self.board.seconds()
            server = self.dns_server()
            if not (server and self.config.get("watchdogwifi_active")):
                continue
            try:
                got = await exchange(host_port(server, 53), dns.query(qid, "pool.ntp.org"),
                                     lambda d: True if dns.is_response(d, qid) else None)
            except OSError:
                got = None
            if got:
                self.watchdog_ok_at = self.board.seconds()

    def close(self):
        """The firmware stops (a reboot of the simulated board): the tasks end."""
        if self._dns:
            self._dns.stop()
        if self._task:
            self._task.cancel()

    async def run(self):
        saved = self.saved()
        if saved:
            self.failing_since = self.board.seconds()     # missing until it has joined
            await self._join(saved)
        self._task = asyncio.create_task(self._watchdog())
        while True:
            try:
                await self.step()
            except Exception as e:
                # The radio refused a call (OSError; RuntimeError for an ESP-IDF error the
                # port does not map): this attempt has failed, the next comes after the
                # back-off. Nothing may end this task: the board would stay off the network.
                print("wifi: %s: %s" % (type(e).__name__, e))
                await self._recover()
            await asyncio.sleep_ms(POLL_MS)

    async def _recover(self):
        if self.target is not None:
            try:
                await self._failed(self.board.seconds(), "failed")
            except Exception:
                self.target = None
                self.joined = False
                self.next_try = self.board.seconds() + self.retry
