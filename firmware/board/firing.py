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
# A firing this close behind `now` in the current half-cycle is fired at once: it was due
# within the hardware's start latency, so the train being replaced could no longer fire it.
LATE_OK_US = const(100)


def build(out, now, t_zc, half_q8, delays, count, latency):
    """Fill `out` with the train that fires half-cycle j (zero at t_zc + j*half) at delays[j] µs
    after its zero; delays[j] < 0 skips it. `now` is the tick at which the train is handed
    to the hardware, `latency` the hardware's start delay. Returns the number of durations.
    A half-cycle whose firing instant has passed is skipped, except the current one when
    it is less than LATE_OK_US late: that one fires at once.
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
            if k == 0 and pos - LATE_OK_US < on <= pos:
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
