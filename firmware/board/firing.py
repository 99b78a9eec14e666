"""SSR gate pulse trains, shared by every board: the ESP32 writes them to `esp32.RMT`,
the simulated board plays them into its SSR model. One builder, so the sim tests the
timing the chip will produce.

A train is a list of RMT durations in µs, starting low: [low, high, low, high, ...]. Each
high segment fires one half-cycle at its zero + delay and holds the gate (as the original
does) until GATE_GUARD_US before the next zero, so a triac that drops out re-latches. The
train ends low, so if nothing refreshes it the heater goes off by itself.
"""
from micropython import const
from board.config import GATE_GUARD_US, MIN_DELAY_US
from router.ticks import tdiff

RMT_MAX = const(32767)  # longest RMT duration (ticks of 1 µs)


def build(out, now, t_zc, half_q8, delays, count, latency):
    """Fill `out` with the train that fires half-cycle j (zero at t_zc + j*half) at delays[j] µs
    after its zero; delays[j] < 0 skips it. `now` is the tick at which the train is handed
    to the hardware, `latency` the hardware's start delay. Returns the number of durations.
    In the current half-cycle (j = 0), a firing instant already passed fires at once: the
    train being replaced may not have fired it yet (its instant may still be ahead), and
    firing now gives a power between the old and the new command, where skipping would give
    none; on a triac already conducting the extra pulse does nothing. Later half-cycles are
    never late.
    """
    base = tdiff(t_zc, now) - latency
    half = half_q8 >> 8
    pos = 0
    k = 0
    j = 0
    while j < count:
        d = delays[j]
        if d >= 0:
            if d < MIN_DELAY_US:
                d = MIN_DELAY_US
            zc = base + ((j * half_q8) >> 8)
            on = zc + d
            off = zc + half - GATE_GUARD_US
            if j == 0 and on <= pos:
                on = pos + 1
            if on > pos and off > on:
                if on - pos > RMT_MAX:
                    break
                out[k] = on - pos
                out[k + 1] = off - on
                k += 2
                pos = off
        j += 1
    return k
