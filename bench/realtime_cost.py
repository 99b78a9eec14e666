"""CPU cost of the real-time window on the MicroPython unix port: viper capture vs bytecode.

    make bench        (or: .venv/bin/python bench/realtime_cost.py)

This CPython driver runs one MicroPython unix-port process (`.venv/bin/micropython`, firmware/
on its path, as host_tests/conftest.py does), which times, per window of one mains cycle
(SAMPLES = 100 pairs; the capture reads 101, the first only seeds the lags):

  (1) the capture loop alone (board/capture.py)      (2) Measure.window
  (3) MainsSync.update                                (4) the whole Realtime.step

each with the capture as shipped (@micropython.viper) and with the same source compiled as
plain bytecode (decorator stripped, `ptr32 = lambda x: x`), side by side in the same process,
together with the baselines they are normalised to (never a lone absolute time):
the board's I/O alone (a viper loop of 101 iterations making the capture's calls to ticks_us,
read_v and read_i, with none of its arithmetic) and the timing harness itself.

The board is a ReplayBoard (allocation-free, table driven) on its virtual clock, paced so
that no busy-wait ever spins (see PACING below); wall time is measured with time.ticks_us
(the host clock). Each figure is the median over REPS repetitions of WINDOWS windows, the
repetitions interleaving every timer of both variants. The process prints one JSON line;
this driver prints the table, and exits non-zero if MicroPython fails or a check shows the
figures would not measure what they claim. No network; a few seconds in all.
"""
import json
import os
import platform
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIRMWARE = os.path.join(ROOT, "firmware")
MICROPYTHON = os.path.join(ROOT, ".venv", "bin", "micropython")
WINDOWS = 300     # windows per repetition
REPS = 15         # repetitions; the median is reported
TIMEOUT_S = 55    # the whole benchmark must stay under a minute

# Runs under MicroPython (cwd firmware/), kept here so that the benchmark is one file.
# (%-formatted by run_micropython: literal percent signs are doubled.)
MP_CODE = r"""
import gc, json, sys, time
import micropython
from array import array
from router.window import SAMPLES
import board.sim.replay as replay
from board.sim.replay import ReplayBoard
from main import make_router

WINDOWS = %(windows)d
REPS = %(reps)d
ticks_us = time.ticks_us
ticks_diff = time.ticks_diff


# --- The bytecode twin of the capture: the same source, without the viper decorator.
def bytecode_variant(src, name):
    n = src.count("@micropython.viper\n")
    if n != 1:
        raise RuntimeError("%%s: expected one @micropython.viper, found %%d" %% (name, n))
    ns = {"__name__": name + "_bytecode", "ptr32": lambda x: x}
    exec(src.replace("@micropython.viper\n", ""), ns)
    return ns


with open("board/capture.py") as f:
    CAPTURE = {"viper": replay._capture,
               "bytecode": bytecode_variant(f.read(), "capture")["capture"]}


# ReplayBoard.capture calls its module's global _capture at each call: pointing that at one
# variant or the other runs the very same board and router code around either capture.
def use(variant):
    replay._capture = CAPTURE[variant]


# --- Baseline [a]: the board's I/O alone. The capture makes one ticks_us call for t0, then
# per pair one in its busy-wait (exactly one here, see PACING), one for the timestamp,
# read_v and read_i; this loop makes the same calls and nothing else.
IO_SRC = '''
import micropython
@micropython.viper
def io_loop(read_v, read_i, ticks_us, n: int) -> int:
    t = int(ticks_us())
    k = 0
    while k <= n:
        t = int(ticks_us())
        t = int(ticks_us())
        rv = int(read_v())
        ri = int(read_i())
        k += 1
    return k
'''
_ns = {"__name__": "io_viper"}
exec(IO_SRC, _ns)
IO = {"viper": _ns["io_loop"], "bytecode": bytecode_variant(IO_SRC, "io")["io_loop"]}

# --- Pacing. The capture busy-waits on ticks_us for each sample's slot (period/100 = 200 us
# at 50 Hz). On a real clock that spin is pacing, not work, and would swamp the figures.
# ReplayBoard's virtual clock advances spin_us per ticks_us call and adc_us per read; with
# spin_us=1 and adc_us=99 one pair advances it by 1 + 1 + 99 + 99 = 200 us: the two
# "conversions" fill the slot, so the busy-wait's first check always finds its slot reached
# and each pair costs exactly the calls and arithmetic the chip executes, minus the spins.
# The sample timing stays exact (2 us lag: no lateness flag; the PLL locks as on the chip),
# and ReplayBoard's ticks_us/read_* are unchanged, so their per-call cost is the shipped
# board's. Rejected: a large spin_us alone also exits the wait at once, but then every
# sample lands late, the window stretches and the RATE flag is raised; a ticks_us that jumps
# to the next slot needs slot bookkeeping, i.e. extra Python work in every call. The wait
# for the window's start (Realtime.step starts it just after a zero) is skipped as main.py's
# loop skips it, board.between_windows(rt.next_start()) between steps, outside the timed
# region. The checks count the capture's ticks_us calls to prove that nothing spins.
PACING = {"spin_us": 1, "adc_us": 99}


def glue(rt):
    # What main.router_task does between two windows (the board's "sleep" to the next start).
    rt.board.between_windows(rt.next_start())


def locked_router():
    # The replayed current is exported (phase 180°): AUTO regulates, so each step runs the
    # whole path (controller, firing angle, SSR train).
    rt = make_router(ReplayBoard(phase_deg=180, **PACING))
    for _ in range(60):                 # lock the PLL
        rt.step()
        glue(rt)
    if not rt.sync.locked:
        raise RuntimeError("PLL did not lock on the replay board")
    for _ in range(10):
        rt.step()
        glue(rt)
    return rt


# --- Timers: each times WINDOWS windows and returns the total in us.
def t_io(io, args):
    rv, ri, tk = args[0], args[1], args[2]
    t = ticks_us()
    for _ in range(WINDOWS):
        io(rv, ri, tk, SAMPLES)
    return ticks_diff(ticks_us(), t)


def t_capture(cap, args):
    # args: what Realtime.step passed to the capture (recorded); fixed arity, no allocation.
    if len(args) != 4:
        raise RuntimeError("the capture no longer takes 4 arguments: update t_capture")
    a0, a1, a2, a3 = args
    t = ticks_us()
    for _ in range(WINDOWS):
        cap(a0, a1, a2, a3)
    return ticks_diff(ticks_us(), t)


class Noop:
    def update(self, acc, present, now):
        pass


def t_update(s, rec):
    # Also the harness baseline [b] (s = Noop()): the loop, three list reads, a method call.
    accs, presents, nows, saved = rec
    for k in saved:
        setattr(s, k, saved[k])
    upd = s.update
    t = ticks_us()
    for k in range(WINDOWS):
        upd(accs[k], presents[k], nows[k])
    return ticks_diff(ticks_us(), t)


def t_window(m, rec):
    win = m.window
    t = ticks_us()
    for a in rec[0]:
        win(a)
    return ticks_diff(ticks_us(), t)


def t_step(rt, _):
    # Each step timed on its own, so that the loop's skip to the next window start stays out
    # of the figure (the host clock's 1 us steps average out over the windows).
    step = rt.step
    b = rt.board
    total = 0
    for _ in range(WINDOWS):
        t = ticks_us()
        step()
        total += ticks_diff(ticks_us(), t)
        b.between_windows(rt.next_start())
    return total


def record_windows(rt):
    # WINDOWS consecutive windows as Realtime.step hands them to MainsSync.update (a copy of
    # acc, present, now) and the PLL state before the first: window() and update() are then
    # timed on real data, and every repetition of update() replays the same PLL path.
    s = rt.sync
    accs = []
    presents = []
    nows = []
    saved = dict(s.__dict__)
    real = s.update

    def recorder(acc, present, now):
        accs.append(array("i", acc))
        presents.append(present)
        nows.append(now)
        real(acc, present, now)

    s.update = recorder
    for _ in range(WINDOWS):
        rt.step()
        glue(rt)
    del s.update
    if not s.locked:
        raise RuntimeError("PLL lost lock while recording")
    return accs, presents, nows, saved


def record_capture_args(rt):
    got = []
    real = replay._capture

    def recorder(*args):
        got.append(args)
        return real(*args)

    replay._capture = recorder
    try:
        rt.step()
    finally:
        replay._capture = real
    glue(rt)
    return got[0]


def variant(name):
    # The timers of one variant, {timer: (fn, obj, data)}. Each has its own objects, so that
    # none disturbs another (a board clock moved on by the capture timer would make a
    # router's PLL lose lock; a replayed update() rewinds its PLL).
    use(name)
    rt = locked_router()                # (4)
    rec_rt = locked_router()            # (2), (3), [b]
    rec = record_windows(rec_rt)
    cap_rt = locked_router()            # (1), [a]: they only move this router's board clock
    args = record_capture_args(cap_rt)
    timers = {
        "io": (t_io, IO[name], args),
        "harness": (t_update, Noop(), (rec[0], rec[1], rec[2], {})),
        "capture": (t_capture, CAPTURE[name], args),
        "window": (t_window, rec_rt.measure, rec),
        "update": (t_update, rec_rt.sync, rec),
        "step": (t_step, rt, None),
    }
    return timers, rt, args


def checks(name, rt, args):
    use(name)
    b = rt.board
    r = {}
    # Heap allocated per step (GC off); the step still fires and stays locked.
    gc.collect()
    gc.disable()
    trains = b.trains
    h = gc.mem_alloc()
    for _ in range(WINDOWS):
        rt.step()
        glue(rt)
    r["alloc_per_step"] = (gc.mem_alloc() - h) / WINDOWS
    gc.enable()
    r["fired"] = (b.trains - trains) / WINDOWS
    # ticks_us calls per capture, within Realtime.step and in the capture timer's setting:
    # 1 + 2 x 101 when neither the window's start nor any slot is waited for.
    n = [0]
    tk = b._ticks

    def counted():
        n[0] += 1
        return tk()

    b._ticks = counted
    for _ in range(WINDOWS):
        rt.step()
        glue(rt)
    b._ticks = tk
    r["ticks_calls_step"] = n[0] / WINDOWS
    r["locked"] = rt.sync.locked
    m = [0]
    tk2 = args[2]

    def counted2():
        m[0] += 1
        return tk2()

    for _ in range(20):
        CAPTURE[name](args[0], args[1], counted2, args[3])
    r["ticks_calls_capture"] = m[0] / 20
    return r


def same_results():
    # Two routers from the same state, one per variant, stepped in lockstep: every window's
    # acc (inputs, sums, crossings) must be identical.
    rts = {}
    for name in CAPTURE:
        use(name)
        rts[name] = locked_router()
    for _ in range(50):
        out = []
        for name in CAPTURE:
            use(name)
            rts[name].step()
            glue(rts[name])
            out.append(list(rts[name].acc))
        if out[0] != out[1]:
            return False
    return True


same = same_results()
variants = {}
for name in CAPTURE:
    variants[name] = variant(name)
# Interleaved: each repetition runs every timer of both variants once, so that slow drift of
# the host (frequency scaling, other load) hits all figures alike and per-repetition
# differences (capture - I/O) are paired.
times = {}
for name in variants:
    times[name] = {}
    for k in variants[name][0]:
        times[name][k] = []
for _ in range(REPS):
    for name in variants:
        use(name)
        timers = variants[name][0]
        for k in timers:
            fn, obj, data = timers[k]
            gc.collect()
            gc.disable()
            try:
                times[name][k].append(fn(obj, data) / WINDOWS)
            finally:
                gc.enable()
res = {
    "version": sys.version,
    "impl": list(sys.implementation.version[:3]),
    "windows": WINDOWS,
    "reps": REPS,
    "samples": SAMPLES,
    "same_results": same,
    "times": times,
    "checks": {},
}
for name in variants:
    res["checks"][name] = checks(name, variants[name][1], variants[name][2])
use("viper")
print(json.dumps(res))
"""


def run_micropython():
    if not os.path.exists(MICROPYTHON):
        sys.exit("bench: %s not found (run `make bench`, which installs it)" % MICROPYTHON)
    env = dict(os.environ, MICROPYPATH=".frozen:" + FIRMWARE)
    code = MP_CODE % {"windows": WINDOWS, "reps": REPS}
    try:
        p = subprocess.run([MICROPYTHON, "-c", code], cwd=FIRMWARE, env=env,
                           capture_output=True, text=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        sys.exit("bench: micropython did not finish within %d s" % TIMEOUT_S)
    if p.returncode != 0:
        sys.stderr.write(p.stdout[-4000:] + p.stderr[-4000:])
        sys.exit("bench: micropython exited with status %d" % p.returncode)
    lines = [ln for ln in p.stdout.splitlines() if ln.strip()]
    try:
        return json.loads(lines[-1])
    except (IndexError, ValueError):
        sys.stderr.write(p.stdout[-4000:] + p.stderr[-4000:])
        sys.exit("bench: no result from micropython")


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


def iqr(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[(3 * n) // 4] - xs[n // 4]


def us(x):
    return "%.3f" % x if abs(x) < 1 else "%.2f" % x


def main():
    t_start = time.monotonic()
    r = run_micropython()
    t = r["times"]
    pairs = r["samples"] + 1                     # pairs read per window (the first seeds lags)
    nrep = r["reps"]

    def per_rep(name, f):
        # Derived figures are computed within each repetition (the timers ran interleaved),
        # then the median is taken: differences of paired runs, not of medians.
        return [f({k: t[name][k][i] for k in t[name]}) for i in range(nrep)]

    base = median(t["viper"]["io"])              # viper board I/O per window: the unit
    rows = [   # (label, f(one repetition's timings) -> µs)
        ("baseline: board I/O only, per window [a]", lambda x: x["io"]),
        ("baseline: timing harness, per window [b]", lambda x: x["harness"]),
        ("(1) capture loop, per window", lambda x: x["capture"]),
        ("    per sample pair (/%d)" % pairs, lambda x: x["capture"] / pairs),
        ("    minus board I/O [a], per window", lambda x: x["capture"] - x["io"]),
        ("    minus board I/O [a], per pair", lambda x: (x["capture"] - x["io"]) / pairs),
        ("(2) Measure.window", lambda x: x["window"]),
        ("(3) MainsSync.update", lambda x: x["update"]),
        ("(4) Realtime.step (whole window)", lambda x: x["step"]),
        ("    step minus (1)+(2)+(3) [c]",
         lambda x: x["step"] - x["capture"] - x["window"] - x["update"]),
    ]

    print()
    print("Real-time cost per window on the MicroPython unix port: viper capture (as shipped)"
          " vs the same capture as bytecode")
    print("MicroPython %s (%s) on %s %s; host clock time.ticks_us; median of %d interleaved"
          " repetitions x %d windows; window = %d sample pairs" % (
              ".".join(map(str, r["impl"])), r["version"].split("; ")[-1], platform.system(),
              platform.machine(), nrep, r["windows"], r["samples"]))
    print()
    w = max(len(x[0]) for x in rows)
    hdr = "%-*s  %11s  %6s  %11s  %6s  %9s %10s  %9s" % (
        w, "quantity", "viper µs", "±", "bytecode µs", "±", "bc/viper", "viper/[a]", "bc/[a]")
    print(hdr)
    print("-" * len(hdr))
    for label, f in rows:
        xs = per_rep("viper", f)
        ys = per_rep("bytecode", f)
        x, y = median(xs), median(ys)
        ex, ey = iqr(xs) / 2, iqr(ys) / 2
        rough = ex > 0.25 * abs(x) or ey > 0.25 * abs(y)
        print("%-*s  %11s  %6s  %11s  %6s  %8.2fx%s %9.3f  %9.3f" % (
            w, label, us(x), us(ex), us(y), us(ey), y / x if x else float("nan"),
            "~" if rough else " ", x / base, y / base))
    print("-" * len(hdr))

    v, b = r["checks"]["viper"], r["checks"]["bytecode"]
    calls = 1 + 2 * pairs
    print("± half the interquartile range over the repetitions. bc/viper: bytecode time / viper"
          " time; ~: a ± above 25% of its figure (the ratio is then only an order of magnitude).")
    print("[a] a viper loop of %d iterations making only the capture's board calls (2x ticks_us,"
          " read_v, read_i); the bc column runs it as bytecode." % pairs)
    print("    viper/[a] and bc/[a] divide by the viper [a] = %.2f µs (ReplayBoard's Python"
          " read/ticks methods; on the chip they are C calls)." % base)
    print("[b] the loop with a no-op method call, included in (2) and (3); (1) uses a cheaper"
          " loop, (4) one host clock read per window.")
    print("[c] Realtime.step's own work: window start, capture inputs, SSR train, calls.")
    print("Checks (viper/bytecode): identical acc every window: %s; capture's ticks_us calls"
          " per window %.2f/%.2f in step, %.2f/%.2f alone" % (
              "yes" if r["same_results"] else "NO", v["ticks_calls_step"],
              b["ticks_calls_step"], v["ticks_calls_capture"], b["ticks_calls_capture"]))
    print("        (%d = 1 + 2x%d: no wait ever spins); PLL locked: %s/%s; SSR trains per"
          " step: %.2f/%.2f; heap per step: %.0f/%.0f B." % (
              calls, pairs, v["locked"], b["locked"], v["fired"], b["fired"],
              v["alloc_per_step"], b["alloc_per_step"]))
    print("Note: host (x86-64) figures; an ESP32 is expected to be roughly 20-50x slower"
          " (an estimate, not a measurement: it has to be measured on a board).")
    print("(bench ran in %.1f s)" % (time.monotonic() - t_start))
    # A spin now and then (a slot rounding up by 1 µs) is harmless; a waited-for start is not.
    ok = r["same_results"] and all(
        c["locked"] and c["fired"] > 0 and c["ticks_calls_capture"] == calls
        and calls <= c["ticks_calls_step"] < calls + 0.5 for c in (v, b))
    if not ok:
        sys.exit("bench: a check failed (see above): the figures do not measure what they claim")


if __name__ == "__main__":
    main()
