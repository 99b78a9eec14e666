"""Phase-angle firing end to end on the simulated board: PLL prediction -> pulse train ->
RMT model -> SSR latching -> heater power. Firmware under MicroPython."""
import json
import math

import pytest

from conftest import run_mp
from test_measurement import scenario


def fired(delay_us, hz=50, seconds=4):
    return run_mp("""
import json
from board.sim.board import SimBoard
import main
b = SimBoard(%s)
rt = main.make_router(b)
rt.fire_delay_us = %d
while b.seconds() < 1.5:
    rt.step()
    b.between_windows(rt.next_start())
t0 = b.truth()
while b.seconds() < %r:
    rt.step()
    b.between_windows(rt.next_start())
t1 = b.truth()
print(json.dumps({"p_heater": (t1[2] - t0[2]) / (t1[0] - t0[0]), "half_cycles": t1[7] - t0[7],
                  "fired": t1[8] - t0[8], "v": (%r)}))
""" % (json.dumps(scenario(base_w=300, hz=hz)).replace("null", "None"), delay_us, seconds, 0))


def expected_w(delay_us, hz):
    half = 5e5 / hz
    a = math.pi * delay_us / half
    return 2000 * (math.pi - a + math.sin(2 * a) / 2) / math.pi


@pytest.mark.parametrize("delay_us,hz", [(1000, 50), (5000, 50), (8000, 50), (4000, 60)])
def test_every_half_cycle_fires_at_the_commanded_angle(delay_us, hz):
    r = fired(delay_us, hz)
    assert r["fired"] == r["half_cycles"]          # no half-cycle lost between trains
    # 5 µs of uncompensated RMT latency (35 modelled vs 30 assumed) is the only error source.
    assert r["p_heater"] == pytest.approx(expected_w(delay_us, hz), rel=0.01)


def test_no_firing_when_commanded_off():
    r = fired(-1)
    assert r["fired"] == 0 and r["p_heater"] == 0
