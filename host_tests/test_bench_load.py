"""The regulation benchmark's load (bench/load.py): the firmware's own HTTP, MQTT and flash
work really runs between windows, and the simulated board charges the router's loop for
it at the chip's speed (SimBoard.charge), so that `make bench` shows regulation under the
traffic of an owner's everyday."""
import json
import os

from conftest import ROOT, run_mp

SETUP = """
import sys, json, asyncio
sys.path.append(%r)
from board.sim.board import SimBoard
from router.status import STOP
import main
""" % os.path.join(ROOT, "bench")


def test_charged_work_holds_the_loop_at_the_chip_s_speed():
    r = run_mp(SETUP + """
out = {}
for charge in (0, 1000):
    b = SimBoard("load_steps")
    rt = main.make_router(b)
    while b.seconds() < 3:
        rt.step()
        b.between_windows(rt.next_start())
    rt.step()
    t = b.now
    b.charge(charge)
    b.between_windows(rt.next_start())
    out[charge] = b.now - t
out["factor"] = b.cpu_factor
print(json.dumps(out))
""")
    # 1 ms of host work is 62 ms of the chip's, spent before the next window can start
    assert r["factor"] == 62
    assert r["1000"] - r["0"] >= 62000 - 10000      # less the idle time it fills


def test_the_normal_load_runs_the_firmware_s_work_and_slows_the_loop():
    r = run_mp(SETUP + """
from load import Load
def run(profile):
    b = SimBoard("load_steps")
    rt = main.make_router(b)
    rt.set_relay_mode(STOP)
    ld = Load(b, rt, profile) if profile else None
    async def loop():
        if ld:
            await ld.start({"ui": 400, "ha": 400, "ui_history": 350, "mqtt": 14, "flash": 25})
        while b.seconds() < 27:
            if rt.step():
                rt.summary()
            if ld:
                await ld.gap()
            b.between_windows(rt.next_start())
    asyncio.run(loop())
    return b, rt, ld
b0, rt0, _ = run(None)
b1, rt1, ld = run("normal")
print(json.dumps({"idle": rt0.windows / b0.seconds(), "busy": rt1.windows / b1.seconds(),
                  "steps": ld.steps, "answers": ld.answers, "routed": rt1.state.routed,
                  "saved": ld.config.store.read("energy") is not None,
                  "report": ld.report(b1.cpu_factor)}))
""", timeout=600)
    # every job ran, as often as its period says, on the firmware's own code
    assert r["steps"]["ui"] == 27 and r["steps"]["ha"] == 6 and r["steps"]["ui_history"] == 2
    assert r["steps"]["mqtt"] >= 27 * 26 and r["steps"]["flash"] == 1
    assert all(a == "HTTP/1.0 200 OK" for a in r["answers"].values()), r["answers"]
    assert r["saved"]                                   # the energy record is on the "flash"
    # a request is ~25 ms of the chip's, the flash save ~47 ms (its erase)
    assert 20 < r["report"]["ui"][2] < 30 and 45 < r["report"]["flash"][2] < 50
    # the loop gave up windows to that work, and still routes
    assert r["busy"] < r["idle"] - 0.3
    assert r["routed"] > 1000
