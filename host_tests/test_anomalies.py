"""Each anomaly bit of the status byte is produced by the disturbance that should cause it,
and the heater goes off when the router can no longer fire safely. Firmware under MicroPython,
simulated board."""
import json

from conftest import run_mp
from test_measurement import scenario

ANALOG, RATE, SPURIOUS, LOST = 16, 32, 64, 128


def rows(sc, seconds, ssr_mode=0):
    code = "import simrun\nsimrun.report(simrun.run(%s, %r, ssr_mode=%d, skip=1))" % (
        json.dumps(sc).replace("null", "None"), seconds, ssr_mode)
    return run_mp(code)["rows"]


def bits_at(rs, t0, t1):
    b = 0
    for r in rs:
        if t0 < r["t"] <= t1:
            b |= r["status"]
    return b


def assert_only_during(rs, bit, t0, t1):
    """`bit` is set in some report during [t0, t1] and in none well outside it."""
    assert bits_at(rs, t0, t1) & bit, rs
    assert not bits_at(rs, 1, t0 - 1) & bit
    assert not bits_at(rs, t1 + 2, 99) & bit


def test_adc_clipping_sets_bit_4():
    # 15 kW exceeds the current channel's range (the CT input reaches the ADC's rail).
    rs = rows(scenario(base_w=500, events=[{"at": 3, "for": 2, "load": {"w": 15000}}]), 8)
    assert_only_during(rs, ANALOG, 3, 5.5)


def test_zero_drift_out_of_range_sets_bit_4():
    # The current channel's bias drifts by 200 mV (~250 counts): its zero is out of range.
    rs = rows(scenario(base_w=500, events=[{"at": 3, "for": 3, "bias_i_mv": 200}]), 9)
    assert_only_during(rs, ANALOG, 3, 6.5)
    # ... while the measurement itself stays right (each window removes its own offset).
    for r in rs:
        assert abs(r["p"] - r["t_p"]) < 10


def test_preempted_capture_sets_bit_5():
    # Something (Wi-Fi, a flash write) holds the CPU 1.5 ms in the middle of each capture.
    rs = rows(scenario(base_w=500, events=[{"at": 3, "for": 2, "stall_us": 1500}]), 8)
    assert_only_during(rs, RATE, 3, 5.5)


def test_starved_router_loop_sets_bit_5():
    # Another task keeps the loop away 150 ms per window: most mains cycles go unmeasured.
    rs = rows(scenario(base_w=500, events=[{"at": 3, "for": 3, "gap_ms": 150}]), 9)
    assert_only_during(rs, RATE, 3, 6.5)


def test_voltage_glitch_sets_bit_6():
    # A 400 V dip at each voltage peak makes extra zero crossings.
    rs = rows(scenario(base_w=500, events=[{"at": 3, "for": 2, "glitch": 400}]), 8)
    assert_only_during(rs, SPURIOUS, 3, 5.5)
    assert all(r["locked"] for r in rs)   # the PLL is not dragged away by them


def test_mains_loss_sets_bit_7_and_stops_firing_then_recovers():
    sc = scenario(base_w=300, events=[{"at": 4, "for": 3, "mains": "off"}])
    rs = rows(sc, 11, ssr_mode=1)   # FORCE: fire every half-cycle
    assert_only_during(rs, LOST, 4, 7.5)
    for r in rs:
        if 4.5 < r["t"] <= 7:
            assert not r["locked"] and not r["firing"] and r["t_heater"] == 0
    # Before and well after the outage it fires: the heater takes power.
    assert all(r["t_heater"] > 500 for r in rs if r["t"] < 4 or r["t"] > 8.5)


def test_firing_stops_within_its_horizon_when_the_loop_stalls():
    # The router loop stops (a hang the watchdog will catch): no step refreshes the RMT train.
    # The heater must stop by itself once the queued half-cycles have played.
    r = run_mp("""
import json
from board.sim.board import SimBoard
import main
b = SimBoard(%s)
rt = main.make_router(b)
rt.set_ssr_mode(1)   # FORCE
while b.seconds() < 3:
    rt.step()
    b.between_windows(rt.next_start())
t0 = b.truth()
b.now += 1000000           # one second with no window
t1 = b.truth()
last_on = max(on for on, off in b.world.pulses) if b.world.pulses else 0
print(json.dumps({"stall_j": t1[2] - t0[2], "last_on_after_s": (last_on - t0[0] * 0 - (b.now - 1000000)) / 1e6}))
""" % json.dumps(scenario(base_w=300)).replace("null", "None"))
    # At most the 8 half-cycles queued after the current one (realtime.HORIZON_US, 90 ms
    # from its zero) of a 2 kW heater: 2000 W x 0.08 s = 160 J.
    assert r["stall_j"] <= 165
    assert r["last_on_after_s"] < 0.09
