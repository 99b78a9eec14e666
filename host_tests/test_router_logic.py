"""Pure router logic under CPython: parameters, the secondary relay, energy indices and the
power-loss-safe store (with a file system that cuts the power at every step of a save)."""
import os

import pytest
from hypothesis import given, settings, strategies as st

from router import params as P
from router.params import Params, ParamError
from router.relay import Relay
from router.status import STOP, FORCE, AUTO
from router.energy import Energy
from records.store import Store, _Os

BOARD = {"V_CALIB": 0.30842, "P_CALIB": 0.015066, "PHASE_CALIB": 17}


# --- parameters --------------------------------------------------------------------------------
def test_table_has_the_16_parameters_in_ecopv_order():
    assert P.COUNT == 16
    assert [r[1] for r in P.TABLE][:6] == ["V_CALIB", "P_CALIB", "PHASE_CALIB", "P_OFFSET",
                                           "P_RESISTANCE", "P_MARGIN"]
    assert [r[0] for r in P.TABLE] == list(range(1, 17))


def test_allparam_shows_defaults_with_their_formats():
    p = Params(BOARD)
    assert p.all_text() == "0.30842,0.015066,17,0,2000,10,8,45,5,1000,200,5,5,1,1.000,3000"


@pytest.mark.parametrize("num,text,value", [(6, "150", 150), (6, "-2000", -2000), (1, "0,3123", 0.3123),
                                            (15, "2.5", 2.5), (15, " 1,25 ", 1.25), (5, "3000.0", 3000)])
def test_valid_values_apply_at_once_with_comma_or_point(num, text, value):
    p = Params(BOARD)
    seen = []
    p.listeners.append(lambda ps: seen.append(ps.values[num - 1]))
    assert p.set(num, text) == value
    assert p.values[num - 1] == value and seen == [value]


@pytest.mark.parametrize("num,text,why", [
    (6, "2001", "within -2000..2000"), (5, "99", "within 100..10000"), (3, "49", "within"),
    (7, "8.5", "whole number"), (2, "abc", "not a number"), (2, "", "not a number"),
    (1, "nan", "not a number"), (1, "inf", "not a number"), (17, "1", "no parameter"),
    (0, "1", "no parameter"), (2, "0.5", "within"), (6, "1_0", "not a number"),
])
def test_invalid_values_are_refused_and_change_nothing(num, text, why):
    p = Params(BOARD)
    before = list(p.values)
    seen = []
    p.listeners.append(lambda ps: seen.append(1))
    with pytest.raises(ParamError) as e:
        p.set(num, text)
    assert why in str(e.value)
    assert p.values == before and seen == []


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 16), st.text(max_size=12))
def test_any_text_is_either_a_valid_value_or_refused_cleanly(num, text):
    p = Params(BOARD)
    before = list(p.values)
    try:
        v = p.set(num, text)
    except ParamError:
        assert p.values == before
    else:
        r = P.row(num)
        assert r[4] <= v <= r[5]


def test_save_load_format_like_the_original_eeprom(tmp_path):
    store = Store(str(tmp_path))
    p = Params(BOARD, store)
    p.set(6, "50")
    assert not p.load()                     # nothing saved yet: load changes nothing
    assert p.get("P_MARGIN") == 50
    p.save()
    p.set(6, "-20")
    assert p.load() and p.get("P_MARGIN") == 50          # back to the saved value
    assert Params(BOARD, store).get("P_MARGIN") == 50    # and that is what a reboot starts with
    p.format()
    assert p.get("P_MARGIN") == 10                       # defaults, live
    assert Params(BOARD, store).get("P_MARGIN") == 10    # and after a reboot


def test_a_saved_set_that_no_longer_validates_is_ignored(tmp_path):
    store = Store(str(tmp_path))
    store.write("params", {"v": 1, "values": [0.3, 0.015, 17, 0, 2000, 99999, 8, 45, 5, 1000,
                                              200, 5, 5, 1, 1.0, 3000]})
    assert Params(BOARD, store).get("P_MARGIN") == 10


# --- secondary relay -----------------------------------------------------------------------------
def relay(active=1000, idle=200, t_on=1, t_off=2, tc=0):
    r = Relay()
    r.configure(active, idle, t_on, t_off, tc)
    return r


def test_relay_auto_turns_on_with_surplus_and_keeps_its_minimum_on_time():
    r = relay()
    assert not r.second(-500, 400)          # surplus 900 W < 1000
    assert r.second(-700, 400)              # surplus 1100 W: on
    # Import right away: stays on for T_DIV2_ON = 1 min ...
    for _ in range(60):
        assert r.second(500, 0)
    assert not r.second(500, 0)             # ... then off


def test_relay_auto_keeps_its_minimum_off_time():
    r = relay()
    r.second(-1500, 0)
    for _ in range(61):
        r.second(500, 0)
    assert not r.on
    for _ in range(120):                    # T_DIV2_OFF = 2 min, even with a big surplus
        assert not r.second(-3000, 0)
    assert r.second(-3000, 0)               # (EcoPV: on in the second after the countdown)


def test_relay_stays_on_below_the_import_threshold():
    r = relay(t_on=0)
    r.second(-1500, 0)
    for _ in range(100):
        assert r.second(150, 0)             # importing 150 W < P_DIV2_IDLE 200 W
    assert not r.second(250, 0)


def test_relay_decides_on_filtered_values():
    r = relay(tc=1)                         # 1 min time constant
    for _ in range(20):
        r.second(-1500, 0)
    assert not r.on                         # 20 s of surplus is not enough yet
    for _ in range(200):
        r.second(-1500, 0)
    assert r.on


def test_relay_surplus_counts_what_the_ssr_routes():
    r = relay()
    assert r.second(10, 1500)               # routing 1.5 kW at the import target: surplus 1.49 kW


@pytest.mark.parametrize("mode,on", [(STOP, False), (FORCE, True)])
def test_relay_stop_and_force_ignore_power_and_timers(mode, on):
    r = relay()
    r.second(-3000, 0)
    r.set_mode(mode)
    for p in (-5000, 0, 5000):
        assert r.second(p, 0) is on


# --- energy indices ------------------------------------------------------------------------------
def test_a_full_day_of_windows_counts_exactly_with_sub_wh_remainders():
    # 86 400 s of 30 ms windows at awkward powers: the integer indices with their remainders
    # must equal the exact integrals to a millionth (no 5 Wh steps, no drift; the only error
    # is sub-10 µs time remainders charged at the next window's power).
    e = Energy()
    exact = [0.0, 0.0, 0.0]
    t = 0
    k = 0
    while t < 86400 * 1000000:
        dt = 29997 + (k % 7)
        grid = (k % 2001) - 1000
        routed = (k * 37) % 2037
        relay = (k // 1000) % 2 == 0
        e.account(grid, routed, dt, relay)
        exact[0] += routed * dt
        if grid >= 0:
            exact[1] += grid * dt
        else:
            exact[2] -= grid * dt
        t += dt
        k += 1
    for i in range(3):
        wh = exact[i] / 3.6e9
        assert abs(e.wh[i] + e.rem[i] / 3.6e8 - wh) <= 1e-6 * wh   # Wh and remainder
    assert abs(e.relay_s - 43200) < 30


def test_pulses_survive_the_board_counter_restarting():
    e = Energy()
    e.count_pulses(0)
    e.count_pulses(40)
    e.count_pulses(5)          # the board rebooted: its counter restarted from 0
    e.count_pulses(9)
    assert e.pulses == 44


def test_day_references_follow_the_local_day():
    e = Energy()
    assert e.new_day(100)
    e.account(500, 0, 3600 * 1000000, False)
    assert not e.new_day(100)
    assert e.refs[1] == 0
    assert e.new_day(101) and e.refs[1] == 500


# --- the store: power cuts at every point of a save --------------------------------------------
class PowerCut(Exception):
    pass


class FaultyFs(_Os):
    """Cuts the power after `budget` low-level operations; a file write is cut half-way."""

    def __init__(self, budget):
        self.budget = budget

    def _step(self):
        if self.budget == 0:
            raise PowerCut()
        self.budget -= 1

    def write(self, path, text):
        self._step()
        with open(path, "w") as f:
            f.write(text[: len(text) // 2])     # a torn write: half the data reached the flash
        self._step()
        with open(path, "w") as f:
            f.write(text)

    def rename(self, a, b):
        self._step()
        os.rename(a, b)

    def remove(self, path):
        self._step()
        os.remove(path)


def test_counters_survive_a_power_cut_at_every_point_of_a_save(tmp_path):
    old = Energy()
    old.account(1000, 500, 7200 * 1000000, True)
    new = Energy()
    new.from_dict(old.to_dict())
    new.account(-800, 1800, 3600 * 1000000, False)
    for budget in range(0, 10):
        d = tmp_path / ("cut%d" % budget)
        Store(str(d)).write("energy", old.to_dict())
        s = Store(str(d), FaultyFs(budget))
        try:
            s.write("energy", new.to_dict())
        except PowerCut:
            pass
        back = Energy()
        assert back.from_dict(Store(str(d)).read("energy")), budget   # never lost
        assert back.snapshot() in (old.snapshot(), new.snapshot())     # never a mix


def test_a_damaged_record_is_not_trusted(tmp_path):
    s = Store(str(tmp_path))
    s.write("energy", {"v": 1, "wh": [1, 2, 3]})
    path = tmp_path / "energy.json"
    path.write_text(path.read_text().replace("1, 2, 3", "1, 2, 9"))
    assert s.read("energy") is None


def test_generated_docs_are_up_to_date():
    import subprocess
    import sys
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    p = subprocess.run([sys.executable, os.path.join(root, "tools", "docs.py"), "--check"],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stdout


@pytest.mark.parametrize("half_us", [10000, 8333])
def test_firing_angle_delivers_the_commanded_share_of_power(half_us):
    # The delay for a share of full power, mapped back through the half-sine energy curve,
    # gives that share back within 0.1 % of full power (at 50 and 60 Hz).
    from router.phase import delay_us, fraction_q16
    for q in range(0, 65537, 257):
        d = delay_us(q, half_us)
        assert 0 <= d <= half_us
        assert abs(fraction_q16(d, half_us) - q) <= 66 + 65536 * 2 / half_us   # + 1 µs rounding
    assert delay_us(0, half_us) == half_us and delay_us(65536, half_us) == 0


@pytest.mark.parametrize("key,value", [("mqtt_user", "\udea3"), ("mqtt_port", "1_0"), ("ip", "1.2.3"),
                                       ("remoterelay_on", "relay"), ("hostname", "-x")])
def test_configuration_refuses_bad_values(key, value):
    from records.config import check, ConfigError
    with pytest.raises(ConfigError):
        check(key, value)
