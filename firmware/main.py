"""Composition root: board -> router -> records -> HTTP API -> asyncio loop.

On an ESP32 it drives the real board; anywhere else it runs the simulated board:
    micropython firmware/main.py [--scenario NAME] [--speed X] [--seconds S] [--data DIR]
                                 [--port P] [--quiet 1] [--www DIR] [--ntp SERVERS]
                                 [--dns ADDR:PORT] [--wifi setup] [--dns-port N]
                                 [--flash-faults SPEC] [--crash N]
                                 [--wiring clamp-open|no-mains|swapped]
(--www: the folder of the built web UI; on the chip it is the image's /www. --ntp: the
simulated board starts with its clock unset and takes the time from these NTP servers,
host[:port] separated by commas, names resolved by the DNS server --dns; without it the
simulated board's clock is the scenario's, and it asks no server. --wifi setup: the
simulated board has a radio and joins the network it has saved, or
opens its setup access point: the portal is then served on 127.0.0.1 standing for
192.168.4.1 and the captive DNS responder listens on UDP 127.0.0.1:--dns-port; without it
the simulated board is on the computer's network, as if joined. --flash-faults: the
simulated board's flash fails as SPEC says (the simulated flash module's docstring).
--crash N: the firmware crashes in the first window of each of the simulated board's first N
boots, which safe mode then counts. --wiring: the simulated board wired wrong, for the
self-test to find (SimBoard's docstring).)

Boot, watchdog and safe mode (safemode.py's docstring has the why): each start is counted
by safemode.Guard before anything that may fail; the router's 8 s watchdog is started only
once the start is healthy (HEALTHY_S summaries done and the HTTP server listening), a 2 min
one guarding the start before (safemode.START_WDT_MS); a crash (an
exception out of the firmware) is saved with its traceback, and the board reset after
safemode.CRASH_PAUSE_MS on the chip (the simulated board restarts the firmware at once, as a reset);
after safemode.FAILS failed starts in a row, or with the file `safe` on the flash, or on a
MicroPython older than 1.27, the firmware comes up in safe mode: the HTTP API, the web UI
and the Wi-Fi, the router stopped. Ctrl-C at the console (which mpremote sends too) stops
the firmware at the REPL at any moment: the outputs go off, and a running watchdog, which
cannot be stopped, is given safemode.CONSOLE_WDT_MS.

An update staged over the network was swapped in by boot.py (otaboot.py), before this file
was compiled. TRIAL: this start is the new version's trial, confirmed at the healthy point
(safemode.Guard.up), and rebooted (the next boot rolls it back) if not healthy in TRIAL_MS.
"""
import sys
from otastate import read as _update
TRIAL = (_update() or {}).get("state") == "trial"
del _update
import asyncio
from router.measure import Measure
from router.mains import MainsSync
from router.params import Params
from realtime import Realtime
from records.store import Store
from records.config import Config
from records.history import History
from records.admin import Admin
from net.clock import Clock


def _args(argv):
    # quiet on the chip: a status line a second on the UART costs its formatting's garbage
    # and the console's attention; the dashboard shows the same
    opts = {"scenario": "clear_day", "speed": "1", "seconds": "0", "data": "sim_data",
            "port": "8080", "quiet": "1" if sys.platform == "esp32" else "0", "www": "www",
            "ntp": "", "dns": "", "wifi": "", "dns-port": "8053", "flash-faults": "",
            "crash": "0", "wiring": ""}
    k = 1
    while k < len(argv):
        a = argv[k]
        if a.startswith("--") and a[2:] in opts and k + 1 < len(argv):
            opts[a[2:]] = argv[k + 1]
            k += 2
        else:
            raise SystemExit("usage: main.py [--scenario NAME] [--speed X] [--seconds S] [--data DIR]"
                             " [--port P] [--quiet 1] [--www DIR] [--ntp SERVERS] [--dns ADDR]"
                             " [--wifi setup] [--dns-port N] [--flash-faults SPEC] [--crash N]"
                             " [--wiring clamp-open|no-mains|swapped]")
    if opts["wifi"] not in ("", "setup"):
        raise SystemExit("--wifi takes 'setup' (a simulated radio) or nothing")
    return opts


def make_board(opts):
    if sys.platform == "esp32":
        from board.esp32 import Esp32Board
        return Esp32Board()
    from board.sim.board import SimBoard
    speed = float(opts["speed"])
    return SimBoard(opts["scenario"], speed=speed if speed > 0 else None, data_dir=opts["data"],
                    clock_known=not opts["ntp"], crash=int(opts["crash"]),
                    wiring=opts["wiring"])


def make_router(board, store=None, clock=None, setting=None):
    """The router on `board`; its local time from `clock` (a net.clock.Clock; by default the
    board's clock in Europe/Paris time), its settings from `setting` (key) -> value (by
    default the configuration's defaults)."""
    from board import config as c
    clock = clock or Clock(board)
    if setting is None:
        from records.config import TABLE
        setting = {r[0]: r[2] for r in TABLE}.get
    params = Params({"V_CALIB": c.V_CALIB, "P_CALIB": c.P_CALIB, "PHASE_CALIB": c.PHASE_CALIB},
                    store)
    measure = Measure(c.MID, c.MID_SPAN, c.MID_TOLERANCE, c.V_CALIB, c.P_CALIB, c.PHASE_CALIB, 0)
    return Realtime(board, measure, MainsSync(), params, store, c.ADC_MV_PER_LSB, clock.local,
                    setting)


def status_line(st, clock):
    return ("%s V=%6.1fV I=%6.3fA P=%+7.1fW S=%7.1fVA cos=%+.3f f=%6.3fHz routed=%6.1fW "
            "status=%s samples=%d/s") % (clock, st.vrms, st.irms, st.p, st.s, st.cosphi, st.hz,
                                         st.routed, "{:08b}".format(st.status), st.samples)


HEALTHY_S = 10            # summaries (s of measured windows) before a start is healthy
TRIAL_MS = 60000          # a new version's trial start must be healthy by then (otaboot.py)
SAFE_TICK_US = 100000     # the safe mode's loop wakes up this often


class Firmware:
    """One boot of the firmware: router, records and the HTTP server. `guard`: the boot
    record (safemode.Guard), told when the start is healthy; `safe`: the reason this boot is
    in safe mode (then no router: halted.Halted stands for it), or None."""

    def __init__(self, board, store, opts, guard=None, safe=None):
        self.board = board
        self.opts = opts
        self.guard = guard
        self.safe = safe
        # On the simulated board the command line's port is the factory http_port: served
        # until the owner saves another one (then honoured from the next boot, as on a device).
        sim = board.NAME == "sim"
        self.config = Config(store, {"http_port": int(opts["port"])} if sim else None)
        cfg = self.config.get
        # The time service: the configuration's servers on a device; on the simulated board
        # only those of --ntp (it must not ask the internet's servers on its own).
        self.servers = [s for s in (opts["ntp"] if sim else cfg("ntp_servers")).split(",") if s]
        self.wifi = None
        self.dns = opts["dns"]
        if not sim or opts["wifi"]:
            from net.wifi import Wifi
            radio = board.radio(self.dns or "127.0.0.1") if sim else board.radio()
            self.wifi = Wifi(radio, self.config, board,
                             (int(opts["dns-port"]), "127.0.0.1") if sim else (53, "0.0.0.0"))
        self.clock = Clock(board, cfg("time_zone"))
        if safe is None:
            self.rt = make_router(board, store, self.clock, self.config.get)
            self.history = History(store)
        else:
            from halted import Halted
            self.rt = Halted(store)
            self.history = History(None)      # its record is not even read
        self.admin = Admin(store)
        self.rebooting = False
        self.port = self.config.get("http_port")

    def reboot(self):
        if self.safe is not None and self.guard is not None:
            from halted import end
            end(self.guard)             # the owner ends the safe mode
        self.rebooting = True

    async def _service(self, backend, key, attr, load):
        """A service loaded the first time the flag `key` is on (it then follows the settings
        itself, and runs until the firmware stops): a board that never uses it never loads
        it. Loading can fail on a full heap: then it is tried again 30 s later; it is not
        given up until the next boot. `load` (firmware) -> the service, which `backend` then
        holds as `attr`."""
        while True:
            wait = 500
            if self.config.get(key):
                try:
                    service = load(self)
                    setattr(backend, attr, service)
                    await service.run()
                except Exception as e:
                    print("%s: %s: %s" % (key, type(e).__name__, e))
                    wait = 30000
            await asyncio.sleep_ms(wait)

    async def run(self):
        from api.app import make_app
        from api.endpoints import Backend
        b = self.board
        rt = self.rt
        clock = self.clock
        wifi = self.wifi
        safe = self.safe is not None
        if safe:
            b.ssr_off()
            b.relay(False)
        tasks = []
        if wifi:
            tasks.append(asyncio.create_task(wifi.run()))
        app = make_app(Backend(rt, clock, self.config, self.history, self.admin, self.reboot,
                               wifi))
        app.backend.safemode = self.guard
        app.backend.firmware = self
        if wifi:
            from api import portal
            portal.register(app, wifi, self.port)
        controls = getattr(b, "serve_controls", None)    # the simulated house's own routes
        if controls:
            controls(app)
        from api import web
        web.register(app, self.opts["www"], self.config)
        host = "0.0.0.0" if b.NAME == "esp32" else "127.0.0.1"
        server = asyncio.create_task(app.start_server(host=host, port=self.port))
        if self.servers and not safe:
            # names through the network's DNS server (DHCP's, or the configuration's)
            from net.sntp import Sntp
            dns = self.dns
            tasks.append(asyncio.create_task(Sntp(clock, self.servers, wifi.dns_server if wifi
                                                  else (lambda: dns) if dns else None).run()))
        if not safe:
            tasks.append(asyncio.create_task(self._service(app.backend, "mqtt_active", "mqtt",
                                                           _mqtt)))
            tasks.append(asyncio.create_task(self._service(app.backend, "remoterelay_active",
                                                           "remote_relay", _remote_relay)))
        if self.guard is not None and self.guard.trial:
            tasks.append(asyncio.create_task(self._trial()))
        try:
            if safe:
                from halted import loop
                await loop(self, SAFE_TICK_US)
                return
            seconds = float(self.opts["seconds"])
            quiet = self.opts["quiet"] != "0"
            summaries = 0
            while not self.rebooting:
                if rt.step():
                    st = rt.summary()
                    self.history.tick(int(clock.utc()), *st.index)    # waits for a known time
                    if not quiet:
                        print(status_line(st, clock.text()))
                    # healthy (HEALTHY_S summaries, start_server listening): the watchdog starts
                    if summaries < HEALTHY_S and getattr(app, "server", None):
                        summaries += 1
                        if summaries == HEALTHY_S:
                            self.guard.up(b) if self.guard else b.wdt_start()
                            # the first boot's self-test (selftest.py: once its report is
                            # on the flash, only the check is done, and nothing stays loaded)
                            import selftest
                            selftest.at_boot(self)
                    if seconds and b.seconds() >= seconds:
                        break
                await asyncio.sleep_ms(b.between_windows(rt.next_start()))
            rt.save_energy()
        finally:
            # also after a crash, so that a simulated board's next boot finds its port free
            b.ssr_off()
            if wifi:
                wifi.close()
            for t in tasks:
                t.cancel()
            if getattr(app, "server", None):
                app.shutdown()
            else:
                server.cancel()           # not listening yet: it never will
            try:
                await server
            except (Exception, asyncio.CancelledError):
                pass


    async def _trial(self):
        """A new version's trial start not healthy in TRIAL_MS (its router not measuring,
        its HTTP server not listening) reboots: the next boot rolls it back."""
        await asyncio.sleep_ms(TRIAL_MS)
        if self.guard is not None and not self.guard.healthy:
            import otaboot
            otaboot.note("its start was not healthy within %d s" % (TRIAL_MS // 1000))
            self.rebooting = True


def _mqtt(fw):
    from net.mqtt_link import MqttLink
    return MqttLink(fw)


def _remote_relay(fw):
    from net.remote_relay import RemoteRelay
    return RemoteRelay(fw)


def main(argv):
    """Boots the firmware (safemode.run: again after each reboot or crash on the simulated
    board; on the chip a reboot is a reset). Returns the last boot's Firmware."""
    import safemode
    return safemode.run(_args(argv), make_board, Firmware, TRIAL)


if __name__ == "__main__":
    main(sys.argv)
