"""A board that replays one precomputed mains cycle from tables, on a virtual clock.

The physics board (board.py) computes every sample with floats, which allocate; this one
only indexes arrays, so the router's hot path can be run under micropython.heap_lock()
and timed in benchmarks without the cost of the physics. Same board interface.
"""
import math
from array import array
from board import config
from board import firing
from board.capture import capture as _capture
from router.ticks import MASK, tdiff
from .clock import START_US, VirtualClock


class ReplayBoard(VirtualClock):
    NAME = "replay"
    I_SKEW_US = config.V_TO_I_SKEW_US

    def __init__(self, hz=50, v_peak=1000, i_peak=500, phase_deg=0.0, v_mid=config.MID,
                 i_mid=config.MID, spin_us=3, adc_us=config.V_TO_I_SKEW_US, gap_us=3500,
                 start_us=START_US, step_us=10):
        self.step = step_us   # table resolution: small tables, so it runs in a small heap
        self.period = int(1e6 / hz / step_us + 0.5)
        ph = math.radians(phase_deg)
        tv = array("H", bytes(2 * self.period))
        ti = array("H", bytes(2 * self.period))
        for t in range(self.period):
            x = 2 * math.pi * t / self.period
            rv = max(0, min(4095, int(v_mid + v_peak * math.sin(x) + 0.5)))
            ri = max(0, min(4095, int(i_mid + i_peak * math.sin(x - ph) + 0.5)))
            tv[t] = (rv << 4) | (rv >> 8)
            ti[t] = (ri << 4) | (ri >> 8)
        self.tv = tv
        self.ti = ti
        self.adc_us = adc_us
        self.gap = gap_us
        self.trains = 0
        self.last_train = 0
        self.relay_on = False
        self._start_clock(start_us, spin_us)

    def read_v(self):
        r = self.tv[(self.now // self.step) % self.period]
        self.now += self.adc_us
        return r

    def read_i(self):
        r = self.ti[(self.now // self.step) % self.period]
        self.now += self.adc_us
        return r

    def capture(self, acc):
        return _capture(self._read_v, self._read_i, self._ticks, acc)

    def fire(self, t_zc, half_q8, delays, count):
        k = firing.build(self.train, self.ticks_us(), t_zc, half_q8, delays, count,
                         config.RMT_LATENCY_US)
        self.trains += 1
        self.last_train = k
        return k

    def ssr_off(self):
        self.last_train = 0

    def relay(self, on):
        self.relay_on = on

    def pulses(self):
        return 0

    def temperature(self):
        return None

    def wdt_feed(self):
        pass

    def utc(self):
        return 0          # a clock never set: no local day, nothing rolls

    def between_windows(self, next_start):
        self.now += self.gap
        ahead = tdiff(next_start, self.now & MASK)
        if ahead > 0:
            self.now += ahead
        return 0
