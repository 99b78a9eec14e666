"""Mains synchronisation: period and zero-crossing phase from the windows' crossings.

Windows are not back to back, so each window's first rising crossing is related to a
reference crossing m whole periods earlier; an alpha-beta filter (a software PLL) then
corrects phase and period. Integer-only (Q8 µs), because it runs every window.

Firing is only ever planned from a locked PLL; losing lock is what stops the heater on a
mains loss or a disturbed signal.
"""
from micropython import const
from router.ticks import tdiff, tadd
from router.window import NRISE, TRISE, NFALL, TFALL, NGLITCH, SAMPLES

LOCK_AFTER = const(3)            # consistent windows in a row before firing is allowed
LOSE_AFTER_US = const(100000)    # no consistent crossing for this long: lock lost
TOL_Q8 = const(1000 << 8)        # a crossing > 1 ms off the prediction is not the mains
MIN_PERIOD_Q8 = const(15384 << 8)  # 65 Hz
MAX_PERIOD_Q8 = const(22222 << 8)  # 45 Hz
MAX_GAP_PERIODS = const(50)      # reference older than this: start again


class MainsSync:
    def __init__(self, hz=50):
        self.nominal_q8 = 256000000 // hz
        self.reset()

    def reset(self):
        self.period_q8 = self.nominal_q8
        self.have_ref = False
        self.t_ref = 0       # tick of the reference rising crossing (+ frac/256 µs)
        self.frac = 0
        self.good = 0
        self.locked = False
        self.t_good = 0
        self.spurious = False   # latched until the once-a-second report reads it

    def sample_period_q8(self):
        return self.period_q8 // SAMPLES

    def half_q8(self):
        return self.period_q8 >> 1

    def update(self, acc, present, now):
        """Feed one window's confirmed crossings. A falling crossing counts as the rising one
        half a period earlier, so every whole window (whichever zero it starts after) feeds
        the PLL; one cut short at a step has none (realtime.py never cuts two running)."""
        nr = acc[NRISE]
        nf = acc[NFALL]
        if present:
            if self.locked and (acc[NGLITCH] or nr > 1 or nf > 1):
                self.spurious = True
            if nr <= 1 and nf <= 1 and nr + nf:
                if not self.locked and nr == 1 and nf == 1:
                    self._acquire(acc[TRISE], acc[TFALL])
                if nr:
                    self._crossing(acc[TRISE])
                else:
                    self._crossing(tadd(acc[TFALL], -(self.period_q8 >> 9)))
        if self.locked and tdiff(now, self.t_good) > LOSE_AFTER_US:
            self.locked = False
            self.good = 0

    def _acquire(self, trise, tfall):
        # Before lock, the rise-to-fall distance within one window gives a coarse period,
        # so the PLL can pull in from 50 Hz to a 60 Hz grid.
        hp = tdiff(tfall, trise)
        if hp < 0:
            hp = -hp
        p = hp << 9
        if MIN_PERIOD_Q8 <= p <= MAX_PERIOD_Q8:
            self.period_q8 = (self.period_q8 + p) >> 1

    def _crossing(self, t):
        if not self.have_ref:
            self._restart(t)
            return
        dt = tdiff(t, self.t_ref)
        per = self.period_q8 >> 8
        m = (dt + (per >> 1)) // per
        if m < 1 or dt > MAX_GAP_PERIODS * per:
            self._inconsistent(t)
            return
        pred = m * self.period_q8 + self.frac
        err = (dt << 8) - pred
        if err > TOL_Q8 or err < -TOL_Q8:
            self._inconsistent(t)
            return
        new = pred + (err >> 2)
        self.t_ref = tadd(self.t_ref, new >> 8)
        self.frac = new & 255
        p = self.period_q8 + (err >> 4) // m
        if p < MIN_PERIOD_Q8:
            p = MIN_PERIOD_Q8
        elif p > MAX_PERIOD_Q8:
            p = MAX_PERIOD_Q8
        self.period_q8 = p
        self.t_good = t
        self.good += 1
        if self.good >= LOCK_AFTER:
            self.locked = True

    def _inconsistent(self, t):
        # While locked, a crossing the PLL cannot explain is a disturbance, never a new
        # reference (the lock then ages out if the mains really moved); before lock, start over.
        if self.locked:
            self.spurious = True
        else:
            self._restart(t)

    def _restart(self, t):
        self.have_ref = True
        self.t_ref = t
        self.frac = 0
        self.good = 0

    def next_zero(self, t):
        """Tick of the first predicted zero crossing after `t`."""
        return tadd(self.last_zero(t), (self.period_q8 >> 9))

    def last_zero(self, now):
        """Tick of the latest predicted zero crossing (either direction) at or before `now`.

        A firing train starts there, so that a firing still to come in the current
        half-cycle survives the train being replaced."""
        d = tdiff(now, self.t_ref)
        half = self.period_q8 >> 1
        j = 0
        if d >= 0:
            j = ((d << 8) - self.frac) // half
        return tadd(self.t_ref, (j * half + self.frac) >> 8)
