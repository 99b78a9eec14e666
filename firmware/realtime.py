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
from router.window import LEN, SAMPLES, IN_N, IN_PERIOD, IN_VMID, IN_IMID, IN_START
from router.ticks import tdiff, tadd
from router.measure import Report

HORIZON = const(7)     # half-cycles queued per window: the current one + 60 ms (windows ~30 ms apart)
# Windows start just after a predicted zero crossing and span one period, so they hold two
# whole half-cycles, each fired under the command given after the previous window.
AFTER_ZERO_US = const(150)
LATE_START_US = const(100)  # a window up to this late on its zero still starts (unaligned by it)
MIN_GAP_US = const(3000)   # left to the other asyncio tasks between two windows


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
        self.rnd = 1
        self.last = Report()
        self.t_summary = board.ticks_us()

    def step(self):
        """Run one window. Returns True when a once-a-second summary is due."""
        b = self.board
        m = self.measure
        s = self.sync
        acc = self.acc
        now = b.ticks_us()
        if s.locked:
            z = tadd(s.last_zero(now), AFTER_ZERO_US)
            if tdiff(now, z) > LATE_START_US:
                z = tadd(z, s.period_q8 >> 9)
            now = z
        acc[IN_N] = SAMPLES
        acc[IN_PERIOD] = s.sample_period_q8()
        acc[IN_VMID] = m.v_mid
        acc[IN_IMID] = m.i_mid
        acc[IN_START] = now
        b.capture(acc)
        m.window(acc)
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

    def next_start(self):
        """Tick at which the next window should start (for the loop to sleep until then).

        One window in four (pseudo-randomly) waits one half-cycle more, so that the window
        cadence cannot lock onto the switching pattern of another appliance."""
        now = self.board.ticks_us()
        if not self.sync.locked:
            return now
        self.rnd = (self.rnd * 75 + 74) % 65537
        gap = MIN_GAP_US + ((self.sync.period_q8 >> 9) if self.rnd & 3 == 0 else 0)
        return tadd(self.sync.next_zero(tadd(now, gap)), AFTER_ZERO_US)

    def summary(self):
        now = self.board.ticks_us()
        seconds = tdiff(now, self.t_summary) / 1e6
        self.t_summary = now
        return self.measure.report(self.last, self.sync, seconds)
