"""The scenario files shipped with the simulated board all load and run on MicroPython,
and a long undisturbed run reports no anomaly at all (no false alarms)."""
import json
import os

import pytest

from conftest import FIRMWARE, run_mp
from test_measurement import scenario

SCENARIOS = sorted(f[:-5] for f in os.listdir(os.path.join(FIRMWARE, "board", "sim", "scenarios"))
                   if f.endswith(".json"))


def test_the_issue_s_scenarios_exist():
    assert {"clear_day", "cloudy_day", "load_steps", "thermostat_cutoff", "mains_loss"} <= set(SCENARIOS)


@pytest.mark.parametrize("name", SCENARIOS)
def test_scenario_runs_and_measures_plausibly(name):
    with open(os.path.join(FIRMWARE, "board", "sim", "scenarios", name + ".json")) as f:
        hz = (json.load(f).get("mains") or {}).get("hz", 50)
    out = run_mp("import simrun\nsimrun.report(simrun.run(%r, 5, skip=1))" % name)
    rows = out["rows"]
    assert len(rows) >= 3
    for r in rows:
        assert 200 < r["vrms"] < 260 and abs(r["hz"] - hz) < 0.1
        assert abs(r["p"] - r["t_p"]) < 0.02 * abs(r["t_p"]) + 10


def test_long_clean_run_raises_no_false_alarm():
    sc = scenario(base_w=400, loads=[(300, 0.7)], pv=1500, harmonics=[(3, 0.03), (5, 0.02)],
                  events=[{"at": 20, "for": 20, "hz": 49.9}, {"at": 40, "hz": 50.1}])
    rows = run_mp("import simrun\nsimrun.report(simrun.run(%s, 60, skip=1))"
                  % json.dumps(sc).replace("null", "None"))["rows"]
    assert len(rows) >= 55
    assert [r for r in rows if r["status"] or not r["locked"]] == []
