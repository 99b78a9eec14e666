"""Integer fixed-point helpers for the per-window hot path.

Floats are heap objects on the ESP32 (and small ints stop at 2**30), so code that runs every
mains cycle multiplies by calibration factors held as a 15-bit mantissa and a binary
exponent, prepared once (with floats) whenever a parameter changes.
"""


def to_q(x):
    """Float factor -> (mantissa, exponent) with x ~= mantissa / 2**exponent, |mantissa| < 2**15."""
    if x == 0:
        return 0, 0
    e = 0
    ax = abs(x)
    while ax >= 32768:
        ax /= 2
        e -= 1
    while ax < 16384:
        ax *= 2
        e += 1
    m = int(ax + 0.5)
    if m >= 32768:
        m >>= 1
        e -= 1
    return (m if x > 0 else -m), e


def mulq(a, m, e):
    """a * m / 2**e for |a| < 2**30, |m| < 2**15, without leaving 31-bit small ints.

    `a` is scaled down to 15 significant bits first, so the relative error is below 2**-14.
    The caller guarantees (through parameter ranges) that the result itself fits.
    """
    while a >= 32768 or a < -32768:
        a >>= 1
        e -= 1
    r = a * m
    if e >= 0:
        return r >> e
    return r << -e


def mean_q4(s, n):
    """s / n in units of 1/16, rounding down, for |s| < 2**30 - 2**11, |s / n| < 2**26, n > 0."""
    q = s // n
    return (q << 4) + (((s - q * n) << 4) // n)


def clamp(x, lim):
    """x limited to [-lim, lim]."""
    if x > lim:
        return lim
    if x < -lim:
        return -lim
    return x
