"""`make sim` as a user runs it: the firmware under MicroPython on the simulated board."""
import re
import subprocess
import time

from conftest import ROOT

LINE = re.compile(r"^(\d\d:\d\d:\d\d) V=\s*([\d.]+)V I=\s*([\d.]+)A P=\s*([+-][\d.]+)W "
                  r"S=\s*([\d.]+)VA cos=([+-][\d.]+) f=\s*([\d.]+)Hz status=([01]{8}) samples=(\d+)/s$")


def make_sim(*args, timeout=120):
    t0 = time.monotonic()
    p = subprocess.Popen(["make", "-s", "sim", *args], cwd=ROOT, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    lines = []
    first = None
    for ln in p.stdout:
        m = LINE.match(ln.strip())
        if m:
            if first is None:
                first = time.monotonic() - t0
            lines.append(m.groups())
    p.wait(timeout=timeout)
    assert p.returncode == 0, lines
    return lines, first, time.monotonic() - t0


def test_make_sim_prints_plausible_live_values_within_15_s_in_real_time():
    lines, first, wall = make_sim("SECONDS=4")
    assert first is not None and first < 15
    assert len(lines) >= 3
    for clock, v, i, p, s, cos, f, status, samples in lines:
        assert 225 < float(v) < 240 and abs(float(f) - 50) < 0.05
        assert status == "00000000" and 2600 < int(samples) < 3400
        assert abs(float(p)) > 500       # sunny noon: exporting
    assert wall >= 3.5                   # SPEED=1 is paced to the wall clock


def test_make_sim_values_move_when_the_scenario_switches_a_load():
    # clear_day switches a 2 kW kettle on at t = 20 s.
    lines, _, _ = make_sim("SPEED=0", "SECONDS=26")
    p = [float(x[3]) for x in lines]
    before = sum(p[12:18]) / 6
    after = sum(p[-4:]) / 4
    assert 1900 < after - before < 2150, (before, after)
