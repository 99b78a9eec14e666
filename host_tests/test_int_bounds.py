"""The hot path must fit the ESP32's integers: 31-bit small ints in bytecode (beyond them
MicroPython allocates a long int), 32-bit machine words in viper. Host interpreters are
64-bit, so overflow would go unnoticed there: these tests check the bounds explicitly.

- The capture's worst case (full-scale signals on both channels, zeros at the edge of their
  allowed span, the longest window) is run, and every local it keeps is checked against
  int32 and every sum it stores against 2**30.
- The per-window router code (measurement, PLL, pulse trains, fixed point) is run with
  `I31`, an int whose every arithmetic result is checked against ±2**30, on worst cases and
  on hypothesis-generated windows anywhere within the capture's bounds.
"""
import operator
import sys
from array import array

import pytest
from hypothesis import given, settings, strategies as st

from board import config
from board.capture import capture
from board import firing
from router import window as W
from router.fixed import mulq, mean_q4, to_q
from router.measure import Measure, V_CALIB_RANGE, P_CALIB_RANGE, PHASE_CALIB_RANGE
from router.mains import MainsSync, MIN_PERIOD_Q8, MAX_PERIOD_Q8

LIM = 1 << 30
V_MAX = max(W.ADC_MAX - (config.MID - config.MID_SPAN), config.MID + config.MID_SPAN)


class I31(int):
    """An int that fails the test when an arithmetic result leaves the 31-bit range."""


def _wrap(name):
    op = getattr(operator, name) if hasattr(operator, name) else None

    def method(self, *args):
        r = getattr(int, "__%s__" % name)(self, *args)
        if r is NotImplemented:
            return r
        if not -LIM <= r < LIM:
            raise OverflowError("%s(%d, %s) = %d leaves the ESP32's 31-bit small ints"
                                % (name, int(self), args, r))
        return I31(r)
    return method


for _n in ("add", "radd", "sub", "rsub", "mul", "rmul", "floordiv", "rfloordiv", "mod", "rmod",
           "lshift", "rlshift", "rshift", "rrshift", "and", "rand", "or", "ror", "neg", "abs"):
    setattr(I31, "__%s__" % _n, _wrap(_n))


def square_wave(lo, hi, half=1):
    state = {"k": 0}

    def read():
        state["k"] += 1
        return (hi if (state["k"] // half) % 2 else lo) << 4
    return read


def clock(step=7):
    t = {"now": (1 << 30) - 500}

    def ticks():
        t["now"] += step
        return t["now"] & 0x3FFFFFFF
    return ticks


def run_capture_traced(read_v, read_i, v_mid, i_mid, period_q8, ref=0, tol=0):
    """Run the capture under CPython, checking every local against int32 at each line."""
    acc = array("i", [0] * W.LEN)
    worst = {"v": 0}

    def tracer(frame, event, arg):
        if frame.f_code is capture.__code__:
            for name, val in frame.f_locals.items():
                if type(val) is int:
                    assert -(1 << 31) <= val < (1 << 31), "viper local %s = %d overflows int32" % (name, val)
                    worst["v"] = max(worst["v"], abs(val))
            return tracer
        return None

    acc[W.IN_N] = W.SAMPLES
    acc[W.IN_PERIOD] = period_q8
    acc[W.IN_VMID] = v_mid
    acc[W.IN_IMID] = i_mid
    acc[W.IN_START] = 0
    acc[W.IN_REF] = W.REF_BIAS + ref
    acc[W.IN_TOL] = tol
    sys.settrace(tracer)
    try:
        capture(read_v, read_i, clock(), acc)
    finally:
        sys.settrace(None)
    return acc, worst["v"]


@pytest.mark.parametrize("v_mid", [config.MID - config.MID_SPAN, config.MID + config.MID_SPAN])
@pytest.mark.parametrize("phase", ["in", "anti"])
@pytest.mark.parametrize("ref", [None, -1, 1])
def test_capture_worst_case_fits_31_bits(v_mid, phase, ref):
    hi_first = phase == "anti"
    rv = square_wave(0, W.ADC_MAX)
    ri = square_wave(W.ADC_MAX, 0) if hi_first else square_wave(0, W.ADC_MAX)
    # The slowest mains (45 Hz) gives the longest slot; the window length itself is SAMPLES.
    # ref: no step test, or one expecting the extreme half-cycle of the other sign (the
    # largest difference it computes), within a tolerance that never ends the window.
    half_max = W.SAMPLES // 2 * V_MAX * V_MAX
    acc, _ = run_capture_traced(rv, ri, v_mid, v_mid, MAX_PERIOD_Q8 // W.SAMPLES,
                                0 if ref is None else ref * half_max,
                                0 if ref is None else LIM - 1)
    for k in range(W.LEN):
        assert -LIM <= acc[k] < LIM, "acc[%d] = %d does not fit a small int" % (k, acc[k])
    assert acc[W.N] == W.SAMPLES
    # It really is the worst case: the squares reach the analytic bound of the docstring.
    assert acc[W.SVV] >= W.SAMPLES * (V_MAX - 1) ** 2 // 2
    assert W.SAMPLES * V_MAX * V_MAX < LIM


def test_capture_bound_is_tight_enough_for_a_longer_window():
    """Documents the margin: one more zero-span step or 40 % more samples would not fit."""
    assert (W.SAMPLES * 14 // 10) * V_MAX * V_MAX >= LIM


def worst_acc(sign=1):
    a = array("i", [0] * W.LEN)
    a[W.N] = W.SAMPLES
    a[W.SV] = sign * W.SAMPLES * V_MAX
    a[W.SI] = -sign * W.SAMPLES * V_MAX
    for k in (W.SVV, W.SII):
        a[k] = W.SAMPLES * V_MAX * V_MAX
    for k in (W.SVI, W.SVI1, W.SV1I):
        a[k] = sign * (W.SAMPLES * V_MAX * V_MAX)
    a[W.SVI1] = -a[W.SVI1]
    a[W.T0] = (1 << 30) - 10
    a[W.T1] = 30000
    a[W.NRISE] = 1
    a[W.TRISE] = (1 << 30) - 1
    a[W.NFALL] = 1
    a[W.TFALL] = 12
    a[W.CLIP] = W.SAMPLES + 1
    a[W.LATE] = (1 << 30) - 1
    return a


class Acc31:
    """Read-only view of a window whose values are I31."""

    def __init__(self, a):
        self.a = [I31(x) for x in a]

    def __getitem__(self, k):
        return self.a[k]


def make_measure(p_calib=P_CALIB_RANGE[1], v_calib=V_CALIB_RANGE[1], phase=-16, offset=100):
    # The widest calibration the measurement accepts gives the largest products.
    return Measure(config.MID, config.MID_SPAN, config.MID_TOLERANCE, v_calib, p_calib, phase, offset)


@pytest.mark.parametrize("sign", [1, -1])
@pytest.mark.parametrize("phase", [PHASE_CALIB_RANGE[0], 16, PHASE_CALIB_RANGE[1]])
def test_measure_window_worst_case_fits_31_bits(sign, phase):
    m = make_measure(phase=phase)
    m.v_mid_q8 = I31(m.v_mid_q8)
    m.i_mid_q8 = I31(m.i_mid_q8)
    for _ in range(50):  # long enough for the tracked zeros to run to their limits
        m.window(Acc31(worst_acc(sign)))


unit = st.floats(-1.0, 1.0)
window_values = st.fixed_dictionaries({
    "n": st.integers(1, W.SAMPLES),
    # Sums as fractions of their bound for n samples (the capture cannot exceed n x V_MAX).
    "sv": unit, "si": unit, "svv": unit, "sii": unit,
    "svi": st.lists(unit, min_size=3, max_size=3),
    "t": st.lists(st.integers(0, (1 << 30) - 1), min_size=4, max_size=4),
    "late": st.integers(0, (1 << 30) - 1),
    "p_calib": st.floats(*P_CALIB_RANGE),
    "v_calib": st.floats(*V_CALIB_RANGE),
    "phase": st.integers(*PHASE_CALIB_RANGE),
    "offset": st.integers(-100, 100),
})


@settings(max_examples=400, deadline=None)
@given(window_values)
def test_measure_and_sync_fit_31_bits_for_any_window(w):
    a = array("i", [0] * W.LEN)
    n = w["n"]
    a[W.N] = n
    a[W.SV], a[W.SI] = int(w["sv"] * n * V_MAX), int(w["si"] * n * V_MAX)
    a[W.SVV], a[W.SII] = int(abs(w["svv"]) * n * V_MAX ** 2), int(abs(w["sii"]) * n * V_MAX ** 2)
    a[W.SVI], a[W.SVI1], a[W.SV1I] = [int(x * n * V_MAX ** 2) for x in w["svi"]]
    a[W.T0], a[W.T1], a[W.TRISE], a[W.TFALL] = w["t"]
    a[W.NRISE] = a[W.NFALL] = 1
    a[W.LATE] = w["late"]
    m = make_measure(w["p_calib"], w["v_calib"], w["phase"], w["offset"])
    acc = Acc31(a)
    m.window(acc)
    s = MainsSync()
    s.locked = True
    s.have_ref = True
    s.t_ref = I31(w["t"][0])
    s.t_good = I31(w["t"][0])
    s.period_q8 = I31(MAX_PERIOD_Q8)
    s.update(acc, True, I31(w["t"][1]))
    if s.locked:
        s.last_zero(I31(w["t"][1]))


@settings(max_examples=300, deadline=None)
@given(st.integers(0, (1 << 30) - 1), st.integers(0, 20000), st.integers(MIN_PERIOD_Q8, MAX_PERIOD_Q8),
       st.lists(st.integers(-1, 12000), min_size=8, max_size=8), st.integers(0, 100))
def test_pulse_train_fits_31_bits(now, ahead, period_q8, delays, latency):
    out = [0] * 64
    t_zc = I31((now + ahead) & 0x3FFFFFFF)
    k = firing.build(out, I31(now), t_zc, I31(period_q8 >> 1), [I31(d) for d in delays], 8, latency)
    assert all(1 <= out[j] <= firing.RMT_MAX for j in range(k))


@settings(max_examples=500, deadline=None)
@given(st.integers(-LIM + 1, LIM - 1), st.floats(1e-6, 1e4), st.integers(-(1 << 24), 1 << 24))
def test_fixed_point_is_accurate_and_bounded(a, x, s):
    m, e = to_q(x)
    exact = a * x
    if abs(exact) < LIM // 2:
        r = mulq(I31(a), m, e)
        assert abs(r - exact) <= abs(exact) * 2 ** -13 + 1
    n = 1 + abs(s) % W.SAMPLES
    s = s % (n * V_MAX * V_MAX) * (1 if s >= 0 else -1)   # a mean is at most V_MAX² (capture bound)
    q = mean_q4(I31(s), I31(n))
    assert q == (s * 16) // n


@settings(max_examples=2000, deadline=None)
@given(st.integers(0, (1 << 30) - 1), st.integers(-(1 << 29) + 1, (1 << 29) - 1))
def test_tick_arithmetic_wraps_like_the_chip_without_long_ints(a, d):
    from router.ticks import tadd, tdiff
    b = tadd(I31(a), I31(d))
    assert b == (a + d) % (1 << 30)
    assert tdiff(I31(b), I31(a)) == d


@settings(max_examples=500, deadline=None)
@given(st.lists(st.tuples(st.integers(-LIM + 1, LIM - 1), st.integers(-LIM + 1, LIM - 1),
                          st.integers(0, W.SAMPLES * V_MAX * V_MAX * 16 // W.SAMPLES),
                          st.integers(0, (1 << 29) - 1)), min_size=1, max_size=6),
       st.integers(7692, 11111), st.sampled_from([0, 1, 9]),
       st.tuples(st.integers(100, 10000), st.integers(-2000, 2000), st.integers(0, 1000),
                 st.integers(0, 1000), st.integers(0, 200)), st.floats(*V_CALIB_RANGE))
def test_controller_fits_31_bits_for_any_window(windows, half, mode, prm, v_calib):
    from router.control import Controller
    c = Controller()
    c.configure(*prm, v_calib)
    c.ssr_mode = mode
    for grid, last, var_v, dt in windows:
        d = c.window(I31(grid), I31(last), I31(var_v), I31(dt), I31(half))
        assert -1 <= d <= half
        # what the next capture is told to expect, in cW as realtime.py passes it
        assert abs(c.expect_w * 100) < LIM and 0 <= c.expect_tol * 100 < LIM


@settings(max_examples=400, deadline=None)
@given(st.integers(-(1 << 26), 1 << 26), st.integers(0, 1 << 26), st.floats(*P_CALIB_RANGE),
       st.floats(*V_CALIB_RANGE), st.integers(-100, 100), st.integers(-(1 << 29), 1 << 29))
def test_the_step_reference_fits_the_capture_s_words(p_cw, tol_cw, p_calib, v_calib, offset,
                                                     raw):
    # The controller's expectation (any grid and command change, x100: cW), with any raw
    # correction of the last half-cycle (two full-scale half-cycle powers apart at most),
    # becomes the capture's IN_REF and IN_TOL: unsigned-safe (REF_BIAS) 30-bit words, whose
    # difference from any half-cycle's sum still fits the viper word.
    m = make_measure(p_calib, v_calib, 16, offset)
    m.raw_cw = I31(raw)
    acc = {}
    m.expect(acc, I31(p_cw), I31(tol_cw))
    half_max = W.SAMPLES // 2 * V_MAX * V_MAX
    assert 0 < acc[W.IN_REF] < LIM and 0 <= acc[W.IN_TOL] < LIM
    assert abs(acc[W.IN_REF] - W.REF_BIAS) <= half_max < W.REF_BIAS


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(-(1 << 24), 1 << 24), st.integers(0, 16000),
                          st.integers(0, (1 << 29) - 1), st.booleans()), min_size=1, max_size=5))
def test_energy_accounting_fits_31_bits(windows):
    from router.energy import Energy
    e = Energy()
    e.wh[0] = e.wh[1] = e.wh[2] = 0
    for grid, routed, dt, relay in windows:
        e.account(I31(grid), I31(routed), I31(min(dt, 5000000)), relay)
