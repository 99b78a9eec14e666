"""Test harness that runs under MicroPython: drives the firmware's window loop on the
physics board and compares what the router reports with the sim's ground truth."""
import json
from board.sim.board import SimBoard
from board.sim.world import between
from router.ticks import tdiff, MASK
from router.window import NRISE, TRISE
from router.status import ANOMALIES
import main


def run(scenario, seconds, calib=None, skip=2.0, ssr_mode=9):
    """Returns {"rows": [per-second report vs truth], "zc": [count, Σerr, Σerr², max |err|]}
    where err is each window's rising zero-crossing instant minus the true one, in µs."""
    b = SimBoard(scenario)
    rt = main.make_router(b)
    if calib:
        rt.measure.calibrate(*calib)
    rt.set_ssr_mode(ssr_mode)
    rows = []
    zc = [0, 0.0, 0.0, 0.0]
    s0 = None
    h0 = None
    while b.seconds() < seconds:
        due = rt.step()
        acc = rt.acc
        if acc[NRISE] == 1 and b.seconds() > skip:
            t = b.now + tdiff(acc[TRISE], b.now & MASK)
            best = None
            for tz, pol in b.world.truth.zero_crossings():
                if pol > 0 and (best is None or abs(tz - t) < abs(best)):
                    best = tz - t
            if best is not None and abs(best) < 5000:
                zc[0] += 1
                zc[1] -= best
                zc[2] += best * best
                zc[3] = max(zc[3], abs(best))
        if due:
            r = rt.summary()
            s1 = b.truth()
            if s0 is not None and b.seconds() > skip:
                tr = between(s0, s1)
                rows.append({"t": b.seconds(), "vrms": r.vrms, "irms": r.irms, "p": r.p, "s": r.s,
                             "cosphi": r.cosphi, "hz": r.hz, "status": r.status & ANOMALIES,
                             "samples": r.samples, "windows": r.windows,
                             "t_vrms": tr["vrms"], "t_irms": tr["irms"], "t_p": tr["p"],
                             "t_heater": tr["p_heater"], "t_hz": b.world.state.hz,
                             "locked": r.synced, "firing": rt.firing,
                             "routed": rt.state.routed, "st": rt.state.status,
                             "absent": rt.state.load_absent, "relay": rt.state.relay_on})
            s0 = s1
        b.between_windows(rt.next_start())
    return {"rows": rows, "zc": zc}


def report(result):
    print(json.dumps(result))
