"""Boost, the temperature limit, keep-warm and persisted modes over HTTP, against the firmware
under MicroPython on the simulated board: the house's truth (/sim/state) says whether the
heater really draws power. Small tanks (5 L) make the water heat in seconds."""
import json
import time

import pytest

from test_api import Firmware, get, ok


def scenario(tmp_path, name, **over):
    d = {"start": "03:59", "pv": {"peak_w": 0}, "house": {"base_w": 300},
         "heater": {"w": 2000, "tank_l": 5, "t0": 40, "t_max": 80, "hyst": 5, "ua": 0.5}}
    d.update(over)
    path = tmp_path / (name + ".json")
    path.write_text(json.dumps(d))
    return str(path)


def sim(base):
    return json.loads(get(base, "/sim/state")[1])


def heater(base):
    return json.loads(ok_json(base, "/api/get?heater"))


def ok_json(base, path):
    status, body, ctype = get(base, path)
    assert status == 200 and ctype.startswith("application/json"), (path, status, body)
    return body


def configure(base, **keys):
    status, body, _ = get(base, "/api/set?configmaxpv&value=" + json.dumps(keys).replace(" ", ""))
    assert status == 200, body


def until(pred, timeout=30, every=0.2):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(every)
    return pred()


def heater_w(base, over=1.0):
    """The heater's mean power over the next `over` s of the house's clock (its truth, not
    the router's report)."""
    a = sim(base)["truth"]
    time.sleep(over)
    z = sim(base)["truth"]
    return (z["heater_wh"] - a["heater_wh"]) * 3600 / max(z["seconds"] - a["seconds"], 1e-3)


def powered(base):
    """The heater draws (nearly) full power."""
    return heater_w(base) > 1500


def unpowered(base):
    return heater_w(base) < 30


@pytest.fixture
def night(tmp_path):
    fw = Firmware(tmp_path / "flash", scenario=scenario(tmp_path, "night"), speed="1")
    yield fw
    fw.stop()


def test_booston_forces_the_heater_until_the_duration_or_boostoff(night):
    b = night.base
    configure(b, boost_duration=1, boost_ratio=100)
    assert ok(b, "/api/get?booststate") == "OFF"
    time.sleep(1.5)
    assert unpowered(b)                                # night, no surplus: off
    t0 = sim(b)["seconds"]
    assert ok(b, "/api/action?booston") == "Request successfully processed"
    assert ok(b, "/api/get?booststate") == "ON"
    assert until(lambda: powered(b), 3)
    h = heater(b)
    assert h["reason"] == "boost" and h["boost"]["kind"] == "manual"
    assert 55 <= h["boost"]["left_s"] <= 60
    # the grid pays: ~2.3 kW imported, and the SSR is at 100 %
    assert until(lambda: (sim(b)["now"] or {}).get("p", 0) > 2000, 5)
    assert until(lambda: ok(b, "/api/get?ssrstate") == "MAX", 3)
    assert ok(b, "/api/get?data=14") == "9"
    # OFF after the minute
    assert until(lambda: ok(b, "/api/get?booststate") == "OFF", 75)
    assert sim(b)["seconds"] - t0 >= 59
    assert until(lambda: unpowered(b), 3)
    assert heater(b)["reason"] == "routing"
    # again, then boostoff
    ok(b, "/api/action?booston")
    assert until(lambda: powered(b), 3)
    assert ok(b, "/api/action?boostoff") == "Request successfully processed"
    assert ok(b, "/api/get?booststate") == "OFF"
    assert until(lambda: unpowered(b), 3)
    # an SSR mode command ends it, as on the original
    ok(b, "/api/action?booston")
    ok(b, "/api/set?ssrmode&value=auto")
    assert ok(b, "/api/get?booststate") == "OFF"
    assert heater(b)["note"] == "boost ended by an SSR mode command"
    # from STOP, a boost puts the SSR in AUTO (in which it ends)
    ok(b, "/api/set?ssrmode&value=stop")
    ok(b, "/api/action?booston")
    assert ok(b, "/api/get?data=14") == "9" and until(lambda: powered(b), 3)
    ok(b, "/api/action?boostoff")
    # ratio 0 disables boost: refused with the reason, nothing started
    configure(b, boost_ratio=0)
    status, body, _ = get(b, "/api/action?booston")
    assert status == 400 and "boost_ratio is 0" in body
    assert ok(b, "/api/get?booststate") == "OFF"


def test_the_scheduled_boost_starts_at_its_local_time(night):
    b = night.base
    configure(b, boost_timer_active=1, boost_timer_hour=4, boost_timer_minute=0,
              boost_duration=2)
    t = ok(b, "/api/get?time")
    assert t.startswith("03:59"), t
    assert ok(b, "/api/get?booststate") == "OFF"
    # OFF until 04:00:00 local, ON within a second or so of it
    seen = []
    end = time.monotonic() + 75
    while time.monotonic() < end:
        t = ok(b, "/api/get?time")
        s = ok(b, "/api/get?booststate")
        seen.append((t, s))
        if s == "ON":
            break
        time.sleep(0.2)
    assert seen[-1][1] == "ON", seen[-5:]
    # (the time and the state are two requests; the router decides once a second)
    assert all(t < "04:00:02" for t, s in seen if s == "OFF"), seen[-5:]
    assert any(t.startswith("03:59:5") for t, s in seen), seen[:3]
    assert seen[-1][0] <= "04:00:02", seen[-3:]
    assert heater(b)["boost"]["kind"] == "timer" and until(lambda: powered(b), 3)


def test_the_temperature_limit_stops_routing_at_the_tank_limit(tmp_path):
    sc = scenario(tmp_path, "noon", start="12:00",
                  pv={"peak_w": 5000, "sunrise": "06:00", "sunset": "20:00"},
                  heater={"w": 2000, "tank_l": 5, "t0": 42, "t_max": 80, "hyst": 5,
                          "ua": 0.5})
    fw = Firmware(tmp_path / "flash", scenario=sc, speed="1")
    b = fw.base
    try:
        configure(b, temp_limit_active=1, max_temp=46)
        assert until(lambda: powered(b) and float(ok(b, "/api/get?data=05")) > 1500, 10)
        assert heater(b)["reason"] == "routing"
        # ~0.1 K/s at 2 kW: the limit within a minute
        assert until(lambda: heater(b)["reason"] == "over_temp", 90)
        t = float(ok(b, "/api/get?data=28"))
        assert 46 <= t < 47, t
        assert until(lambda: unpowered(b), 3)
        time.sleep(2)
        assert float(ok(b, "/api/get?data=05")) == 0.0
        assert float(ok(b, "/api/get?data=07")) > 1500        # the surplus goes to the grid
        assert sim(b)["tank_c"] < 47
        # a boost is refused above the limit, with the reason
        status, body, _ = get(b, "/api/action?booston")
        assert status == 400 and "temperature limit" in body
        # the limit off: routing again
        configure(b, temp_limit_active=0)
        assert until(lambda: powered(b), 5) and heater(b)["reason"] == "routing"
    finally:
        fw.stop()


def test_keep_warm_heats_a_cold_tank_from_the_grid_and_stops_at_its_set_point(tmp_path):
    sc = scenario(tmp_path, "cold", start="20:00",
                  heater={"w": 2000, "tank_l": 5, "t0": 30, "t_max": 80, "hyst": 5, "ua": 0.5})
    fw = Firmware(tmp_path / "flash", scenario=sc, speed="1")
    b = fw.base
    try:
        time.sleep(1.5)
        assert unpowered(b)
        configure(b, keepwarm_active=1, keepwarm_min=33)
        assert until(lambda: powered(b), 3)
        h = heater(b)
        assert h["reason"] == "keep_warm" and h["keep_warm"]
        assert until(lambda: (sim(b)["now"] or {}).get("p", 0) > 2000, 5)   # from the grid
        # heats to 3 °C above the minimum, then stops
        assert until(lambda: heater(b)["reason"] == "routing", 90)
        assert until(lambda: unpowered(b), 3)
        t = sim(b)["tank_c"]
        assert 35.8 <= t < 36.8, t          # (then it cools a little)
        h = heater(b)
        # ~6 K x 5 L = 35 Wh of heat, all of it from the grid
        assert 0.03 <= h["grid_heat_kwh"] <= 0.06, h
        time.sleep(3)
        assert unpowered(b)
    finally:
        fw.stop()


@pytest.mark.parametrize("persist", [1, 0])
def test_modes_survive_a_reboot_unless_told_otherwise(tmp_path, persist):
    fw = Firmware(tmp_path / "flash", scenario=scenario(tmp_path, "night"), speed="1")
    b = fw.base
    try:
        configure(b, persist_modes=persist)
        ok(b, "/api/set?ssrmode&value=stop")
        ok(b, "/api/set?relaymode&value=force")
        ok(b, "/api/action?rebootesp")
        time.sleep(1)
        fw.wait()
        want = ("0", "1") if persist else ("9", "9")
        assert (ok(b, "/api/get?data=14"), ok(b, "/api/get?data=15")) == want
        if persist:
            assert heater(b)["reason"] == "manual_stop" and unpowered(b)
            assert ok(b, "/api/get?relaystate") == "FORCE"
    finally:
        fw.stop()


def test_relayplus_takes_its_reference_at_its_hour_and_a_manual_command_ends_it(tmp_path):
    # the house's clock at 10x: 21:01 local six seconds after the start
    fw = Firmware(tmp_path / "flash", scenario=scenario(tmp_path, "evening", start="21:00",
                                                        time_scale=10), speed="1")
    b = fw.base
    try:
        configure(b, RelayPlus_active=1, RelayPlus_hour=21, RelayPlus_min=60,
                  RelayPlus_max=120)
        assert ok(b, "/api/get?relayplusstate") == "OFF"
        assert until(lambda: ok(b, "/api/get?relayplusstate") == "ON", 15)
        assert ok(b, "/api/get?time") >= "21:01:00"
        ok(b, "/api/set?relaymode&value=stop")
        assert ok(b, "/api/get?relayplusstate") == "OFF"
    finally:
        fw.stop()
