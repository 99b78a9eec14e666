"""Wrap-safe arithmetic on the 30-bit microsecond clock.

The ESP32's `time.ticks_us()` wraps at 2**30; the unix port's wraps at 2**62. Every board
returns ticks masked to 30 bits and the router only compares them through these helpers,
so the same code is right on both (and host tests that start the clock near the wrap
exercise the wrap). Every intermediate stays a 31-bit small int (2**30 itself is not one
on the ESP32), so they never allocate.
"""
from micropython import const

MASK = const(0x3FFFFFFF)
HALF = const(0x20000000)


def tdiff(a, b):
    """a - b in µs, signed, for ticks less than 2**29 µs (~9 min) apart."""
    d = (a - b) & MASK
    if d >= HALF:
        return d - MASK - 1
    return d


def tadd(a, d):
    """Tick a + d µs (|d| < 2**29)."""
    if d >= 0:
        r = a - (MASK - d)    # a + d - MASK, a small int
        if r > 0:
            return r - 1      # past the wrap
        return r + MASK
    r = a + d
    if r < 0:
        return r + MASK + 1   # below zero
    return r
