"""Composition root: board -> router -> records -> HTTP API -> asyncio loop.

On an ESP32 it drives the real board; anywhere else it runs the simulated board:
    micropython firmware/main.py [--scenario NAME] [--speed X] [--seconds S] [--data DIR]
                                 [--port P] [--quiet 1] [--www DIR]
(--www: the folder of the built web UI; on the chip it is the image's /www)
"""
import sys
import asyncio
from router.measure import Measure
from router.mains import MainsSync
from router.params import Params
from realtime import Realtime
from records.store import Store
from records.config import Config
from records.history import History
from records.admin import Admin


def _args(argv):
    opts = {"scenario": "clear_day", "speed": "1", "seconds": "0", "data": "sim_data",
            "port": "8080", "quiet": "0", "www": "www"}
    k = 1
    while k < len(argv):
        a = argv[k]
        if a.startswith("--") and a[2:] in opts and k + 1 < len(argv):
            opts[a[2:]] = argv[k + 1]
            k += 2
        else:
            raise SystemExit("usage: main.py [--scenario NAME] [--speed X] [--seconds S] [--data DIR]"
                             " [--port P] [--quiet 1] [--www DIR]")
    return opts


def make_board(opts):
    if sys.platform == "esp32":
        from board.esp32 import Esp32Board
        return Esp32Board()
    from board.sim.board import SimBoard
    speed = float(opts["speed"])
    return SimBoard(opts["scenario"], speed=speed if speed > 0 else None, data_dir=opts["data"])


def make_router(board, store=None):
    from board import config as c
    params = Params({"V_CALIB": c.V_CALIB, "P_CALIB": c.P_CALIB, "PHASE_CALIB": c.PHASE_CALIB},
                    store)
    measure = Measure(c.MID, c.MID_SPAN, c.MID_TOLERANCE, c.V_CALIB, c.P_CALIB, c.PHASE_CALIB, 0)
    return Realtime(board, measure, MainsSync(), params, store, c.ADC_MV_PER_LSB)


def status_line(st, clock):
    return ("%s V=%6.1fV I=%6.3fA P=%+7.1fW S=%7.1fVA cos=%+.3f f=%6.3fHz routed=%6.1fW "
            "status=%s samples=%d/s") % (clock, st.vrms, st.irms, st.p, st.s, st.cosphi, st.hz,
                                         st.routed, "{:08b}".format(st.status), st.samples)


def clock_text(board):
    s = int(board.local_time())
    return "%02d:%02d:%02d" % ((s // 3600) % 24, (s // 60) % 60, s % 60)


class Firmware:
    """One boot of the firmware: router, records and the HTTP server."""

    def __init__(self, board, store, opts):
        self.board = board
        self.opts = opts
        self.rt = make_router(board, store)
        # On the simulated board the command line's port is the factory http_port: served
        # until the owner saves another one (then honoured from the next boot, as on a device).
        sim = board.NAME == "sim"
        self.config = Config(store, {"http_port": int(opts["port"])} if sim else None)
        self.history = History(store)
        self.admin = Admin(store)
        self.rebooting = False
        self.port = self.config.get("http_port")

    def reboot(self):
        self.rebooting = True

    async def run(self):
        from api.app import make_app
        from api.endpoints import Backend
        b = self.board
        rt = self.rt
        app = make_app(Backend(rt, lambda: clock_text(b), self.config, self.history, self.admin,
                               self.reboot))
        controls = getattr(b, "serve_controls", None)    # the simulated house's own routes
        if controls:
            controls(app)
        from api import web
        web.register(app, self.opts["www"], self.config)
        host = "0.0.0.0" if b.NAME == "esp32" else "127.0.0.1"
        server = asyncio.create_task(app.start_server(host=host, port=self.port))
        seconds = float(self.opts["seconds"])
        quiet = self.opts["quiet"] != "0"
        while not self.rebooting:
            if rt.step():
                st = rt.summary()
                self.history.tick(b.epoch(), *st.index)
                if not quiet:
                    print(status_line(st, clock_text(b) if b.NAME == "sim" else ""))
                if seconds and b.seconds() >= seconds:
                    break
            await asyncio.sleep_ms(b.between_windows(rt.next_start()))
        rt.save_energy()
        b.ssr_off()
        app.shutdown()
        await server


def main(argv):
    opts = _args(argv)
    board = make_board(opts)
    store = Store(board.data_dir)
    while True:
        fw = Firmware(board, store, opts)
        asyncio.run(fw.run())
        if not fw.rebooting:
            return
        # rebootesp: on the chip a real reset; on the simulated board the firmware starts
        # again in this process (the house goes on), from what it saved.
        board.reboot()


if __name__ == "__main__":
    main(sys.argv)
