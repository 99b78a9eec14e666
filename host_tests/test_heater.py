"""Who drives the heater (router/heater.py), pure logic under CPython: the priority of every
pair of demands, the end of every demand, the boost's burst, the schedules on local time
through daylight-saving days, and a simulated week of weather with keep-warm and
anti-legionella against a tank model."""
import itertools
from datetime import datetime, timezone

import pytest

from records.config import TABLE
from router.heater import Heater, PRIORITY, BURST_S, in_window, weekday
from router.status import STOP, FORCE, AUTO
from net.localtime import local as to_local

DEFAULTS = {r[0]: r[2] for r in TABLE}


def cfg_of(**over):
    d = dict(DEFAULTS)
    d.update(over)
    return d.get


def utc(y, mo, d, h=0, mi=0):
    return int(datetime(y, mo, d, h, mi, tzinfo=timezone.utc).timestamp())


def paris(t):
    return to_local("Europe/Paris", t)


# --- the priority table ---------------------------------------------------------------------
def make(reason, h, ctx):
    """Make demand `reason` present on heater h (ctx: synced and manual mode)."""
    if reason == "fault":
        ctx["synced"] = False
    elif reason == "over_temp":
        h.over = True
    elif reason == "manual_stop":
        ctx["manual"] = STOP
    elif reason == "manual_force":
        ctx["manual"] = FORCE
    elif reason == "boost":
        h.boost_on(0, 60, 100)
    elif reason == "legionella":
        h.legionella = h.leg_heat = True
    elif reason == "keep_warm":
        h.keep_warm = True


# every pair but (manual_stop, manual_force): one SSR mode, never both present
PAIRS = [p for p in itertools.combinations([r for r, _ in PRIORITY], 2)
         if p != ("manual_stop", "manual_force")]


@pytest.mark.parametrize("hi,lo", PAIRS)
def test_the_higher_demand_decides(hi, lo):
    h = Heater()
    ctx = {"synced": True, "manual": AUTO}
    make(lo, h, ctx)
    assert h.decide(10, ctx["synced"], ctx["manual"]) == dict(PRIORITY)[lo]
    assert h.reason == lo
    make(hi, h, ctx)
    # a fault fires nothing whatever the mode (the hot path needs the lock): the controller
    # keeps the mode of the demand below it
    want = dict(PRIORITY)[lo if hi == "fault" else hi]
    assert h.decide(10, ctx["synced"], ctx["manual"]) == want
    assert h.reason == hi


def test_the_table_order():
    assert [r for r, _ in PRIORITY] == ["fault", "over_temp", "manual_stop", "manual_force",
                                        "boost", "legionella", "keep_warm", "routing"]
    assert Heater().decide(0, True, AUTO) == AUTO


# --- every end of a demand ------------------------------------------------------------------
class Run:
    """Drive a heater second by second."""

    def __init__(self, cfg, temp=45.0, local0=None, routed_today=0):
        self.h = Heater()
        self.cfg = cfg
        self.t = 0
        self.local0 = local0
        self.temp = temp
        self.routed_today = routed_today
        self.synced = True
        self.manual = AUTO
        self.grid = 0.0
        self.routed = 0.0

    def local(self):
        return None if self.local0 is None else self.local0 + self.t

    def step(self, n=1):
        for _ in range(n):
            self.t += 1
            m = self.h.second(self.t, self.local(), self.temp, self.routed_today, self.grid,
                              self.routed, self.synced, self.manual, self.cfg)
        return m


def test_a_boost_ends_after_its_duration():
    r = Run(cfg_of(boost_duration=2))
    assert r.h.boost_on(r.t, 2, 100) is None
    assert r.step() == FORCE and r.h.reason == "boost"
    r.step(117)
    assert r.h.boost and r.h.boost_left(r.t) == 2
    r.step(2)
    assert r.h.boost is None and r.h.mode == AUTO and r.h.reason == "routing"


def test_boostoff_and_the_temperature_limit_end_a_boost():
    r = Run(cfg_of(temp_limit_active=1, max_temp=50), temp=45)
    r.h.boost_on(r.t, 60, 100)
    assert r.step() == FORCE
    r.h.boost_off()
    assert r.step() == AUTO
    r.h.boost_on(r.t, 60, 100)
    r.step()
    r.temp = 50.0
    assert r.step() == STOP and r.h.reason == "over_temp" and r.h.boost is None
    assert "temperature limit" in r.h.note
    # refused while over, and the limit releases only TEMP_HYST_C below
    assert "temperature limit" in r.h.boost_on(r.t, 60, 100)
    r.temp = 48.5
    assert r.step() == STOP
    r.temp = 48.0
    assert r.step() == AUTO and r.h.reason == "routing"


def test_over_temp_stops_manual_force_and_ends_with_the_limit_off():
    r = Run(cfg_of(temp_limit_active=1, max_temp=50), temp=55)
    r.manual = FORCE
    assert r.step() == STOP and r.h.reason == "over_temp"
    r.cfg = cfg_of(temp_limit_active=0, max_temp=50)
    assert r.step() == FORCE and r.h.reason == "manual_force"
    # a lost probe does not hold the heater off either (the heater's thermostat still does)
    r.cfg = cfg_of(temp_limit_active=1, max_temp=50)
    r.step()
    assert r.h.reason == "over_temp"
    r.temp = None
    assert r.step() == FORCE


def test_a_boost_with_ratio_0_is_refused():
    assert "disabled" in Heater().boost_on(0, 60, 0)


def test_the_burst_delivers_the_ratio_and_routes_the_rest():
    r = Run(cfg_of())
    r.h.boost_on(r.t, 60, 40)
    modes = [r.step() for _ in range(2 * BURST_S)]
    assert modes.count(FORCE) == 2 * BURST_S * 40 // 100
    assert set(modes) == {FORCE, AUTO} and r.h.reason == "boost"
    # on first, in one piece per period
    assert modes[:BURST_S * 40 // 100 - 1] == [FORCE] * (BURST_S * 40 // 100 - 1)


def test_an_energy_boost_ends_at_its_target_and_at_midnight():
    start = paris(utc(2026, 6, 21, 15, 59, ))     # 17:59 local
    r = Run(cfg_of(boost_energy_active=1, boost_energy_hour=18, boost_energy_wh=3000),
            local0=start, routed_today=1000)
    r.step(59)
    assert r.h.boost is None
    r.step(2)
    assert r.h.boost == "energy" and r.h.mode == FORCE
    r.routed_today = 2999
    r.step()
    assert r.h.boost == "energy"
    r.routed_today = 3000
    assert r.step() == AUTO and r.h.boost is None
    # the next day, never reaching it: it ends at midnight
    r.routed_today = 0
    r.step(86400 - 2)
    assert r.h.boost == "energy"
    r.step(10 * 3600)
    assert r.h.boost is None and r.h.mode == AUTO
    # not started when the target is already met
    r.routed_today = 5000
    r.step(86400)
    assert r.h.boost is None and "not needed" in r.h.note


def test_keep_warm_ends_at_its_set_point_at_the_end_of_off_peak_and_when_turned_off():
    r = Run(cfg_of(keepwarm_active=1, keepwarm_min=40), temp=41)
    assert r.step() == AUTO
    r.temp = 39.9
    assert r.step() == FORCE and r.h.reason == "keep_warm"
    r.temp = 42.9
    assert r.step() == FORCE
    r.temp = 43.0
    assert r.step() == AUTO and r.h.reason == "routing"
    # off-peak only: 22:00-06:00; 05:59:58 local, cold
    r2 = Run(cfg_of(keepwarm_active=1, keepwarm_min=40, keepwarm_offpeak=1),
             temp=30, local0=paris(utc(2026, 1, 5, 4, 59)) + 58)
    assert r2.step() == FORCE
    assert r2.step(2) == AUTO          # 06:00: the window closed
    r2.local0 -= 8 * 3600 + 1          # 22:00 again
    assert r2.step() == FORCE
    r2.cfg = cfg_of(keepwarm_active=0)
    assert r2.step() == AUTO
    r2.cfg = cfg_of(keepwarm_active=1, keepwarm_min=40)
    assert r2.step() == FORCE
    r2.temp = None                     # the probe is lost: no demand on no reading
    assert r2.step() == AUTO
    # and with an unknown time, off-peak only never heats
    r3 = Run(cfg_of(keepwarm_active=1, keepwarm_offpeak=1), temp=30)
    assert r3.step() == AUTO


def test_legionella_ends_when_done_when_given_up_and_when_turned_off():
    sunday_13 = paris(utc(2026, 6, 21, 11, 0)) - 1        # a Sunday, 12:59:59 local
    assert weekday(sunday_13 // 86400) == 6
    r = Run(cfg_of(legionella_active=1, legionella_day=6, legionella_hour=13), temp=50,
            local0=sunday_13 - 1)
    r.step(1)
    assert not r.h.legionella
    r.step(1)
    assert r.h.legionella and r.h.mode == FORCE and r.h.reason == "legionella"
    r.temp = 61.0
    r.step()
    assert r.h.mode == FORCE          # held a little above 60
    r.temp = 61.6
    r.step()
    assert r.h.mode == AUTO and r.h.legionella
    r.step(3600)
    assert not r.h.legionella and r.h.note == "anti-legionella cycle done"
    assert r.h.last_hot_day == (sunday_13 + 3600) // 86400
    # the next Sunday: the week had its hour -> a cycle is due (7 days since the last one)
    r.temp = 50
    r.step(7 * 86400 - 3600)
    assert r.h.legionella
    # given up after 10 hours below 60 °C
    r.step(10 * 3600)
    assert not r.h.legionella and r.h.mode == AUTO and "not held" in r.h.note
    # and turned off while running
    r.step(7 * 86400 - 10 * 3600)
    assert r.h.legionella
    r.cfg = cfg_of(legionella_active=0)
    assert r.step() == AUTO and not r.h.legionella


def test_a_fault_ends_with_the_mains_back():
    r = Run(cfg_of())
    r.synced = False
    assert r.step() == AUTO and r.h.reason == "fault"
    r.synced = True
    assert r.step() == AUTO


def test_in_window_across_midnight():
    assert in_window(23 * 3600, 22 * 3600, 6 * 3600)
    assert in_window(3 * 3600, 22 * 3600, 6 * 3600)
    assert not in_window(12 * 3600, 22 * 3600, 6 * 3600)
    assert in_window(12 * 3600, 8 * 3600, 14 * 3600)


# --- schedules on local time ----------------------------------------------------------------
@pytest.mark.parametrize("hour,minute", [(4, 0), (2, 30)])
def test_the_timer_boost_fires_once_a_day_through_both_dst_days(hour, minute):
    """A week around each change of 2026 (29 March, 25 October), clock from UTC."""
    for start in (utc(2026, 3, 26), utc(2026, 10, 22)):
        h = Heater()
        cfg = cfg_of(boost_timer_active=1, boost_timer_hour=hour, boost_timer_minute=minute,
                     boost_duration=1)
        starts = []
        for s in range(0, 7 * 86400, 1):
            was = h.boost
            h.second(s, paris(start + s), 45, 0, 0, 0, True, AUTO, cfg)
            if h.boost and not was:
                starts.append(paris(start + s) % 86400)
        assert len(starts) == 7
        want = hour * 3600 + minute * 60
        # on the spring day 02:30 does not exist: it fires as the clock jumps to 03:00
        assert all(x == want for x in starts) or (hour, minute) == (2, 30) and \
            sorted(starts) == [want] * 6 + [3 * 3600] and start < utc(2026, 6, 1)


def test_setting_the_clock_is_not_a_passing():
    h = Heater()
    cfg = cfg_of(boost_timer_active=1, boost_timer_hour=4, boost_timer_minute=0)
    t0 = paris(utc(2026, 6, 21, 1, 0))           # 03:00 local
    h.second(1, t0, 45, 0, 0, 0, True, AUTO, cfg)
    h.second(2, t0 + 2 * 3600, 45, 0, 0, 0, True, AUTO, cfg)   # set 2 h forward
    assert h.boost is None
    h.second(3, None, 45, 0, 0, 0, True, AUTO, cfg)            # time unknown
    h.second(4, t0 + 2 * 3600 + 1, 45, 0, 0, 0, True, AUTO, cfg)
    assert h.boost is None


def test_a_scheduled_boost_is_skipped_in_manual_mode():
    h = Heater()
    cfg = cfg_of(boost_timer_active=1, boost_timer_hour=4, boost_timer_minute=0)
    t0 = paris(utc(2026, 6, 21, 2, 0)) - 1
    h.second(1, t0, 45, 0, 0, 0, True, STOP, cfg)
    assert h.second(2, t0 + 1, 45, 0, 0, 0, True, STOP, cfg) == STOP
    assert h.boost is None and "manual" in h.note


# --- a week of weather ----------------------------------------------------------------------
class Tank:
    """200 L, 2 W/K to 18 °C, a 2 kW element behind a thermostat at 65 °C (5 °C band), hot
    water drawn at 07:00 (4 kWh of heat over 10 min) and 19:00 (2 kWh)."""
    L = 200
    J_PER_K = 200 * 4186

    def __init__(self, t0):
        self.t = t0
        self.closed = True

    def step(self, p_w, local, dt):
        s = local % 86400
        draw = 4000 * 3600 / 600 if 7 * 3600 <= s < 7 * 3600 + 600 else (
            2000 * 3600 / 600 if 19 * 3600 <= s < 19 * 3600 + 600 else 0)
        p = p_w if self.closed else 0.0
        self.t += (p - 2.0 * (self.t - 18) - draw) * dt / self.J_PER_K
        self.t = max(self.t, 12.0)
        if self.t >= 65:
            self.closed = False
        elif self.t <= 60:
            self.closed = True
        return p


def surplus_w(local, sunny):
    """PV minus the house, W: a sine from 07:00 to 19:00, 3 kW peak less 300 W of house."""
    s = local % 86400 / 3600
    if not 7 <= s <= 19:
        return -300.0
    import math
    return 3000 * (1.0 if sunny else 0.08) * math.sin(math.pi * (s - 7) / 12) - 300


def week(cfg, sunny_days, t0=35.0, start=None):
    """Seven days from Monday 2026-03-23 00:00 local (the DST change on the Sunday), in 5 s
    steps. Returns the heater, the tank's temperatures at 06:55 local (before the morning
    draw) from day 1, the grid energy the model saw going into the heater while a demand
    forced it (Wh), and the cycles started."""
    start = start or utc(2026, 3, 22, 23)
    h = Heater()
    tank = Tank(t0)
    dt = 5
    grid_heat = 0.0
    morning = []
    p_prev, grid, routed = 0.0, 0.0, 0.0
    cycles = 0
    for k in range(7 * 86400 // dt):
        s = k * dt
        local = paris(start + s)
        day = k * dt // 86400
        sp = surplus_w(local, day in sunny_days)
        mode = h.second(s, local, tank.t, 0, grid, routed, True, AUTO, cfg)
        if h.legionella and h.note == "anti-legionella cycle started" and k and not cycles:
            cycles = 1
        ask = 2000.0 if mode == FORCE else (0.0 if mode == STOP else
                                            min(max(sp, 0.0), 2000.0))
        routed = tank.step(ask, local, dt)
        grid = routed - sp
        if h.reason in ("keep_warm", "legionella", "boost") and mode == FORCE and grid > 0:
            grid_heat += min(grid, routed) * dt / 3600
        if s >= 86400 and local % 86400 == 6 * 3600 + 55 * 60:
            morning.append(tank.t)
    return h, morning, grid_heat, cycles


def test_keep_warm_over_a_grey_week():
    cfg = cfg_of(keepwarm_active=1, keepwarm_min=40)
    h, morning, grid_heat, _ = week(cfg, sunny_days=())
    _, without, _, _ = week(cfg_of(), sunny_days=())
    print("\ngrey week, tank before the morning draw: %s °C with keep-warm at 40 °C, %s °C "
          "without; %.1f kWh from the grid for it" % (
              " ".join("%.1f" % x for x in morning), " ".join("%.1f" % x for x in without),
              h.grid_wh / 1000))
    assert len(morning) == 6 and min(without) < 25      # without it the tank goes cold
    assert min(morning) >= 39.9 and max(morning) <= 43.1
    assert h.grid_wh == pytest.approx(grid_heat, rel=0.02) and h.grid_wh > 10000
    # off-peak only (22:00-06:00): warm in the morning too, heated at night
    cfg = cfg_of(keepwarm_active=1, keepwarm_min=40, keepwarm_offpeak=1)
    _, morning2, _, _ = week(cfg, sunny_days=())
    print("off-peak only: %s °C" % " ".join("%.1f" % x for x in morning2))
    assert min(morning2) >= 39.9


def test_anti_legionella_over_a_week_of_weather():
    cfg = cfg_of(legionella_active=1, legionella_day=6, legionella_hour=13)
    # sunny Saturday: PV holds the tank above 60 °C for an hour -> Sunday's cycle not needed
    h, _, _, cycles = week(cfg, sunny_days=(5,), t0=50)
    print("\nsunny Saturday: last hot day %s, note %r, grid %.2f kWh" %
          (h.last_hot_day, h.note, h.grid_wh / 1000))
    assert cycles == 0 and h.last_hot_day is not None and h.grid_wh == 0
    assert "not needed" in h.note
    # a grey week: the Sunday cycle runs from 13:00 and takes what PV did not give
    h, _, grid_heat, cycles = week(cfg, sunny_days=(), t0=50)
    print("grey week: cycle %s, note %r, %.2f kWh from the grid" %
          (cycles, h.note, h.grid_wh / 1000))
    assert cycles == 1 and h.note == "anti-legionella cycle done"
    sunday = paris(utc(2026, 3, 29, 11)) // 86400
    assert h.last_hot_day == sunday
    assert h.grid_wh == pytest.approx(grid_heat, rel=0.02) and h.grid_wh > 1000


def test_the_owners_page_lists_the_table_in_its_order():
    import os
    import re
    page = open(os.path.join(os.path.dirname(__file__), "..", "docs", "heater.md")).read()
    listed = re.findall(r"^\| `(\w+)` \|", page, re.M)
    assert listed == [r for r, _ in PRIORITY]


def test_home_assistants_heater_words_are_the_tables():
    from net.mqtt_discovery import ENTITIES
    row = [r for r in ENTITIES if r.split("|")[2] == "heater"][0]
    assert row.split("|")[7] == "enum=" + ",".join(r for r, _ in PRIORITY)


# --- review findings (each failed before its fix) -------------------------------------------
def test_a_lost_probe_during_anti_legionella_stops_the_heating():
    sunday_13 = paris(utc(2026, 6, 21, 11, 0)) - 2
    r = Run(cfg_of(legionella_active=1, legionella_day=6, legionella_hour=13), temp=50,
            local0=sunday_13)
    r.step(3)
    assert r.h.legionella and r.step() == FORCE
    r.temp = None
    assert r.step() == AUTO and r.h.reason == "routing"
    # given up later: no stale demand is left for the next cycle
    r.step(36000)
    assert not r.h.legionella and not r.h.leg_heat


def test_a_scheduled_boost_does_not_replace_a_running_one():
    t0 = paris(utc(2026, 6, 21, 2, 0)) - 5           # 03:59:55 local
    r = Run(cfg_of(boost_timer_active=1, boost_timer_hour=4, boost_timer_minute=0,
                   boost_duration=1), local0=t0)
    r.h.boost_on(r.t, 120, 100)
    r.step(10)
    assert r.h.boost == "manual" and r.h.boost_left(r.t) > 7000
    assert "a manual boost is running" in r.h.note


def test_the_limit_cannot_be_set_below_what_keep_warm_or_anti_legionella_need():
    from records.config import Config, ConfigError
    c = Config(None)
    c.update('{"temp_limit_active":1,"max_temp":65,"legionella_active":1}')
    with pytest.raises(ConfigError, match="anti-legionella needs max_temp"):
        c.update('{"max_temp":55}')
    with pytest.raises(ConfigError, match="keepwarm_min"):
        c.update('{"keepwarm_active":1,"keepwarm_min":61}')
    c.update('{"keepwarm_active":1,"keepwarm_min":60}')
    assert c.get("max_temp") == 65
