"""Wrap-safe arithmetic on the 30-bit microsecond clock.

The ESP32's `time.ticks_us()` wraps at 2**30; the unix port's wraps at 2**62. Every board
returns ticks masked to 30 bits and the router only compares them through these helpers,
so the same code is right on both (and host tests that start the clock near the wrap
exercise the wrap).
"""
from micropython import const

MASK = const(0x3FFFFFFF)
HALF = const(0x20000000)


def tdiff(a, b):
    """a - b in µs, signed, for instants less than 2**29 µs (~9 min) apart."""
    return ((a - b + HALF) & MASK) - HALF


def tadd(a, d):
    return (a + d) & MASK
