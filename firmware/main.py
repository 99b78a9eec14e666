"""Composition root: board -> router -> services -> asyncio loop.

On an ESP32 it drives the real board; anywhere else it runs the simulated board:
    micropython firmware/main.py [--scenario NAME] [--speed X] [--seconds S] [--data DIR]
                                 [--port P] [--quiet 1]
"""
import sys
import asyncio
from router.measure import Measure
from router.mains import MainsSync
from router.params import Params
from realtime import Realtime
from store import Store


def _args(argv):
    opts = {"scenario": "clear_day", "speed": "1", "seconds": "0", "data": "sim_data",
            "port": "8080", "quiet": "0"}
    k = 1
    while k < len(argv):
        a = argv[k]
        if a.startswith("--") and a[2:] in opts and k + 1 < len(argv):
            opts[a[2:]] = argv[k + 1]
            k += 2
        else:
            raise SystemExit("usage: main.py [--scenario NAME] [--speed X] [--seconds S] [--data DIR]"
                             " [--port P] [--quiet 1]")
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
    return Realtime(board, measure, MainsSync(), params, store)


def status_line(r, sm, clock):
    return ("%s V=%6.1fV I=%6.3fA P=%+7.1fW S=%7.1fVA cos=%+.3f f=%6.3fHz routed=%6.1fW "
            "status=%s samples=%d/s") % (clock, r.vrms, r.irms, r.p, r.s, r.cosphi, r.hz,
                                         sm.routed, "{:08b}".format(sm.status), r.samples)


def clock_text(board):
    s = int(board.local_time())
    return "%02d:%02d:%02d" % ((s // 3600) % 24, (s // 60) % 60, s % 60)


async def router_task(rt, board, seconds, quiet):
    while True:
        if rt.step():
            r = rt.summary()
            if not quiet:
                print(status_line(r, rt.sum, clock_text(board) if board.NAME == "sim" else ""))
            if seconds and board.seconds() >= seconds:
                return
        await asyncio.sleep_ms(board.between_windows(rt.next_start()))


async def run(rt, board, opts):
    from api.app import make_app
    from board import config
    app = make_app(rt, config.ADC_MV_PER_LSB, lambda: clock_text(board))
    asyncio.create_task(app.start_server(host="0.0.0.0" if board.NAME == "esp32" else "127.0.0.1",
                                         port=int(opts["port"])))
    await router_task(rt, board, float(opts["seconds"]), opts["quiet"] != "0")
    app.shutdown()


def main(argv):
    opts = _args(argv)
    board = make_board(opts)
    rt = make_router(board, Store(board.data_dir))
    asyncio.run(run(rt, board, opts))


if __name__ == "__main__":
    main(sys.argv)
