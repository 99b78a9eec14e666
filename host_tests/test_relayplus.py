"""RelayPlus (router/relayplus.py) over simulated days, second by second.

The house: the relay's minutes index grows by one per minute of relay on-time; in AUTO the
relay is on during the sunny hours of the test, FORCE is on, STOP is off. Local time is
Europe/Paris, made from UTC by net/localtime.py (the router's own rules)."""
import pytest

from net import localtime
from router.relayplus import RelayPlus
from router.status import STOP, FORCE, AUTO

ZONE = "Europe/Paris"
H = 3600
WORD = {STOP: "STOP", FORCE: "FORCE", AUTO: "AUTO"}


def paris(y, m, d, hh=0, mm=0, ss=0):
    """The UTC second at which Paris shows y-m-d hh:mm:ss (the first one if it shows it twice)."""
    want = localtime.days_from_civil(y, m, d) * 86400 + hh * H + mm * 60 + ss
    for off in (7200, 3600):
        if localtime.local(ZONE, want - off) == want:
            return want - off
    raise ValueError("not a Paris time")


def text(local_s):
    y, m, d = localtime.civil(local_s // 86400)
    s = local_s % 86400
    return "%04d-%02d-%02d %02d:%02d:%02d" % (y, m, d, s // H, s // 60 % 60, s % 60)


class House:
    def __init__(self, start, sun=((12, 13),), hour=5, mn=120, mx=300, up0=1000):
        self.rp = RelayPlus()
        self.utc = start
        self.up = up0
        self.sun = [(a * H, b * H) for a, b in sun]     # AUTO's on-times, local hours
        self.hour, self.mn, self.mx = hour, mn, mx
        self.active = True
        self.known = True       # the router knows the time
        self.offset = 0         # the router's clock minus the true time (s)
        self.on_s = 0           # relay on-time
        self.mode = AUTO
        self.log = []           # (true local time, command) of each command RelayPlus gave
        self.refs = []          # the index at each reference

    @property
    def index(self):
        return self.on_s // 60

    def run(self, seconds, until=None):
        """`seconds` of the house, or up to the first second whose true local time of day
        is `until` (seconds)."""
        rp, sun = self.rp, self.sun
        off = localtime.offset_s(ZONE, self.utc)
        for _ in range(seconds):
            if self.utc % H == 0:       # Paris changes its offset on a whole UTC hour only
                off = localtime.offset_s(ZONE, self.utc)
            true = self.utc + off
            if true % 86400 == until:
                return
            if not self.known:
                local = None
            elif self.offset:
                local = localtime.local(ZONE, self.utc + self.offset)
            else:
                local = true
            cmd = rp.second(self.up, local, self.on_s // 60, self.active, self.hour, self.mn,
                            self.mx)
            if cmd is not None:
                self.mode = cmd
                self.log.append((text(true), WORD[cmd]))
                if cmd == AUTO and rp.on:
                    self.refs.append(rp.ref)
            if self.mode == FORCE or self.mode == AUTO and any(
                    a <= true % 86400 < b for a, b in sun):
                self.on_s += 1
            self.utc += 1
            self.up += 1

    def until(self, wall):
        """Run to the next time the true local clock shows `wall` ("HH:MM:SS"), not called
        yet at that second."""
        hh, mm, ss = (int(x) for x in wall.split(":"))
        self.run(1)
        self.run(2 * 86400, until=hh * H + mm * 60 + ss)

    def manual(self, mode):
        self.mode = mode
        self.rp.manual()

    def day_totals(self):
        return [b - a for a, b in zip(self.refs, self.refs[1:])]


# --- the daily minimum and maximum -------------------------------------------------------------
def test_a_short_day_is_forced_at_the_end_to_exactly_the_minimum():
    h = House(paris(2026, 6, 10, 4), sun=((12, 13),), mn=120, mx=300, up0=12.7)  # uptime: a float
    h.run(2 * 86400 + 2 * H)            # to 2026-06-12 06:00
    assert h.log == [("2026-06-10 05:01:00", "AUTO"),
                     ("2026-06-11 03:51:00", "FORCE"),   # 22 h 50 after: 60 min of AUTO, 60 to go
                     ("2026-06-11 04:51:00", "STOP"),    # 23 h 50 after the reference
                     ("2026-06-11 05:01:00", "AUTO"),
                     ("2026-06-12 03:51:00", "FORCE"),
                     ("2026-06-12 04:51:00", "STOP"),
                     ("2026-06-12 05:01:00", "AUTO")]
    assert h.day_totals() == [120, 120]
    assert h.rp.on and h.rp.today == 0 and h.rp.countdown == 1430 - 58   # last call 05:59:59


def test_forcing_state_is_shown_while_it_runs():
    h = House(paris(2026, 6, 10, 4), sun=((12, 13),), mn=100, mx=300, up0=500)
    h.until("04:30:00")                 # the 10th, before any reference
    rp = h.rp
    assert (rp.on, rp.ref, rp.today, rp.countdown, rp.force_end) == (False, -1, -1, -1, -1)
    h.until("04:30:00")                 # the 11th: forced since 04:11 (40 minutes to go)
    assert h.log[-1] == ("2026-06-11 04:11:00", "FORCE")
    assert rp.on and rp.ref == 0 and rp.countdown == -1
    assert rp.today == 60 + 18 and h.index == 79     # as of its last call, 04:29:59
    assert rp.force_end == h.up + 21 * 60   # 04:51:00


def test_a_long_day_is_stopped_once_the_maximum_is_reached():
    h = House(paris(2026, 6, 10, 4), sun=((8, 18),), mn=60, mx=180)
    h.run(2 * 86400 + 2 * H)
    assert h.log == [("2026-06-10 05:01:00", "AUTO"),
                     ("2026-06-10 11:00:00", "STOP"),    # on since 08:00: 180 minutes
                     ("2026-06-11 05:01:00", "AUTO"),
                     ("2026-06-11 11:00:00", "STOP"),
                     ("2026-06-12 05:01:00", "AUTO")]
    assert h.day_totals() == [180, 180]


def test_a_day_between_minimum_and_maximum_is_left_alone():
    h = House(paris(2026, 6, 10, 4), sun=((10, 12),), mn=60, mx=300)
    h.run(2 * 86400 + 2 * H)
    assert h.log == [("2026-06-10 05:01:00", "AUTO"), ("2026-06-11 05:01:00", "AUTO"),
                     ("2026-06-12 05:01:00", "AUTO")]
    assert h.day_totals() == [120, 120]


@pytest.mark.parametrize("mn,forced", [
    (119, []), (120, []),               # met by AUTO before the end: nothing forced or stopped
    (121, [("2026-06-11 04:50:00", "FORCE"), ("2026-06-11 04:51:00", "STOP")]),
])
def test_a_minimum_met_late_by_auto_forces_only_what_is_missing(mn, forced):
    # AUTO: 60 minutes at noon and 60 in the night, 03:00-04:00, within the 23 h 50
    h = House(paris(2026, 6, 10, 4, 30), sun=((3, 4), (12, 13)), mn=mn, mx=300)
    h.run(86400 + 40 * 60)              # to the 11th 05:10
    assert h.log == [("2026-06-10 05:01:00", "AUTO")] + forced + [("2026-06-11 05:01:00", "AUTO")]
    assert h.day_totals() == [max(mn, 120)]


def test_the_parameters_are_read_every_minute():
    h = House(paris(2026, 6, 10, 4), sun=((8, 18),), mn=60, mx=480)
    h.until("10:00:30")
    h.mx = 60                           # lowered in the day: stopped at the next minute
    h.until("10:05:00")
    assert h.log == [("2026-06-10 05:01:00", "AUTO"), ("2026-06-10 10:01:00", "STOP")]


# --- manual commands and relayplusstate -------------------------------------------------------
def test_a_manual_command_disables_it_until_the_next_reference_hour():
    h = House(paris(2026, 6, 10, 4), sun=((12, 13),), mn=120, mx=300)
    h.until("14:00:00")
    assert h.rp.on
    h.manual(STOP)                      # the user's relaymode=stop
    assert not h.rp.on and h.rp.ref == -1 and h.rp.countdown == -1
    h.until("16:00:00")
    h.manual(AUTO)                      # and back to auto: still disabled
    h.run(86400 + 14 * H)               # to 2026-06-12 06:00
    assert h.log == [("2026-06-10 05:01:00", "AUTO"),
                     ("2026-06-11 05:01:00", "AUTO"),    # no forcing the night of the 10th
                     ("2026-06-12 03:51:00", "FORCE"),   # resumed the day after
                     ("2026-06-12 04:51:00", "STOP"),
                     ("2026-06-12 05:01:00", "AUTO")]
    assert h.day_totals() == [60, 120]  # the 10th not topped up, the 11th topped up


def test_a_manual_command_while_forcing_leaves_the_relay_to_it():
    h = House(paris(2026, 6, 10, 4), sun=((12, 13),), mn=120, mx=300)
    h.until("04:00:00")                 # the 11th, forced since 03:51
    assert h.mode == FORCE and h.rp.force_end > 0
    h.manual(FORCE)                     # the user forces it too: no STOP at 04:51
    h.until("05:00:00")
    assert h.log[-1] == ("2026-06-11 03:51:00", "FORCE") and h.mode == FORCE
    assert h.rp.force_end == -1 and not h.rp.on
    h.until("05:02:00")
    assert h.log[-1] == ("2026-06-11 05:01:00", "AUTO") and h.rp.on


def test_relayplusstate_is_on_from_the_reference_and_stays_on_after_the_day_s_action():
    h = House(paris(2026, 6, 10, 4), sun=((12, 13),), mn=120, mx=300)
    seen = []
    for wall in ("05:00:59", "05:01:01", "23:00:00", "04:00:00", "04:55:00", "05:00:00"):
        h.until(wall)
        seen.append((wall, h.rp.on, h.mode))
    assert seen == [("05:00:59", False, AUTO), ("05:01:01", True, AUTO), ("23:00:00", True, AUTO),
                    ("04:00:00", True, FORCE), ("04:55:00", True, STOP), ("05:00:00", True, STOP)]
    h.manual(AUTO)
    assert not h.rp.on
    h.until("05:01:01")
    assert h.rp.on


# --- local time -------------------------------------------------------------------------------
def references(h):
    return [t for t, cmd in h.log if cmd == "AUTO"]


@pytest.mark.parametrize("hour,expected", [
    (2, ["2026-03-28 02:01:00", "2026-03-29 03:00:00", "2026-03-30 02:01:00"]),  # 02:xx skipped
    (3, ["2026-03-28 03:01:00", "2026-03-29 03:01:00", "2026-03-30 03:01:00"]),
    (5, ["2026-03-28 05:01:00", "2026-03-29 05:01:00", "2026-03-30 05:01:00"]),
])
def test_spring_forward_takes_the_reference_once(hour, expected):
    h = House(paris(2026, 3, 27, 12), sun=((20, 21),), hour=hour, mn=60, mx=300)
    h.run(3 * 86400 - H)                # to 2026-03-30 12:00 (a 23-hour day in it)
    assert references(h) == expected


def test_spring_forward_day_s_window_is_cut_by_the_next_reference():
    # 23 hours from the 28th's 05:01 to the 29th's: the forced run (from 23 h 50 - 60 min
    # after the reference, 04:51 summer time) is replaced by the new day's AUTO at 05:01
    h = House(paris(2026, 3, 28, 4), sun=((20, 21),), hour=5, mn=120, mx=300)
    h.run(2 * 86400 + H)                # to the 30th 06:00
    assert h.log == [("2026-03-28 05:01:00", "AUTO"),
                     ("2026-03-29 04:51:00", "FORCE"),
                     ("2026-03-29 05:01:00", "AUTO"),
                     ("2026-03-30 03:51:00", "FORCE"),
                     ("2026-03-30 04:51:00", "STOP"),
                     ("2026-03-30 05:01:00", "AUTO")]
    assert h.day_totals() == [60 + 10, 120]   # the 28th cut short, the 29th whole


@pytest.mark.parametrize("hour,expected", [
    (2, ["2026-10-24 02:01:00", "2026-10-25 02:01:00", "2026-10-26 02:01:00"]),
    (5, ["2026-10-24 05:01:00", "2026-10-25 05:01:00", "2026-10-26 05:01:00"]),
])
def test_fall_back_takes_the_reference_once(hour, expected):
    h = House(paris(2026, 10, 23, 12), sun=((20, 21),), hour=hour, mn=60, mx=300)
    h.run(3 * 86400 + H)                # to 2026-10-26 12:00 (a 25-hour day in it)
    assert references(h) == expected


def test_fall_back_references_the_first_of_the_repeated_hours():
    start = paris(2026, 10, 25, 1)
    h = House(start, sun=((20, 21),), hour=2, mn=60, mx=300)
    h.run(3 * H)                        # 01:00 summer time to 03:00 winter time
    assert references(h) == ["2026-10-25 02:01:00"]
    assert h.rp.ref_day == localtime.days_from_civil(2026, 10, 25)
    assert h.rp.countdown == 1430 - 118          # counted on the uptime: 1 h 59 later


def test_fall_back_day_still_ends_with_the_minimum():
    # 25 hours between the references: the window is 23 h 50 of uptime from the 24th's
    h = House(paris(2026, 10, 24, 4), sun=((20, 21),), hour=5, mn=120, mx=300)
    h.run(86400 + 3 * H)
    assert h.log == [("2026-10-24 05:01:00", "AUTO"),
                     ("2026-10-25 02:51:00", "FORCE"),   # winter time: 22 h 50 after
                     ("2026-10-25 03:51:00", "STOP"),
                     ("2026-10-25 05:01:00", "AUTO")]
    assert h.day_totals() == [120]


def test_unknown_time_does_nothing():
    h = House(paris(2026, 6, 10, 4), sun=((12, 13),), mn=120, mx=300)
    h.known = False
    h.run(86400 + 6 * H)                # to the 11th 10:00
    assert h.log == [] and not h.rp.on and h.rp.ref_day is None
    h.known = True                      # the time is set at 10:00: not a crossing
    h.run(20 * H)
    assert h.log == [("2026-06-12 05:01:00", "AUTO")]


def test_minutes_run_on_the_uptime_when_the_time_is_lost_or_stepped():
    h = House(paris(2026, 6, 10, 4), sun=((12, 13),), mn=120, mx=300)
    h.until("06:00:00")
    h.offset = 100                      # the clock corrected by 100 s (not a crossing)
    h.until("20:00:00")
    h.known = False                     # and then lost: the countdown goes on
    h.until("05:00:00")
    assert h.log == [("2026-06-10 05:01:00", "AUTO"), ("2026-06-11 03:51:00", "FORCE"),
                     ("2026-06-11 04:51:00", "STOP")]
    assert h.rp.on and h.rp.today == 120


@pytest.mark.parametrize("step,taken", [(60, True), (120, True), (121, False), (7200, False)])
def test_a_clock_step_is_not_a_crossing(step, taken):
    h = House(paris(2026, 6, 10, 4), sun=((12, 13),), mn=120, mx=300)
    h.until("05:00:30")
    h.offset = step                     # 05:00:30 -> 05:01:30 or later
    h.run(2 * H)
    assert references(h) == (["2026-06-10 05:00:30"] if taken else [])
    h.until("05:01:00")                 # the next day's comes as usual (on the stepped clock)
    assert len(references(h)) == 1 + taken


def test_a_step_back_over_the_hour_takes_no_second_reference():
    h = House(paris(2026, 6, 10, 4), sun=((12, 13),), mn=120, mx=300)
    h.until("05:30:00")
    h.offset = -1800                    # back to 05:00: the clock passes 05:01 again
    h.run(H)
    assert references(h) == ["2026-06-10 05:01:00"]


# --- deactivation -----------------------------------------------------------------------------
def test_deactivating_while_forcing_gives_the_relay_back_to_auto():
    h = House(paris(2026, 6, 10, 4), sun=((12, 13),), mn=120, mx=300)
    h.until("04:00:00")                 # the 11th, forced since 03:51
    h.active = False
    h.until("04:10:00")
    assert h.log[-2:] == [("2026-06-11 03:51:00", "FORCE"), ("2026-06-11 04:00:00", "AUTO")]
    assert not h.rp.on and h.rp.force_end == -1
    h.active = True                     # back on: waits for the next reference hour
    h.until("05:00:00")
    assert h.log[-1] == ("2026-06-11 04:00:00", "AUTO") and not h.rp.on
    h.until("05:01:01")
    assert h.log[-1] == ("2026-06-11 05:01:00", "AUTO") and h.rp.on


def test_deactivating_after_the_day_s_stop_gives_the_relay_back_to_auto():
    h = House(paris(2026, 6, 10, 4), sun=((8, 18),), mn=60, mx=180)
    h.until("15:00:00")
    assert h.mode == STOP
    h.active = False
    h.until("15:00:02")
    assert h.log[-1] == ("2026-06-10 15:00:00", "AUTO") and h.mode == AUTO and not h.rp.on


def test_deactivating_in_auto_commands_nothing_and_no_reference_is_taken_while_off():
    h = House(paris(2026, 6, 10, 4), sun=((12, 13),), mn=120, mx=300)
    h.until("14:00:00")
    h.active = False
    h.run(86400)                        # to the 11th 14:00: no forcing, no reference
    assert h.log == [("2026-06-10 05:01:00", "AUTO")] and not h.rp.on
    h.active = True
    h.until("05:01:01")
    assert h.log[-1] == ("2026-06-12 05:01:00", "AUTO")
