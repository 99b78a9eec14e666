"""Regulation: from each window's grid power, the power to route into the resistor next.

Every window spans two whole half-cycles fired under the previous command (one, when it is
cut short at a step, below), so the window shows exactly what that command did:
surplus = routed - grid (W, PV minus house loads).
When the window's last half-cycle differs from its mean by more than STEP_W, a load or PV
step happened during the window and that half-cycle is used instead: the freshest 10 ms.
Each command also says what the grid should become under it (expect_w, within expect_tol):
a window whose first half-cycle shows otherwise ends there (board/capture.py), and that
half-cycle is the reading (`short`), so a step that came before the window is answered
after one half-cycle instead of two. The law is in physical units and velocity form:

    next = routed + k (P_MARGIN - grid) + trend          clamped to [0, full power]

- k = GAIN_P / 8 (EcoPV's default 8 gives k = 1: the whole measured error is corrected in
  one window, i.e. deadbeat; smaller is softer; k must stay below 2 to be stable, so GAIN_P
  above 15 acts as 15).
  For errors within ±NOISE_W, mostly measurement noise, k is 40 % of that: the routed power
  then jitters half as much, while real steps are still corrected at once.
  Being in velocity form, it integrates by itself: no steady error, no wind-up in either
  direction (the clamp is the state).
- trend = GAIN_I / 45 x the surplus slope x the time until the next firings, limited to
  ±TREND_MAX_W and only when two successive slopes agree and are past the measurement's
  noise: it follows PV ramps (clouds) without reacting to a single load step. EcoPV's
  default 45 gives the nominal anticipation.
- E_RESERVE keeps EcoPV's meaning: that many joules of export beyond the target before
  routing starts, a dead band against noise.
- Full power is P_RESISTANCE x (V/230)², from the window's own voltage.
- Is the load there (thermostat closed)? A one-window probe with the SSR off decides, run
  when the grid answered a large command change by much less than the change, when the
  export jumps by most of the heater's power at 100 % (what an opening thermostat looks
  like), and after ten minutes at 100 %. Absent load: the SSR stays commanded (the heater
  restarts as soon as the thermostat closes, which the grid then shows) but no routed
  power or energy is counted.

Integers only: it runs every window (ESP32 floats allocate).
"""
from micropython import const
from router.fixed import to_q, mulq, clamp
from router import phase
from router.status import STOP, FORCE, AUTO

TREND_MAX_W = const(60)
# Slopes smaller than this (W a window, ~200 W/s) are not a ramp: the surplus read in a
# steady sun moves ~3 W a window with the measurement's noise alone, and a trend taken from
# that added noise, and a bias, to the command.
_TREND_MIN_W = const(6)
STEP_W = const(60)            # last half-cycle this far from the window mean: a step, use it
NOISE_W = const(25)           # errors this small are mostly measurement noise: soften k
LEAD_US = const(30000)        # from a window's centre to the middle of the firings it sets
STEP_MIN_PCT = const(30)      # command changes this large (% of full) test the load
ABSENT_PCT = const(30)        # the grid answered less than this % of the change: no load
# At 100 % this long: probe the load once. A thermostat opening at 100 % shows as the export
# jumping by the heater's power, which probes at once; this timed probe only covers that
# jump hidden by a load switching on in the same window. Each probe costs a window of the
# heater (~40 J at 2 kW): every minute, as it was, that was 0.035 % of a saturated day and
# the whole of our gap to EcoPV on the thermostat scenario.
PROBE_AFTER_US = const(600000000)
MAX_DT_US = const(200000)
P_MAX_W = const(16000)        # full power and grid beyond this are not physical (and keep
GRID_MAX_W = const(25000)     # every product below 2**30)


class Controller:
    def __init__(self):
        self.ssr_mode = AUTO
        self.frac = 0            # command for the next half-cycles, 1/65536 of full power
        self.reserve = 0         # mJ of export beyond the target while not routing
        self.s_prev = 0          # previous surplus estimate (W)
        self.ds_prev = 0
        self.grid_prev = 0
        self.r_prev = 0
        self.have_prev = False
        self.absent = False      # the resistor draws nothing (thermostat open)
        self.probe_due = False
        self.full_us = 0         # time spent at 100 % since the load was last tested
        self.probing = False
        self.routed = 0          # W actually routed during the last window (estimate)
        self.p_full = 0          # W at full conduction at the last window's voltage
        self.delay = -1          # µs after each zero, -1: no firing
        self.expect_w = 0        # the grid the next window should show (W), within
        self.expect_tol = 0      # this much (0: no test)
        self.d_min = self.d_max = self.d_sum = self.d_n = 0

    def configure(self, p_resistance, p_margin, gain_p, gain_i, e_reserve, v_calib):
        """Parameters, applied at once (not hot: may use floats)."""
        self.margin = int(p_margin)
        k = int(gain_p) * 32
        self.k_q8 = 480 if k > 480 else k
        self.trend_q8 = int(gain_i) * 256 // 45
        self.reserve_mj = int(e_reserve) * 1000
        self.kf_m, self.kf_e = to_q(p_resistance * v_calib * v_calib / (16 * 230 * 230))

    def set_mode(self, mode):
        """STOP, FORCE or AUTO (checked by the router's interface)."""
        self.ssr_mode = mode
        self.reset()

    def reset(self):
        """Start regulating afresh (mode change, mains resync, restart); counters are elsewhere."""
        self.frac = 0
        self.reserve = 0
        self.have_prev = False
        self.full_us = 0
        self.probing = False
        self.probe_due = False
        self.delay = -1
        self.expect_tol = 0

    def window(self, grid_cw, last_cw, var_v_q4, dt_us, half_us, short=False):
        """One window (grid power over the window, and over its last half-cycle, in cW;
        `short`: a window cut short after one half-cycle because it showed a step): returns
        the firing delay for the next half-cycles (-1: no firing), and leaves in expect_w and
        expect_tol (W; 0: no test) the grid that the next window's first half-cycle should
        show under it. Hot path: integers."""
        self.expect_tol = 0
        p_full = mulq(var_v_q4, self.kf_m, self.kf_e)
        if p_full > P_MAX_W:
            p_full = P_MAX_W
        self.p_full = p_full
        grid = clamp((grid_cw // 50 + 1) >> 1, GRID_MAX_W)     # cW -> W, to nearest
        last = clamp((last_cw // 50 + 1) >> 1, GRID_MAX_W)
        if short or last - grid > STEP_W or grid - last > STEP_W:
            grid = last   # a step during the window: act on what the grid is now
        if dt_us > MAX_DT_US:
            dt_us = MAX_DT_US
        # (Every conversion rounds to nearest: a floor here, repeated every window, would
        # drag the regulation off its target.)
        r_win = (self.frac * p_full + 32768) >> 16   # what the last command delivered (model)
        mode = self.ssr_mode
        if mode == STOP or p_full <= 0:
            self.frac = 0
            self.routed = 0
            self.delay = -1
            return -1
        if mode == FORCE:
            if self.have_prev:
                self._check_load(r_win, grid, p_full)
            self.r_prev = r_win
            self.grid_prev = grid
            self.have_prev = True
            self.frac = 65536
            self.routed = 0 if self.absent else r_win
            self.delay = 0
            return 0
        # --- AUTO
        self.routed = 0 if self.absent else r_win
        if self.probing:
            # This window ran with the SSR off: compare with the routing one before. Decisive.
            self.probing = False
            self.probe_due = False
            self.absent = (self.grid_prev - grid) * 100 < ABSENT_PCT * self.r_prev
            self.reserve = self.reserve_mj
            self.have_prev = False
        elif self.have_prev:
            self._check_load(r_win, grid, p_full)
        s = (0 if self.absent else r_win) - grid
        err = self.margin - grid
        k = self.k_q8
        if -NOISE_W <= err <= NOISE_W:
            k = k * 2 // 5
        target = r_win + ((k * clamp(err, 30000) + 128) >> 8)
        # Trend: two successive surplus slopes of the same sign (a ramp, not a step).
        trend = 0
        if self.have_prev:
            ds = clamp(s - self.s_prev, 5000)
            dp = self.ds_prev
            if (ds >= _TREND_MIN_W and dp >= _TREND_MIN_W) or (ds <= -_TREND_MIN_W and
                                                             dp <= -_TREND_MIN_W):
                m = ds if (ds < dp if ds > 0 else ds > dp) else dp
                # rounded to nearest on both sides: a floor, as `//` is, took ~1 W off every
                # rising slope and none off the falling ones, and in the noise of a steady
                # surplus that held the import ~0.5 W below its target
                num = m * (LEAD_US // 100)
                den = dt_us // 100 + 1
                q = (abs(num) + (den >> 1)) // den
                trend = clamp(q if num >= 0 else -q, TREND_MAX_W)
                trend = clamp((trend * self.trend_q8) >> 8, TREND_MAX_W)
            self.ds_prev = ds
        else:
            self.ds_prev = 0
        target += trend
        # E_RESERVE: while not routing, start only after that much export beyond the target.
        if r_win <= 0:
            self.reserve += err * (dt_us // 1000)
            if self.reserve < 0:
                self.reserve = 0
            if self.reserve < self.reserve_mj:
                target = 0
            elif self.reserve > self.reserve_mj:
                self.reserve = self.reserve_mj
        if target <= 0:
            frac = 0
        elif target >= p_full:
            frac = 65536
        else:
            frac = ((target << 16) + (p_full >> 1)) // p_full
        # Is the load there? A probe (one window with the SSR off) tells: due after a doubtful
        # response, when the export jumps by most of the heater's power at 100 % (the
        # thermostat opening looks like that), and after ten minutes at 100 %. It needs a window
        # that routed enough for its absence to show.
        if frac == 65536:
            self.full_us += dt_us
            if self.frac == 65536 and (self.grid_prev - grid) * 10 >= 4 * p_full:
                self.probe_due = True
            if self.full_us >= PROBE_AFTER_US:
                self.probe_due = True
        else:
            self.full_us = 0
        if self.probe_due and r_win * 100 >= STEP_MIN_PCT * p_full and frac:
            self.full_us = 0
            self.probing = True
            self.r_prev = r_win
            self.grid_prev = grid
            self.have_prev = True
            self.frac = 0
            self.delay = -1
            return -1
        self.s_prev = s
        self.grid_prev = grid
        self.r_prev = r_win
        self.have_prev = True
        self.frac = frac
        # What the grid becomes under this command if nothing else changes: the capture
        # stops after one half-cycle when it shows otherwise, so a load or PV step is
        # answered a half-cycle sooner. The tolerance covers the noise of one half-cycle
        # against the reading and the model's error on a large change of command (the
        # capture's raw sum is put on the reading's terms by Measure.expect()).
        dr = 0 if self.absent else ((frac * p_full + 32768) >> 16) - r_win
        self.expect_w = grid - dr
        self.expect_tol = STEP_W + ((dr if dr > 0 else -dr) >> 4)
        if frac == 0:
            self.delay = -1
            return -1
        d = phase.delay_us(frac, half_us)
        self.delay = d
        if self.d_n == 0 or d < self.d_min:
            self.d_min = d
        if d > self.d_max:
            self.d_max = d
        self.d_sum += d
        self.d_n += 1
        return d

    def _check_load(self, r_win, grid, p_full):
        # After a large command change the grid should move by as much (ratio ~1); much
        # less is doubtful (or the load came back, if it was absent): confirm with a probe.
        dr = r_win - self.r_prev
        if dr * 100 >= STEP_MIN_PCT * p_full or -dr * 100 >= STEP_MIN_PCT * p_full:
            ratio_pct = (grid - self.grid_prev) * 100 // dr
            if self.absent:
                if ratio_pct >= 100 - ABSENT_PCT:
                    self.absent = False
            elif ratio_pct < ABSENT_PCT:
                self.probe_due = True
            self.full_us = 0

    def delay_stats(self):
        """(min, avg, max) firing delay in µs since the last call, or None if not regulating."""
        n = self.d_n
        r = None
        if n and self.ssr_mode == AUTO:
            r = (self.d_min, self.d_sum // n, self.d_max)
        self.d_min = self.d_max = self.d_sum = self.d_n = 0
        return r

