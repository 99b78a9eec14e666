"""RelayPlus (MaxPV! 3.57): a daily minimum and maximum run time for the secondary relay.

MaxPV!'s semantics, kept:
- At RelayPlus_hour:01 local time (while active): the day's reference = the relay-minutes
  index now; a countdown of 1,430 minutes (23 h 50) starts; the relay is commanded to AUTO.
- Each minute, while the reference and the countdown are both set (>= 0): the countdown
  goes down by one, then today = index - reference; today >= max: STOP for the rest of the
  day (countdown -1); otherwise, countdown <= min - today: FORCE for (min - today) minutes,
  then STOP (countdown -1). So a day that AUTO left short ends its 23 h 50 with exactly
  `min` minutes, and a day that reaches `max` is stopped there.
- A manual relay command (API, MQTT: `manual()`) clears the reference: RelayPlus does
  nothing more until the next reference hour (a forced run in progress is left to the
  manual command).
- `on` (relayplusstate) is True while the reference is set, also after the day's action.

Ours:
- Local time comes as "local seconds since 1970-01-01 00:00 local" (None while the time is
  unknown: no reference can be taken; a countdown or a forced run already going on keeps
  running, on the uptime). The reference hour is a crossing of HH:01:00 between the
  previous call's local time and this one, once per local day (local // 86400): the
  spring-forward jump over HH:01 takes it once, the fall-back repeated hour only once.
  Local time that moved more than _JUMP_S (120 s) away from the uptime's elapsed seconds
  is a clock step (time set), not a crossing, except for a step of one hour forward
  (daylight saving) within _JUMP_S (so a clock set forward by about one hour counts as
  that step). The first known time after None is never a crossing.
- Minutes (the countdown, the forced run) are counted on the board's uptime seconds, from
  the reference: a clock step does not shorten or lengthen them.
- min - today <= 0 (the minimum already met): nothing is forced, and nothing stopped at the
  end of the countdown (MaxPV! forced 0 or -1 minutes then stopped when today was min or
  min + 1, and did nothing above: one rule instead).
- Turning `active` off clears the reference; if RelayPlus's last command was FORCE or STOP,
  it commands AUTO once, giving the relay back to its regulation (MaxPV! left it forced or
  stopped, and a stop then lasted until a manual command).
- A new reference hour coming before the countdown's end (the 23-hour spring-forward day
  with a reference hour after 03:00) starts the new day at once: AUTO, as MaxPV!.

The router calls `second()` once a second and applies the returned mode to the relay
(without calling `manual()`); it calls `manual()` on every mode command from a user.
"""
from micropython import const

from router.status import STOP, FORCE, AUTO

_COUNTDOWN_MIN = const(1430)   # 23 h 50 from the reference
_JUMP_S = const(120)           # more than this off the uptime: the clock was set
_DST_S = const(3600)           # the daylight-saving step
_DAY_S = const(86400)


class RelayPlus:
    def __init__(self):
        self.ref = -1           # relay-minutes index at the day's reference; -1: none
        self.countdown = -1     # minutes left of the day's window; -1: not counting
        self.today = -1         # relay minutes since the reference (last call); -1: no reference
        self.force_end = -1     # uptime (s) at which the forced run ends; -1: not forcing
        self.ref_day = None     # local day number of the last reference taken
        self._tick = 0          # uptime (s) of the next minute of the countdown
        self._cmd = None        # the last mode RelayPlus commanded (None after manual/off)
        self._local = None      # previous call's local seconds (None: unknown)
        self._up = 0            # previous call's uptime seconds

    @property
    def on(self):
        """relayplusstate: the day's reference is set."""
        return self.ref >= 0

    def manual(self):
        """A manual relay command happened: disabled until the next reference hour."""
        self.ref = self.countdown = self.today = self.force_end = -1
        self._cmd = None

    def second(self, uptime_s, local_s, relay_min_index, active, hour, min_minutes, max_minutes):
        """Advance to uptime `uptime_s` (local time `local_s` or None, the relay-minutes
        index `relay_min_index`); returns the relay mode to apply now (STOP, FORCE, AUTO)
        or None."""
        up = int(uptime_s)
        day = self._crossed(up, local_s, hour)
        if not active:
            cmd = AUTO if self._cmd is not None and self._cmd != AUTO else None
            self.manual()
            return cmd
        if day is not None and day != self.ref_day:     # once per local day (fall-back hour)
            self.ref_day = day
            return self._reference(up, relay_min_index)
        if self.ref < 0:
            return None
        cmd = None
        while self.countdown >= 0 and up >= self._tick:
            t = self._tick
            self._tick = t + 60
            self.countdown -= 1
            today = relay_min_index - self.ref
            need = min_minutes - today
            if today >= max_minutes:
                cmd = STOP
                self.countdown = -1
            elif 0 < need and self.countdown <= need:
                cmd = FORCE
                self.force_end = t + need * 60
                self.countdown = -1
        if self.force_end >= 0 and up >= self.force_end:
            self.force_end = -1
            cmd = STOP
        self.today = relay_min_index - self.ref
        if cmd is not None:
            self._cmd = cmd
        return cmd

    def _reference(self, up, index):
        self.ref = index
        self.today = 0
        self.countdown = _COUNTDOWN_MIN
        self.force_end = -1
        self._tick = up + 60
        self._cmd = AUTO
        return AUTO

    def _crossed(self, up, local_s, hour):
        """The local day number of the HH:01:00 that local time passed since the previous
        call, or None."""
        prev, prev_up = self._local, self._up
        self._up = up
        if local_s is None:
            self._local = None
            return None
        local_s = int(local_s)
        self._local = local_s
        if prev is None:
            return None                 # the time just known: not a crossing
        step = local_s - prev - (up - prev_up)     # local time's move beyond the elapsed time
        if step > _DST_S - _JUMP_S:
            step -= _DST_S              # daylight saving's step forward
        if not -_JUMP_S <= step <= _JUMP_S:
            return None                 # the clock was set (or fell back): not a crossing
        at = local_s - (local_s - hour * 3600 - 60) % _DAY_S   # the last HH:01:00 <= now
        return at // _DAY_S if at > prev else None
