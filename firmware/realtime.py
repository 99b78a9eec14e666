"""The router's window loop: capture -> measure -> synchronise -> fire, once per window.

This is the only code that sequences board and router. `step()` is the hot path (it must
not allocate: host_tests/test_heap.py runs it under micropython.heap_lock()); `summary()`
runs once a second and may use floats.

Safety: firing is queued only from a locked mains PLL and only a few half-cycles ahead, and
every queued train ends with the gate off. So a lost mains, a disturbed signal or a stalled
loop all end in "heater off": by an explicit ssr_off() when lock is lost, and by the train
running out when nothing refreshes it.
"""
from array import array
from micropython import const
from router.window import LEN, SAMPLES
from router.ticks import tdiff
from router.measure import Report

HORIZON = const(7)     # half-cycles queued per window: the current one + 60 ms (windows ~25 ms apart)


class Realtime:
    def __init__(self, board, measure, sync):
        self.board = board
        self.measure = measure
        self.sync = sync
        self.acc = array("i", [0] * LEN)
        self.delays = array("i", [-1] * HORIZON)
        self.fire_delay_us = -1    # commanded firing delay after each zero; < 0: SSR off
        self.firing = False
        self.windows = 0
        self.last = Report()
        self.t_summary = board.ticks_us()

    def step(self):
        """Run one window. Returns True when a once-a-second summary is due."""
        b = self.board
        m = self.measure
        s = self.sync
        b.capture(self.acc, SAMPLES, s.sample_period_q8(), m.v_mid, m.i_mid)
        m.window(self.acc)
        now = b.ticks_us()
        s.update(self.acc, m.present, now)
        d = self.fire_delay_us
        if s.locked and d >= 0:
            for j in range(HORIZON):
                self.delays[j] = d
            b.fire(s.last_zero(now), s.half_q8(), self.delays, HORIZON)
            self.firing = True
        elif self.firing:
            b.ssr_off()
            self.firing = False
        b.wdt_feed()
        self.windows += 1
        return tdiff(now, self.t_summary) >= 1000000

    def summary(self):
        now = self.board.ticks_us()
        seconds = tdiff(now, self.t_summary) / 1e6
        self.t_summary = now
        return self.measure.report(self.last, self.sync, seconds)
