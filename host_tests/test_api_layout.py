"""The configuration key `api_layout`: `3.1` (the default) keeps `data=NN` and `alldata` as
v3.1's (26 fields, our extras at 27-29); `3.60` serves the original MaxPV! 3.60's 29 fields
(relay minutes at 23, the tank temperature in whole degrees at 24, the day references at
25-29). The web UI's `alldata&extended&states&clock` is the same whatever the layout.

Over real HTTP against the firmware under MicroPython on the simulated board, and the data
list's table itself under CPython."""
import json
import os
import re
import urllib.parse

import pytest

from api import data
from realtime import State
from router.energy import ROUTED, IMPORTED, EXPORTED, PRODUCED, RELAY_MIN
from test_api import FORMATS, KWH, get, launch, ok

# 3.60's formats: 1-22 as v3.1, then relay minutes, whole-degree temperature, day references
FORMATS_360 = dict((n, FORMATS[n]) for n in range(1, 23))
FORMATS_360.update({23: r"\d+", 24: r"(-99|\d+)", 25: KWH, 26: KWH, 27: KWH, 28: KWH,
                    29: r"\d+", 30: r"[01]", 31: r"\d+"})
UI = "/api/get?alldata&extended&states&clock"
SCENARIOS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                         "firmware", "board", "sim", "scenarios")


# --- the table, under CPython -----------------------------------------------------------------
def test_both_numberings_come_from_one_table_and_run_1_to_n():
    for col, layout in ((0, "3.1"), (1, "3.60")):
        rows, _ = data.LAYOUTS[layout]
        assert [r[col] for r in rows] == list(range(1, len(rows) + 1))
        assert all(any(r is t for t in data.TABLE) for r in rows)     # rows, not copies
    assert all(r[0] or r[1] for r in data.TABLE)                       # each row served
    assert data.LAYOUTS["3.1"][1] == 26 and data.COUNT == data.count() == 30
    assert data.LAYOUTS["3.60"][1] == 29 and data.count("3.60") == 31


def _state(t=47.9375):
    st = State()
    st.vrms, st.irms, st.p, st.s, st.cosphi = 231.2, 4.5, -812.5, 1040.0, -0.78
    st.index = (12345, 23456, 34567, 45678.0, 789)
    st.day_ref = (1000, 2000, 3000, 4000.0, 77)
    st.temperature = t
    st.load_absent = True
    return st


def test_the_360_layout_under_cpython():
    st = _state()
    v31 = data.alldata(st).split(",")
    v360 = data.alldata(st, api_layout="3.60").split(",")
    assert len(v31) == 26 and len(v360) == 29
    assert v360[:22] == v31[:22]
    assert v360[22] == "789" and v360[23] == "47" and v360[28] == "77"
    assert v360[24:28] == v31[22:26] == ["1.000", "2.000", "3.000", "4.000"]
    assert data.value(st, 24, "3.60") == "47" and data.value(st, 23, "3.60") == "789"
    assert data.value(st, 30, "3.60") == "1"
    # extended is the 3.1 numbering whatever the layout (the web UI's read)
    assert data.alldata(st, True, "3.60") == data.alldata(st, True)
    assert data.alldata(st, True).split(",")[26:] == ["789", "47.9", "1", "0"]
    # the internal callers' 3.1 numbering (net/mqtt_topics.py: 27 relay index, 28 temperature)
    assert data.value(st, 27) == "789" and data.value(st, 28) == "47.9"
    assert data.value(st, 23) == "1.000"


@pytest.mark.parametrize("t, v31, v360", [
    (None, "-99", "-99"), (0, "-99", "-99"), (0.0, "-99", "-99"), (-5.5, "-99", "-99"),
    (95, "-99", "-99"), (95.0, "-99", "-99"), (120.0, "-99", "-99"), (0.0625, "0.1", "0"),
    (0.9, "0.9", "0"), (59.9375, "59.9", "59"), (60.0, "60.0", "60"), (94.9375, "94.9", "94"),
])
def test_temperature_validity_and_truncation(t, v31, v360):
    from router.heater import valid_temp      # what the router keeps of the probe's reading
    st = _state(valid_temp(t))
    assert data.value(st, 28) == v31
    assert data.value(st, 24, "3.60") == v360


# --- over HTTP, the firmware under MicroPython ------------------------------------------------
def _scenario(tmp_path, name, t0, t_max):
    """load_steps with the tank at t0 °C and the thermostat at t_max: above it the heater
    stays off and the tank cools by a few thousandths of a degree a minute (steady figures)."""
    with open(os.path.join(SCENARIOS, "load_steps.json")) as f:
        d = json.load(f)
    d["heater"].update({"t0": t0, "t_max": t_max})
    path = str(tmp_path / ("%s.json" % name))
    with open(path, "w") as f:
        json.dump(d, f)
    return path


def _layout(base, layout):
    value = urllib.parse.quote(json.dumps({"api_layout": layout}))
    assert ok(base, "/api/set?configmaxpv&value=" + value) == "Request successfully processed"
    assert json.loads(ok_json(base))["api_layout"] == layout


def ok_json(base):
    status, body, _ = get(base, "/api/get?configmaxpv")
    assert status == 200
    return body


def _fields(base, query="alldata"):
    return ok(base, "/api/get?" + query).split(",")


def _check(fields, formats):
    for n, f in enumerate(fields, 1):
        assert re.fullmatch(formats[n], f), (n, f)


@pytest.fixture(scope="module")
def board(tmp_path_factory):
    """A board that never saved anything, tank at 47.5 °C, thermostat open."""
    tmp = tmp_path_factory.mktemp("layout")
    flash = tmp / "flash"
    flash.mkdir()
    fw = launch(flash, scenario=_scenario(tmp, "steady", 47.5, 40))
    yield fw, flash, tmp
    fw.stop()


def _ui_shape(base):
    ui = _fields(base, UI[len("/api/get?"):])
    assert len(ui) == 30 + 5
    _check(ui[:30], FORMATS)
    assert ui[30] in ("STOP", "FORCE", "MAX", "ON", "OFF") and ui[32] == "running"
    assert ui[34] in ("synced", "unsynced")
    return ui


def test_the_layouts_over_http(board):
    fw, flash, tmp = board
    base = fw.base
    # default, fresh data dir: v3.1's 26 fields in today's formats
    assert json.loads(ok_json(base))["api_layout"] == "3.1"
    v31 = _fields(base)
    assert len(v31) == 26
    _check(v31, FORMATS)
    assert ok(base, "/api/get?data=28") == "47.5"            # valid probe: 1 decimal
    assert ok(base, "/api/get?data=24") == v31[23]            # kWh day reference in 3.1
    assert re.fullmatch(KWH, ok(base, "/api/get?data=23"))
    assert get(base, "/api/get?data=31")[0] == 400
    ui31 = _ui_shape(base)

    _layout(base, "3.60")
    v360 = _fields(base)
    assert len(v360) == 29
    _check(v360, FORMATS_360)
    ext = _fields(base, "alldata&extended")
    assert len(ext) == 30
    _check(ext, FORMATS)
    assert v360[13:15] == ext[13:15] == ["9", "9"]                          # modes
    assert v360[22] == ext[26]                                 # relay on-time index, minutes
    assert v360[23] == "47" and ext[27] == "47.5"              # truncated, as the original
    assert v360[24:28] == ext[22:26] == v31[22:26]             # day references of 9..12
    assert v360[28] == "0"                                     # relay minutes at day start
    assert ok(base, "/api/get?data=24") == "47"
    assert ok(base, "/api/get?data=23") == ext[26]
    assert ok(base, "/api/get?data=29") == "0"
    assert ok(base, "/api/get?data=25") == v31[22]
    assert ok(base, "/api/get?data=30") == "1"                 # thermostat open: resistor absent
    for n in range(1, 32):
        assert re.fullmatch(FORMATS_360[n], ok(base, "/api/get?data=%02d" % n)), n
    code, body, _ = get(base, "/api/get?data=32")
    assert code == 400 and body.startswith("Unknown request") and "01..31" in body

    # the web UI's read is the same whatever the layout
    ui360 = _ui_shape(base)
    assert ui360[22:26] == ui31[22:26] and ui360[27] == ui31[27] == "47.5"

    # the layout is saved: a reboot keeps it
    fw.stop()
    fw2 = launch(flash, scenario=_scenario(tmp, "steady", 47.5, 40))
    try:
        assert len(_fields(fw2.base)) == 29
        assert ok(fw2.base, "/api/get?data=24") == "47"
        # back to 3.1: v3.1's 26 again
        _layout(fw2.base, "3.1")
        back = _fields(fw2.base)
        assert len(back) == 26
        _check(back, FORMATS)
        assert ok(fw2.base, "/api/get?data=24") == back[23]
        assert ok(fw2.base, "/api/get?data=28") == "47.5"
        assert get(fw2.base, "/api/get?data=31")[0] == 400
        _ui_shape(fw2.base)
    finally:
        fw2.stop()


def test_a_tank_probe_out_of_range_reads_minus_99(tmp_path):
    flash = tmp_path / "flash"
    flash.mkdir()
    fw = launch(flash, scenario=_scenario(tmp_path, "hot", 97.0, 60))   # 97 °C: not 0 < t < 95
    try:
        assert len(_fields(fw.base)) == 26
        assert ok(fw.base, "/api/get?data=28") == "-99"
        _layout(fw.base, "3.60")
        v360 = _fields(fw.base)
        assert len(v360) == 29 and v360[23] == "-99"
        _check(v360, FORMATS_360)
        assert ok(fw.base, "/api/get?data=24") == "-99"
        assert _fields(fw.base, "alldata&extended")[27] == "-99"
    finally:
        fw.stop()
