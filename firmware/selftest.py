"""The self-test's runner: /api/action?selftest, and once at the first healthy start of a
board without a report (main.py). It measures, through the router's interface (realtime.py)
and the board's probe(), has router/selftest.py judge, and saves the report as the record
`selftest` (records/store.py), which /api/get?selftest serves. docs/setup.md's "Self-test"
is the owner's view of each check.

A cold feature: imported only to run a test or to answer for its report, and taken out of
sys.modules again (with router/selftest.py and the chip's probes) once no test runs, so a
board keeps none of it between tests.

Real time. The runner is one asyncio task beside the router's loop, which yields between its
windows (~23-43 ms apart; ~3 ms or more to the other tasks, realtime.MIN_GAP_US), so each
of the runner's steps must be over well within that gap:
- reading the router's figures (rt.state, rt.window_figures()) and its commands take tens of
  µs; between two reads the runner sleeps (WATCH_MS, SETTLE_MS), so it never spins;
- each board probe is one slice under a millisecond (board/esp32_probe.py gives each one's
  figure: 32 ADC reads, ~0.5 ms; one gate pulse, ~0.4 ms), with the router's windows running
  between slices (ADC_SLICES of them);
- judging and the report's two writes to the flash (a few ms, as every record's save) come
  once, at the start and at the end.
What takes seconds is waiting for the router's once-a-second reports with the SSR or the
relay in a known state: the test lasts about 12 s, the router routing meanwhile except
that the SSR stays stopped from the current check to the end.

The SSR and the relay are driven only through the router's commands (set_ssr_mode,
set_relay_mode), and the owner's modes are given back at the end, unless the owner changed
them meanwhile. As those commands do, a running boost ends, and RelayPlus waits for its
next reference hour. The report is saved "running", with the owner's modes, before the
first command: a reset in the middle (a power cut, the watchdog) then leaves the modes the
test had set (saved with persist_modes), and the next start runs the test again and gives
the owner's modes back (at_boot).
"""
import sys
import asyncio
from router.status import STOP, AUTO, MODES
from router.window import SAMPLES
from realtime import Refused

RECORD = "selftest"
WATCH_S = 2.0          # s of the router's windows watched for the capture's figures
WATCH_MS = 37          # between two looks at the last window (not a multiple of a cycle)
SETTLE_S = 2.1         # after a command, a report whose whole second follows it
SETTLE_MS = 50         # between two looks at the router's report
ADC_SLICES = 4         # ADC probes, with the router's windows between them
TIMEOUT_S = 10.0       # the longest wait for a report (a router that stopped reporting)
_WORDS = {STOP: "stop", 1: "force", AUTO: "auto"}   # the modes as /api/set writes them

RUNNING = "The self-test is running (about 12 s): the SSR is stopped meanwhile."

_task = None           # the running test's task
_report = None         # the running test's report (what /api/get?selftest answers meanwhile)


def _valid(d):
    return isinstance(d, dict) and d.get("state") in ("running", "done")


def at_boot(fw):
    """At the first healthy start: runs the test if the flash has no report, or one that a
    reset cut short (then the owner's modes it saved are given back at its end)."""
    rec = fw.config.store.read(RECORD, _valid)
    if rec is None or rec["state"] == "running":
        start(fw, rec)
    else:
        _unload()


def start(fw, cut=None):
    """Start a test (True), or leave the running one to go on (False). Refused in safe mode
    (there is no router to test) or without a firmware (an API without main.py's)."""
    global _task, _report
    if fw is None or fw.safe is not None:
        raise Refused("the self-test needs the router running (it is stopped: safe mode)")
    if _task is not None:
        return False
    _report = {"state": "running", "checks": [], "summary": RUNNING}   # until _run's own
    _task = asyncio.create_task(_run(fw, cut))
    return True


def report(fw):
    """The running test's report, or the last one saved, or an idle one."""
    if _report is not None:
        return _report
    rec = fw.config.store.read(RECORD, _valid) if fw is not None else None
    _unload()
    if rec is None:
        return {"state": "idle", "checks": [],
                "summary": "No self-test has run yet: /api/action?selftest starts one."}
    return rec


def _unload():
    """Out of the heap once no test runs: the modules, and their names on their packages."""
    if _task is not None:
        return
    for name, pkg, attr in (("router.selftest", "router", "selftest"),
                            ("board.esp32_probe", "board", "esp32_probe"),
                            ("selftest", None, None)):
        sys.modules.pop(name, None)
        p = sys.modules.get(pkg) if pkg else None
        if p is not None:
            try:
                delattr(p, attr)
            except Exception:        # not there (AttributeError; KeyError on MicroPython)
                pass


async def _summary_after(rt, b, t):
    """Until the router's report is from board time `t` or later; False after TIMEOUT_S."""
    st = rt.state
    end = t + TIMEOUT_S
    while st.at is None or st.at < t:
        if b.seconds() > end:
            return False
        await asyncio.sleep_ms(SETTLE_MS)
    return True


async def _settled(rt, b):
    return await _summary_after(rt, b, b.seconds() + SETTLE_S)


async def _watch(rt, b, m):
    """The capture's figures over WATCH_S of the router's windows."""
    end = b.seconds() + WATCH_S
    last = None
    n = span = late = zc = seen = whole = 0
    want = 0.0
    f = None
    while b.seconds() < end or seen < 10:
        f = rt.window_figures()
        if f != last and f[1] > 0:
            last = f
            seen += 1
            n += f[0]
            span += f[1]
            want += 256e6 / f[2] if f[2] else 0.0
            late = max(late, f[3])
            if f[0] >= SAMPLES:       # a window cut short at a step holds no crossing
                whole += 1
                zc += 1 if f[4] else 0
        if b.seconds() > end + TIMEOUT_S:
            break
        await asyncio.sleep_ms(WATCH_MS)
    if seen:
        m["rate"] = n * 1e6 / span
        m["want"] = want / seen
        m["late_us"] = late
        m["zc"] = zc / whole if whole else 0.0
        m["mid_v"] = f[5] / 256
        m["mid_i"] = f[6] / 256


async def _measure(fw, m, owner):
    rt = fw.rt
    b = fw.board
    st = rt.state
    us = []
    for _ in range(ADC_SLICES):
        us.append(b.probe("adc")["us"])
        await asyncio.sleep_ms(WATCH_MS)
    m["read_us"] = sum(us) / len(us)
    await _watch(rt, b, m)
    await _summary_after(rt, b, b.seconds())
    m["hz"] = st.hz
    m["vrms"] = st.vrms
    m["p_before"] = st.p
    m["routed_before"] = st.routed
    rt.set_ssr_mode(STOP)            # the heater off for the current and the relay checks
    m["set"][0] = STOP
    if not await _settled(rt, b):
        return
    m["irms_off"] = st.irms
    m["p_off"] = st.p
    powers = []
    for mode in (STOP, 1, STOP):     # the relay off, forced on, off
        rt.set_relay_mode(mode)
        m["set"][1] = mode
        if not await _settled(rt, b):
            return
        powers.append(st.p)
    m["relay"] = powers
    r = b.probe("rmt")               # the SSR is stopped: the pulse does not disturb routing
    m["rmt_us"] = r["us"]
    m["rmt_how"] = r["how"]


def _restore(rt, owner, set_by_test):
    """The owner's modes back, where the last mode the test set is still in force (the
    relay forced on included: a test that stops early must not leave it so); a mode the
    owner changed meanwhile stays."""
    st = rt.state
    if set_by_test[0] is not None and st.ssr_mode == set_by_test[0] != owner[0]:
        rt.set_ssr_mode(owner[0])
    if set_by_test[1] is not None and st.relay_mode == set_by_test[1] != owner[1]:
        rt.set_relay_mode(owner[1])


async def _run(fw, cut):
    global _task, _report
    rt = fw.rt
    b = fw.board
    st = rt.state
    store = fw.config.store
    clock = fw.clock
    owner = (st.ssr_mode, st.relay_mode)
    old = cut.get("owner") if cut else None
    if isinstance(old, list) and len(old) == 2 and old[0] in MODES and old[1] in MODES:
        owner = tuple(old)           # the modes before the test a reset cut short
    t0 = b.seconds()
    rep = {"state": "running", "uptime": round(t0, 1),
           "utc": int(clock.utc()) if clock.known() else None,
           "owner": list(owner), "checks": [],
           "summary": RUNNING}
    if cut:
        rep["note"] = "The last self-test was cut short by a reset: this one replaces it."
    if st.boost:
        rep["note"] = "The boost that was running was ended by the self-test."
    _report = rep
    store.write(RECORD, rep)
    m = {"set": [None, None]}      # the modes the test set last (SSR, relay)
    error = None
    try:
        await _measure(fw, m, owner)
    except Exception as e:           # a probe the board lacks, a command refused: reported
        error = "%s: %s" % (type(e).__name__, e)
    finally:
        try:
            _restore(rt, owner, m["set"])
        except Exception as e:
            error = error or "%s: %s" % (type(e).__name__, e)
    from board import config as c
    from router.selftest import judge, summary
    checks = judge(m, {"mid": c.MID, "mid_tol": c.MID_TOLERANCE, "rmt_us": c.RMT_LATENCY_US})
    done = {"state": "done", "uptime": rep["uptime"], "utc": rep["utc"],
            "seconds": round(b.seconds() - t0, 1), "checks": checks,
            "summary": summary(checks),
            "modes": {"ssr": _WORDS.get(st.ssr_mode), "relay": _WORDS.get(st.relay_mode)}}
    if "note" in rep:
        done["note"] = rep["note"]
    if error:
        done["error"] = error
        done["summary"] += " The test stopped early: " + error + "."
    store.write(RECORD, done)
    _report = None
    _task = None
    _unload()
