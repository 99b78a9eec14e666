"""Routed power -> firing delay, by the inverse of the half-sine energy curve.

A half-cycle fired at angle a (0..pi after the zero) delivers the fraction
f(a) = (pi - a + sin(2a)/2) / pi of full-conduction energy. The table holds the inverse,
a/pi in 1/65535, for 512 equal steps of f; linear interpolation between them is within
0.075 % of full power everywhere. The delay is then a/pi times the *measured* half period,
so it is right at 50 and 60 Hz and follows the frequency, to the µs. (EcoPV's table was 256
bytes of 64 µs ticks, for 50 Hz only, ~8 % off at mid range.)
"""
import math
from array import array
from micropython import const

STEPS = const(512)


def _fraction(a):
    return (math.pi - a + math.sin(2 * a) / 2) / math.pi


def _angle(x):
    # f is monotonic on [0, pi]: bisection, once per entry at import.
    lo, hi = 0.0, math.pi
    for _ in range(40):
        mid = (lo + hi) / 2
        if _fraction(mid) > x:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


TABLE = array("H", [int(_angle(i / STEPS) / math.pi * 65535 + 0.5) for i in range(STEPS + 1)])


def delay_us(frac_q16, half_us):
    """Firing delay (µs after the zero) that delivers frac_q16/65536 of full power."""
    if frac_q16 <= 0:
        return half_us
    if frac_q16 >= 65536:
        return 0
    i = frac_q16 >> 7            # 65536 / STEPS = 128
    r = frac_q16 & 127
    a = TABLE[i] + (((TABLE[i + 1] - TABLE[i]) * r) >> 7)
    return (a * half_us) >> 16


def fraction_q16(delay, half_us):
    """Inverse of delay_us (for reporting and tests): fraction of full power, 1/65536."""
    if delay <= 0:
        return 65536
    if delay >= half_us:
        return 0
    return int(_fraction(math.pi * delay / half_us) * 65536 + 0.5)
