"""The self-test (selftest.py runs it, router/selftest.py judges, the boards' probe() measure):

- its judgement under CPython, on figures made up to hit each rule;
- the real firmware under the MicroPython unix port on the simulated board over real HTTP:
  wired right, every check passes; with the clamp open, no mains at the voltage input, or
  the two inputs swapped, the checks that should fail do, with their sentence; the owner's
  SSR and relay modes come back afterwards; the router keeps its window cadence meanwhile;
  it runs by itself at the first boot and not at the next;
- in one process: a test cut short by a reset gives the owner's modes back at the next
  start, and nothing of the self-test stays loaded once it is over;
- the chip's probes (board/esp32_probe.py) over host_tests/fakes;
- the admin page shows the report and runs a test, in a real browser.
"""
import json
import statistics
import time

import pytest
from playwright.sync_api import expect

from conftest import run_mp, WWW
from router import selftest as J
from test_api import Firmware, free_port, get, ok

IDS = ["adc_read", "sample_rate", "rmt_latency", "adc_mid_v", "adc_mid_i", "zero_crossings",
       "mains_voltage", "ct_idle", "relay"]
NOMINAL = {"mid": 1613, "mid_tol": 150, "rmt_us": 30}
# what a right board measures (the simulated house at noon, the heater routing 2 kW)
RIGHT = {"read_us": 11.0, "rate": 4999.0, "want": 5000.0, "late_us": 6, "rmt_us": 35.0,
         "rmt_how": "model", "mid_v": 1612.8, "mid_i": 1612.9, "zc": 1.0, "hz": 50.0,
         "vrms": 232.0, "p_before": -209.0, "routed_before": 2035.0, "irms_off": 9.7,
         "p_off": -2245.0, "relay": [-2245.0, -1226.0, -2244.0]}


def verdicts(m):
    return {c["id"]: c["ok"] for c in J.judge(m, NOMINAL)}


# --- the judgement (CPython) ----------------------------------------------------------------
def test_a_right_board_passes_every_check_and_each_check_says_what_it_measured():
    checks = J.judge(RIGHT, NOMINAL)
    assert [c["id"] for c in checks] == IDS
    assert all(c["ok"] is True for c in checks), checks
    for c in checks:
        assert set(c) == {"id", "ok", "value", "unit", "expected", "text"}
        assert c["value"] is not None and c["unit"] and c["expected"] and c["text"].endswith(".")
    assert J.summary(checks) == "All the checks that could be judged passed."


@pytest.mark.parametrize("change,failed", [
    ({"read_us": 45.0}, "adc_read"),
    ({"rate": 4700.0}, "sample_rate"),
    ({"rmt_us": 80.0}, "rmt_latency"),
    ({"mid_v": 1300.0}, "adc_mid_v"),
    ({"mid_i": 1900.0}, "adc_mid_i"),
    ({"hz": 55.0}, "zero_crossings"),
    ({"vrms": 290.0}, "mains_voltage"),
    ({"p_off": -180.0}, "ct_idle"),                 # stopping the SSR changed nothing
    ({"p_off": 1800.0}, "ct_idle"),                 # ... or the wrong way: clamp backwards
])
def test_each_rule_fails_its_own_check_only(change, failed):
    v = verdicts(dict(RIGHT, **change))
    assert [k for k, ok in v.items() if ok is not True] == [failed]


def test_what_cannot_be_judged_is_null_not_a_pass():
    v = verdicts({})
    assert set(v.values()) == {None}
    c = {c["id"]: c for c in J.judge(dict(RIGHT, rmt_us=None, rmt_how="no edge"), NOMINAL)}
    assert c["rmt_latency"]["ok"] is None and "no edge" in c["rmt_latency"]["text"]
    # no load on the relay: nothing to see, which is no failure
    assert verdicts(dict(RIGHT, relay=[-2245.0, -2240.0, -2246.0]))["relay"] is None


def test_a_house_load_during_the_relay_check_is_not_taken_for_the_relay():
    # a 2 kW kettle starts while the relay is on: the off->on edge is 3 kW, on->off 1 kW
    c = {c["id"]: c for c in J.judge(dict(RIGHT, relay=[-2245.0, 808.0, -211.0]), NOMINAL)}
    assert c["relay"]["ok"] is True and 1000 <= c["relay"]["value"] <= 1030
    # the clamp backwards: switching a load on lowers the import
    assert verdicts(dict(RIGHT, relay=[-2245.0, -3245.0, -2245.0]))["relay"] is False


# --- the firmware on the simulated board, over HTTP -----------------------------------------
class Fw(Firmware):
    """test_api's, up once the API answers (wired wrong, ping may never say running), on a
    flash without a self-test's report (a new board's: it runs it at its first start)."""
    UP = None
    TESTED = False


def launch(flash, **kw):
    return Fw(flash, **kw)


def report(fw):
    return json.loads(get(fw.base, "/api/get?selftest")[1])


def until(fw, state, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        r = report(fw)
        if r["state"] == state:
            return r
        assert time.monotonic() < deadline and fw.p.poll() is None, r
        time.sleep(0.2)


def checks(r):
    return {c["id"]: c for c in r["checks"]}


def test_wired_right_every_check_passes_the_modes_come_back_and_the_router_keeps_its_pace(tmp_path):
    fw = launch(tmp_path, scenario="clear_day", speed="4")
    try:
        first = until(fw, "done")                   # the first boot's, by itself
        assert [c["id"] for c in first["checks"]] == IDS
        assert all(c["ok"] is True for c in first["checks"]), first
        assert first["modes"] == {"ssr": "auto", "relay": "auto"} and first["utc"] > 1.7e9
        ok(fw.base, "/api/set?ssrmode&value=force")
        before = [int(ok(fw.base, "/api/get?data=22")) for _ in range(8) if not time.sleep(0.3)]
        assert ok(fw.base, "/api/action?selftest") == "Self-test started"
        assert ok(fw.base, "/api/action?selftest") == "Self-test already running"
        during, status = [], []
        while report(fw)["state"] == "running":
            during.append(int(ok(fw.base, "/api/get?data=22")))
            status.append(int(ok(fw.base, "/api/get?data=20"), 2))
            time.sleep(0.3)
        r = report(fw)
        assert r["state"] == "done" and all(c["ok"] is True for c in r["checks"]), r
        assert r["uptime"] > first["uptime"]
        # the owner's modes are back: SSR forced, relay in auto
        assert ok(fw.base, "/api/get?data=14") == "1" and ok(fw.base, "/api/get?data=15") == "9"
        assert r["modes"] == {"ssr": "force", "relay": "auto"}
        # the router's windows went on at their pace: samples a second, no rate anomaly
        assert len(during) >= 5
        assert statistics.median(during) >= 0.95 * statistics.median(before), (before, during)
        assert not any(s & 32 for s in status), status
    finally:
        fw.stop()


@pytest.mark.parametrize("wiring,failed,words", [
    ("clamp-open", {"ct_idle"}, {"ct_idle": "the clamp sees no current"}),
    ("no-mains", {"zero_crossings", "mains_voltage"},
     {"zero_crossings": "does not see the mains", "mains_voltage": "plug in the transformer"}),
    ("swapped", {"zero_crossings", "mains_voltage", "ct_idle"},
     {"mains_voltage": "(swapped)", "ct_idle": "(swapped)"}),
])
def test_wired_wrong_the_matching_checks_fail_with_their_sentence(tmp_path, wiring, failed, words):
    fw = launch(tmp_path, scenario="clear_day", speed="4", args=("--wiring", wiring))
    try:
        r = until(fw, "done")
    finally:
        fw.stop()
    c = checks(r)
    assert {k for k, x in c.items() if x["ok"] is False} == failed, r
    for k, w in words.items():
        assert w in c[k]["text"], c[k]
    # what the wiring does not touch still passes (the relay cannot be seen through an open
    # clamp or without the mains: not judged)
    assert {k for k, x in c.items() if x["ok"] is True} >= {"adc_read", "sample_rate",
                                                            "rmt_latency", "adc_mid_v", "adc_mid_i"}
    assert c["relay"]["ok"] is None
    assert r["modes"] == {"ssr": "auto", "relay": "auto"}
    assert "%d of 9 checks failed" % len(failed) in r["summary"]


def test_it_runs_at_the_first_boot_only(tmp_path):
    fw = launch(tmp_path, scenario="clear_day", speed="4")
    try:
        first = until(fw, "done")
    finally:
        fw.stop()
    fw = launch(tmp_path, scenario="clear_day", speed="4")   # the next boot (a power cut)
    try:
        deadline = time.monotonic() + 8                       # 30 s of the board's time
        while time.monotonic() < deadline:
            assert report(fw) == first
            time.sleep(0.5)
    finally:
        fw.stop()


def test_no_wiring_but_the_known_ones():
    import subprocess
    from conftest import FIRMWARE, MICROPYTHON
    p = subprocess.run([MICROPYTHON, "main.py", "--wiring", "upside-down", "--port",
                        str(free_port()), "--www", WWW], cwd=FIRMWARE, capture_output=True,
                       text=True, timeout=30, env={"MICROPYPATH": ".frozen:" + FIRMWARE})
    assert p.returncode != 0 and "wiring must be one of" in p.stdout + p.stderr


# --- in one process: a test cut short, and nothing left loaded -------------------------------
def test_a_test_cut_short_by_a_reset_gives_the_modes_back_and_nothing_stays_loaded(tmp_path):
    r = run_mp("""
import json, sys, main
from records.store import Store
D = %r
s = Store(D)
# a reset in the middle of a test: the SSR and the relay stopped (saved), the owner's modes
# (SSR forced, relay auto) in the report it had saved
s.write("modes", {"ssr": 0, "relay": 0, "hot_day": None})
s.write("selftest", {"state": "running", "uptime": 10.0, "utc": None, "owner": [1, 9],
                     "checks": [], "summary": ""})
fw = main.main(["main.py", "--speed", "4", "--quiet", "1", "--port", "%d", "--www", %r,
                "--data", D, "--seconds", "32", "--scenario", "clear_day"])
rep = Store(D).read("selftest")
st = fw.rt.state
left = [k for k in sys.modules if "selftest" in k or "probe" in k]
import router
print(json.dumps([rep["state"], rep.get("note"), rep["modes"], st.ssr_mode, st.relay_mode,
                  left, hasattr(router, "selftest")]))
""" % (str(tmp_path), free_port(), WWW), timeout=120)
    state, note, modes, ssr, relay, left, attr = r
    assert state == "done" and "cut short by a reset" in note
    assert modes == {"ssr": "force", "relay": "auto"} and (ssr, relay) == (1, 9)
    assert left == [] and not attr


# --- the chip's probes, over the fakes -------------------------------------------------------
@pytest.mark.parametrize("classic", [True, False])
def test_the_chips_probes_time_the_adc_and_the_gate_pulse(classic):
    r = run_mp("""
import json, time, esp32, machine
from board import config
esp32.RMT.clock = lambda: time.ticks_us() & 0x3FFFFFFF
esp32.RMT.latency_us = 40
esp32.RMT.record = False
def slow():                    # an ADC read of 25 µs
    t = time.ticks_us()
    while time.ticks_diff(time.ticks_us(), t) < 25:
        pass
    return config.MID
machine.ADC.sources[config.PIN_V] = slow
from board.esp32 import Esp32Board
b = Esp32Board(data_dir="/tmp", classic=%s)
adc = b.probe("adc")["us"]
rmt = [b.probe("rmt") for _ in range(7)]
print(json.dumps([adc, [x["us"] for x in rmt], rmt[-1]["how"], machine.routed(config.PIN_SSR),
                  esp32.RMT.blocks]))
""" % classic, fakes=True, timeout=60)
    adc, lat, how, routed, blocks = r
    assert 24 <= adc <= 40, adc
    got = [x for x in lat if x is not None]
    assert len(got) >= 4, lat              # a busy host may miss an edge: then "not measurable"
    assert 35 <= statistics.median(got) <= 60, lat    # 40 µs, and the fake's polling
    assert "time_pulse_us" in how
    assert blocks == 0                      # no call that would have waited on the chip
    # the gate back to its off state: the plain GPIO low (classic), or the channel, idle
    assert routed == (256 if classic else 87)


# --- the admin page ----------------------------------------------------------------------------
def test_the_admin_page_shows_the_report_and_runs_a_test(browser, tmp_path):
    fw = launch(tmp_path, scenario="clear_day", speed="4", args=("--wiring", "clamp-open"))
    try:
        until(fw, "done")
        page = browser.page(fw.base, width=1000, height=900)
        page.goto(fw.base + "/#admin")
        li = page.get_by_test_id("selftest-checks").locator("li")
        expect(li).to_have_count(9)
        ct = page.get_by_test_id("st-ct_idle")
        expect(ct).to_have_attribute("data-ok", "false")
        expect(ct.get_by_test_id("st-mark")).to_have_text("✗ Échec")
        expect(ct).to_contain_text("the clamp sees no current")
        expect(page.get_by_test_id("st-relay")).to_have_attribute("data-ok", "null")
        expect(page.get_by_test_id("st-relay").get_by_test_id("st-mark")).to_have_text("? Non jugé")
        expect(page.get_by_test_id("st-adc_read").get_by_test_id("st-mark")).to_have_text("✓ OK")
        expect(page.get_by_test_id("selftest-summary")).to_contain_text("1 vérification(s) en échec")
        t0 = report(fw)["uptime"]
        page.get_by_test_id("selftest-run").click()
        expect(page.get_by_test_id("selftest-summary")).to_have_text("Autotest en cours…")
        expect(page.get_by_test_id("selftest-run")).to_be_disabled()
        expect(page.get_by_test_id("selftest-summary")).to_contain_text("en échec", timeout=30000)
        assert report(fw)["uptime"] > t0
        expect(page.get_by_test_id("selftest-run")).to_be_enabled()
        assert not [e for e in page.console_errors if "Failed to load resource" not in e]
        assert page.outside == []
    finally:
        fw.stop()
