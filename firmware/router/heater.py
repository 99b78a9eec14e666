"""Who drives the heater: one arbitration point, once a second, between every demand.

PRIORITY is the table: the highest demand present decides the SSR mode that the window
loop's controller runs, and its name is the reason shown everywhere (API `heater`, the
dashboard, MQTT). A demand is re-evaluated every second from what holds now, so none can
leave the heater on after its reason ended.

- fault: the mains is not synchronised: no firing at all (the hot path does not fire without
  the lock; the controller is left in the mode of the next demand, for the lock's return).
- over_temp: `temp_limit_active` and the tank reached `max_temp` (released TEMP_HYST_C below
  it). Stops routing, boosts and the other demands, and the manual FORCE as well.
- manual_stop / manual_force: the owner's SSR mode.
- boost: manual (booston), timer (daily at boost_timer_hour:minute) or energy (at
  boost_energy_hour, until today's routed energy reaches boost_energy_wh, at most until
  midnight). `boost_ratio` is delivered as the original's 5-minute burst: FORCE for ratio %
  of every BURST_S, and AUTO routing (not STOP, as the original) for the rest. Why bursts
  and not phase angle: phase angle at 50 % draws ~6 A of harmonic current for hours; a burst
  at full conduction draws none, and one switching every few minutes is far below the
  frequencies that make lights flicker (0.5-25 Hz).
- legionella: once a week (legionella_day, legionella_hour) unless the tank already spent
  an hour at LEGIONELLA_C or more in one day of the last week (PV did it: nothing taken from
  the grid); then FORCE while below LEGIONELLA_C + 0.5 until an hour is reached that day, given
  up after LEGIONELLA_MAX_S, 10 h (a thermostat set below 60 °C can never let it finish).
- keep_warm: the tank below keepwarm_min: FORCE until KEEPWARM_HYST_C above it, optionally
  only between offpeak_start and offpeak_end (heures creuses).
- routing: AUTO, the surplus.

Schedules fire when local time passes their minute, once per local day: a daylight-saving
jump forward over it still fires, the repeated hour in autumn does not fire twice, and the
clock being set (a jump that the board's uptime did not see) is not a passing.
Grid energy taken while boost, legionella or keep_warm force the heater is counted
(`grid_wh`). Pure logic, once a second (floats allowed: not the hot path).
"""
from micropython import const
from router.status import STOP, FORCE, AUTO

# the priority table, highest first: (reason, what it does to the SSR)
PRIORITY = (
    ("fault", STOP),
    ("over_temp", STOP),
    ("manual_stop", STOP),
    ("manual_force", FORCE),
    ("boost", FORCE),          # AUTO in the burst's off part
    ("legionella", FORCE),
    ("keep_warm", FORCE),
    ("routing", AUTO),
)
FORCING = ("boost", "legionella", "keep_warm")   # their grid energy is counted

BURST_S = const(300)
TEMP_HYST_C = 2
KEEPWARM_HYST_C = 3
LEGIONELLA_C = 60
LEGIONELLA_HOLD_S = const(3600)
LEGIONELLA_MAX_S = const(36000)   # a cold 200 L tank at 2 kW takes ~6 h to 60 °C
JUMP_S = const(120)           # local time moving this much more (or less) than uptime: set
DAY_S = const(86400)


def valid_temp(t):
    """A probe reading, or None when absent or implausible (the original's 0 < t < 95)."""
    return t if t is not None and 0 < t < 95 else None


def weekday(day):
    """0 Monday .. 6 Sunday, of a local day number (1970-01-01 was a Thursday)."""
    return (day + 3) % 7


def hhmm(text):
    h, _, m = text.partition(":")
    return int(h) * 3600 + int(m) * 60


def in_window(local, start, end):
    """Local time within [start, end) seconds of day; the window may span midnight."""
    s = local % DAY_S
    return start <= s < end if start <= end else (s >= start or s < end)


class Heater:
    def __init__(self):
        self.reason = "routing"
        self.mode = AUTO
        self.over = False
        self.boost = None           # None, "manual", "timer" or "energy"
        self.boost_start = self.boost_end = 0.0   # uptime s
        self.boost_ratio = 100
        self.boost_target = 0       # Wh of routed energy today, for an energy boost
        self.keep_warm = False
        self.legionella = False     # a cycle is running
        self.leg_start = 0.0
        self.leg_heat = False
        self.hot_s = 0.0            # s at LEGIONELLA_C or more today
        self.hot_day = None         # the local day hot_s counts
        self.last_hot_day = None    # the last local day with a whole hot hour (saved)
        self.grid_wh = 0.0
        self.note = None            # the last schedule event, in words
        self.fired = {}             # schedule -> local day it last fired
        self.prev = None            # (uptime, local) of the last second

    # --- commands ---------------------------------------------------------------------------
    def boost_on(self, now, minutes, ratio, kind="manual", target_wh=0, end=None):
        """Start (or restart) a boost; returns why it is refused, or None."""
        if ratio <= 0:
            return "boost_ratio is 0: boost is disabled"
        if self.over:
            return "the tank is at its temperature limit"
        self.boost = kind
        self.boost_start = now
        self.boost_end = now + minutes * 60 if end is None else end
        self.boost_ratio = ratio
        self.boost_target = target_wh
        return None

    def boost_off(self):
        self.boost = None

    def boost_left(self, now):
        return max(0, int(self.boost_end - now)) if self.boost else None

    def burst_on(self, now):
        r = self.boost_ratio
        return r >= 100 or (now - self.boost_start) % BURST_S < BURST_S * r / 100

    # --- once a second ----------------------------------------------------------------------
    def second(self, now, local, temp, routed_today, grid_w, routed_w, synced, manual, cfg):
        """Advance to uptime `now` (s) and local time `local` (s since 1970 local, None while
        unknown) with the tank's `temp` (°C or None), today's routed energy (Wh), the last
        second's grid (W, import +) and routed power, the mains lock and the owner's SSR mode;
        `cfg(key)` reads a setting. Returns the SSR mode to run."""
        t = valid_temp(temp)
        prev = self.prev
        self.prev = (now, local)
        dt = 0.0 if prev is None else min(max(now - prev[0], 0.0), 5.0)
        if self.reason in FORCING and self.mode == FORCE and grid_w > 0:
            self.grid_wh += min(grid_w, max(routed_w, 0.0)) * dt / 3600
        # the temperature limit
        if not cfg("temp_limit_active") or t is None:
            self.over = False
        elif not self.over and t >= cfg("max_temp"):
            self.over = True
        elif self.over and t <= cfg("max_temp") - TEMP_HYST_C:
            self.over = False
        if self.over and self.boost:
            self.boost = None
            self.note = "boost stopped at the temperature limit"
        # hot time today (anti-legionella)
        day = None if local is None else local // DAY_S
        if day is not None:
            if day != self.hot_day:
                self.hot_day = day
                self.hot_s = 0.0
            if t is not None and t >= LEGIONELLA_C:
                self.hot_s += dt
            if self.hot_s >= LEGIONELLA_HOLD_S and self.last_hot_day != day:
                self.last_hot_day = day
                if self.legionella:
                    self.legionella = False
                    self.note = "anti-legionella cycle done"
        # schedules
        if self._passed(prev, now, local, "timer", cfg("boost_timer_hour") * 3600 +
                        cfg("boost_timer_minute") * 60, cfg("boost_timer_active")):
            self._scheduled(now, manual, "timer", cfg("boost_duration"), cfg("boost_ratio"))
        if self._passed(prev, now, local, "energy", cfg("boost_energy_hour") * 3600,
                        cfg("boost_energy_active")):
            target = cfg("boost_energy_wh")
            if routed_today >= target:
                self.note = "energy boost not needed: %d Wh routed today" % routed_today
            else:
                self._scheduled(now, manual, "energy", 0, 100, target,
                                now + DAY_S - local % DAY_S)
        if self._passed(prev, now, local, "legionella", cfg("legionella_hour") * 3600,
                        cfg("legionella_active") and day is not None and
                        weekday(day) == cfg("legionella_day")):
            if self.last_hot_day is not None and day - self.last_hot_day < 7:
                self.note = "anti-legionella not needed: an hour at 60 °C this week"
            else:
                self.legionella = True
                self.leg_start = now
                self.note = "anti-legionella cycle started"
        # ends
        if self.boost and (now >= self.boost_end or
                           self.boost == "energy" and routed_today >= self.boost_target):
            self.boost = None
            self.note = "boost ended"
        if self.legionella and (not cfg("legionella_active") or
                                now - self.leg_start >= LEGIONELLA_MAX_S):
            self.legionella = False
            if cfg("legionella_active"):
                self.note = "anti-legionella: 60 °C not held for an hour in 10 h (the " \
                            "heater's thermostat may be set below 60 °C)"
        if not self.legionella or t is None:
            self.leg_heat = False       # no reading, no heating (nor a stale demand)
        elif t < LEGIONELLA_C + 0.5:
            self.leg_heat = True
        elif t >= LEGIONELLA_C + 1.5:
            self.leg_heat = False
        # keep-warm
        if not cfg("keepwarm_active") or t is None:
            self.keep_warm = False
        else:
            ok = not cfg("keepwarm_offpeak") or local is not None and in_window(
                local, hhmm(cfg("offpeak_start")), hhmm(cfg("offpeak_end")))
            if self.keep_warm:
                self.keep_warm = ok and t < cfg("keepwarm_min") + KEEPWARM_HYST_C
            else:
                self.keep_warm = ok and t < cfg("keepwarm_min")
        return self.decide(now, synced, manual)

    def decide(self, now, synced, manual):
        """The arbitration itself: the first demand present in PRIORITY. Also called by the
        router's commands, so that a command takes effect at once."""
        present = {
            "fault": not synced,
            "over_temp": self.over,
            "manual_stop": manual == STOP,
            "manual_force": manual == FORCE,
            "boost": self.boost is not None,
            "legionella": self.legionella and self.leg_heat,
            "keep_warm": self.keep_warm,
            "routing": True,
        }
        shown = None
        for reason, mode in PRIORITY:
            if present[reason]:
                if reason == "fault":
                    # The hot path fires nothing without the mains lock; the controller keeps
                    # the mode below, ready for the instant the lock returns.
                    shown = reason
                    continue
                if reason == "boost" and not self.burst_on(now):
                    mode = AUTO
                self.reason = shown or reason
                self.mode = mode
                return mode

    def _passed(self, prev, now, local, name, at_s, enabled):
        """Local time passed `at_s` (s of day) since the last second, for the first time
        this local day."""
        if not enabled or prev is None or local is None or prev[1] is None:
            return False
        drift = (local - prev[1]) - (now - prev[0])
        if not (-JUMP_S <= drift <= JUMP_S or -JUMP_S <= abs(drift) - 3600 <= JUMP_S):
            return False      # the clock was set: not a passing
        k = prev[1] - prev[1] % DAY_S + at_s
        if k <= prev[1]:
            k += DAY_S
        if k > local or self.fired.get(name) == k // DAY_S:
            return False
        self.fired[name] = k // DAY_S
        return True

    def _scheduled(self, now, manual, kind, minutes, ratio, target=0, end=None):
        if manual != AUTO:
            self.note = "%s boost skipped: the SSR is in manual mode" % kind
            return
        if self.boost:
            self.note = "%s boost skipped: a %s boost is running" % (kind, self.boost)
            return
        why = self.boost_on(now, minutes, ratio, kind, target, end)
        self.note = "%s boost %s" % (kind, "started" if why is None else "refused: " + why)
