"""Regulation on the simulated board, firmware under MicroPython: energy indices against the
sim's ground truth over a (compressed) day, live parameters, reboot, relay modes, load absent."""
import json

from conftest import run_mp
from test_measurement import scenario

SETUP = """
import json, os
from board.sim.board import SimBoard
from records.store import Store
import main
def router(b, store=None):
    rt = main.make_router(b, store)
    return rt
def run(b, rt, until, every=None):
    while b.seconds() < until:
        if rt.step():
            rt.summary()
            if every:
                every(b, rt)
        b.between_windows(rt.next_start())
"""


def test_energy_indices_match_ground_truth_over_a_day(tmp_path):
    r = run_mp(SETUP + """
b = SimBoard("day_compressed")
rt = router(b, Store(%r))
days = []
run(b, rt, 372, lambda b, rt: days.append(rt.energy.day))
t = b.world.truth
e = rt.energy
print(json.dumps({"wh": list(e.wh), "rem": list(e.rem), "pulses": e.pulses,
                  "truth": [t.e_heater / 3600, t.e_import / 3600, t.e_export / 3600, t.e_pv / 3600],
                  "days": sorted(set(days)), "refs": e.refs,
                  "saved": Store(%r).read("energy")}))
""" % (str(tmp_path), str(tmp_path)))
    routed, imported, exported = (w + rem / 3.6e8 for w, rem in zip(r["wh"], r["rem"]))
    t_routed, t_import, t_export, t_pv = r["truth"]
    # The day really had all the regimes.
    assert t_routed > 30 and t_import > 10 and t_export > 2 and t_pv > 60
    assert abs(routed - t_routed) <= 0.01 * t_routed
    assert abs(imported - t_import) <= 0.01 * t_import
    assert abs(exported - t_export) <= 0.01 * t_export
    assert abs(r["pulses"] * 0.1 - t_pv) <= 0.01 * t_pv
    # Midnight passed (21:00 + 3 h at 240x = 45 s): day references were taken then ...
    assert len(r["days"]) == 2
    # ... and the indices were saved (at midnight, and every 5 minutes).
    assert r["saved"]["wh"][0] > 0


def test_live_parameter_change_takes_effect_within_a_second():
    sc = scenario(base_w=400, pv=1600)          # 1.2 kW of surplus
    r = run_mp(SETUP + """
b = SimBoard(%s)
rt = router(b)
run(b, rt, 4)
rt.set_param(6, "300")                      # P_MARGIN: import 300 W from now on
t0 = b.seconds()
grid = []
def hook(w, pg, ph, ps):
    grid.append(((w.t_zc - w.t_start) / 1e6 - t0, pg))
b.world.on_half_cycle = hook
run(b, rt, t0 + 2)
print(json.dumps(grid))
""" % json.dumps(sc).replace("null", "None"))
    late = [g for t, g in r if 1.0 <= t < 2.0]
    assert len(late) > 90
    assert abs(sum(late) / len(late) - 300) < 15
    assert max(abs(g - 300) for g in late) < 60


def test_counters_survive_a_reboot_and_restart_keeps_them(tmp_path):
    sc = scenario(base_w=400, pv=1600)
    r = run_mp(SETUP + """
b = SimBoard(%s)
st = Store(%r)
rt = router(b, st)
run(b, rt, 6)
rt.restart()                                 # EcoPV's RESET: indices kept (and saved)
after_restart = list(rt.energy.wh) + [rt.energy.rem[0]]
run(b, rt, 9)
rt.save_energy()                             # saveindex, as before a reboot
saved = list(rt.energy.wh) + [rt.energy.rem[0]]
rt2 = router(b, st)                          # the firmware starts again on the same flash
print(json.dumps({"after_restart": after_restart, "saved": saved,
                  "rebooted": list(rt2.energy.wh) + [rt2.energy.rem[0]]}))
""" % (json.dumps(sc).replace("null", "None"), str(tmp_path)))
    assert r["after_restart"][0] > 0            # routed Wh before the restart
    assert r["rebooted"] == r["saved"]          # nothing lost, remainder included
    assert r["saved"][0] >= r["after_restart"][0]


def test_relay_modes_on_the_simulated_board():
    sc = scenario(base_w=300, pv=3400)         # 3.1 kW of surplus: heater full + 1.1 kW
    r = run_mp(SETUP + """
b = SimBoard(%s)
rt = router(b)
rt.params.set(14, "0")                       # T_DIV2_TC = 0: decide on the last second
out = {}
run(b, rt, 5)
out["auto"] = [rt.state.relay_on, b.world.relay_on]
rt.set_relay_mode(0)
run(b, rt, 7)
out["stop"] = [rt.state.relay_on, b.world.relay_on]
rt.set_relay_mode(1)
run(b, rt, 9)
out["force"] = [rt.state.relay_on, b.world.relay_on]
out["status_relay_bit"] = bool(rt.state.status & 4)
print(json.dumps(out))
""" % json.dumps(sc).replace("null", "None"))
    assert r["auto"] == [True, True]            # surplus >= P_DIV2_ACTIVE: the relay load runs
    assert r["stop"] == [False, False]
    assert r["force"] == [True, True] and r["status_relay_bit"]


def test_open_thermostat_is_reported_and_not_counted_as_routed():
    r = run_mp(SETUP + """
b = SimBoard("thermostat_cutoff")
rt = router(b)
rows = []
def every(b, rt):
    rows.append([b.seconds(), rt.state.load_absent, rt.state.routed, b.world.heater_powered()])
run(b, rt, 70, every)
print(json.dumps({"rows": rows, "routed_wh": rt.energy.wh[0] + rt.energy.rem[0] / 3.6e8,
                  "true_wh": b.world.truth.e_heater / 3600}))
""")
    rows = r["rows"]
    open_rows = [x for x in rows if not x[3]]
    assert len(open_rows) > 10                      # the thermostat did open
    # Reported within a few seconds of opening, and routed power then reads 0.
    assert all(x[1] and x[2] == 0 for x in open_rows[3:])
    # Closed again after the draw: routing resumes and is no longer reported absent.
    assert not rows[-1][1] and rows[-1][2] > 100
    assert abs(r["routed_wh"] - r["true_wh"]) <= 0.02 * r["true_wh"] + 0.2


def test_delay_statistics_and_status_bits_follow_the_mode():
    sc = scenario(base_w=400, pv=1400)          # 1 kW of surplus: regulating at ~half power
    r = run_mp(SETUP + """
b = SimBoard(%s)
rt = router(b)
out = {}
run(b, rt, 4)
out["auto"] = [rt.state.delays, rt.state.status]
rt.set_ssr_mode(1)
run(b, rt, 6)
out["force"] = [rt.state.delays, rt.state.status]
rt.set_ssr_mode(0)
run(b, rt, 8)
out["stop"] = [rt.state.delays, rt.state.status]
print(json.dumps(out))
""" % json.dumps(sc).replace("null", "None"))
    (dmin, davg, dmax), st = r["auto"]
    # ~1 kW of a 2 kW heater is a firing angle near 90°: ~5 ms after each zero.
    assert 4300 < dmin <= davg <= dmax < 5700 and dmax - dmin < 300
    assert st & 1 and not st & 2                 # routing, not at 100 %
    assert r["force"][0] is None and r["force"][1] & 3 == 3   # no delays (N/A); routing at 100 %
    assert r["stop"][0] is None and r["stop"][1] & 1 == 0 and r["stop"][1] & 8   # exporting


def test_grid_reading_is_unbiased_while_firing_at_any_mains_frequency():
    """While the heater is phase-fired, the router's reading of the grid agrees with the
    truth on average: the firing edge falls between two current samples whatever the mains
    frequency. (A sample period rounded down to 199 µs once the mains ran faster than
    50.000 Hz put the edge ~35 µs off in the windows of that frequency: the router read the
    import ~2 W low and regulated that much above its target.)"""
    out = {}
    for hz in (49.98, 50.02, 59.97, 60.03):
        sc = scenario(base_w=400, pv=1000, hz=hz)    # ~600 W routed: a firing angle of ~90°
        out[hz] = run_mp(SETUP + """
b = SimBoard(%s)
rt = router(b)
hc = []
b.world.on_half_cycle = lambda w, pg, ph, ps: hc.append(pg)
meas = true = 0.0
n = 0
while b.seconds() < 12:
    del hc[:]
    if rt.step():
        rt.summary()
    if b.seconds() > 4 and len(hc) >= 2:
        meas += rt.measure.p_cw / 100
        true += (hc[-1] + hc[-2]) / 2
        n += 1
    b.between_windows(rt.next_start())
print(json.dumps({"bias": (meas - true) / n, "routed": rt.state.routed, "n": n}))
""" % json.dumps(sc).replace("null", "None"))
    for hz, r in out.items():
        assert r["n"] > 200 and 300 < r["routed"] < 900, (hz, r)
        assert abs(r["bias"]) < 0.6, (hz, r)


def test_steady_sun_holds_the_import_at_its_target_on_average():
    """In a steady sun the router's own reading of the grid averages P_MARGIN (10 W): the
    law, an integrator, has no steady error (within 0.1 W), and its response to the measurement's noise
    must not drift it to one side. (The trend term floored its rising slopes and not its
    falling ones, and followed that noise: the reading sat ~0.5 W low, the import as much,
    and the heater got that much less than there was.) The true import is within the
    measurement's own error of it."""
    sc = scenario(base_w=250, pv=1000)                   # ~800 W to route
    r = run_mp(SETUP + """
b = SimBoard(%s)
rt = router(b)
acc = [0.0, 0, 0.0, 0]
def hook(w, pg, ph, ps):
    acc[0] += pg
    acc[1] += 1
b.world.on_half_cycle = hook
run(b, rt, 4)
acc[0] = acc[1] = 0
while b.seconds() < 24:
    if rt.step():
        rt.summary()
    acc[2] += rt.measure.p_cw / 100
    acc[3] += 1
    b.between_windows(rt.next_start())
print(json.dumps({"read": acc[2] / acc[3], "true": acc[0] / acc[1], "n": acc[3],
                  "routed": rt.state.routed}))
""" % json.dumps(sc).replace("null", "None"))
    assert r["n"] > 500 and 600 < r["routed"] < 1000, r
    assert abs(r["read"] - 10) < 0.1, r
    assert abs(r["true"] - 10) < 1, r


def test_a_load_step_costs_under_two_half_cycles_of_its_size():
    """A kettle switching on and off 40 times, at times that fall at every point of the
    router's window cadence, over a mid-range heater. Each edge costs the grid |routed -
    ideal| until the router follows it: in half-cycles of the step's size, what a step
    costs. A window shows a step only once it ends, so it cost 2.2 half-cycles on average
    and up to 4 (a step just after a window waited for the gap and a whole window); a
    window whose first half-cycle already differs from what the command should give now
    ends there (board/capture.py), and the router answers a half-cycle sooner."""
    r = run_mp(SETUP + """
EV = []
t = 3.0
for j in range(20):
    EV.append({"at": round(t, 4), "for": 0.5 + 0.037 * j, "load": {"name": "kettle", "w": 1000}})
    t += 1.1 + 0.053 * j
sc = {"start": "12:00", "mains": {"v_rms": 230.0, "hz": 50, "harmonics": []},
      "pv": {"peak_w": 1600, "sunrise": "00:00", "sunset": "23:59"},
      "house": {"base_w": 250, "loads": []}, "heater": {"w": 2000, "t0": 45}, "events": EV}
b = SimBoard(sc)
rt = router(b)
edges = []
for e in EV:
    edges += [e["at"], e["at"] + e["for"]]
cost = [0.0] * len(edges)
clock = [0.0, 1e9, 0.0]
def hook(w, pg, ph, ps):
    dt = w.half * 1e-6
    t = clock[0]
    clock[0] += dt
    full = w.g_heater * w.v1 * w.v1 / 2
    o = min(max(ps + 10, 0.0), full)
    clock[1] = min(clock[1], o)
    clock[2] = max(clock[2], o)
    for k in range(len(edges)):
        if edges[k] - 0.005 <= t < edges[k] + 0.3:
            cost[k] += abs(ph - o) * dt
b.world.on_half_cycle = hook
run(b, rt, 2.9)
clock[1], clock[2] = 1e9, 0.0
run(b, rt, edges[-1] + 0.5)
print(json.dumps({"hc": [c / 1000 / 0.01 for c in cost], "o": clock[1:]}))
""")
    hc = r["hc"]
    lo, hi = r["o"]
    assert 250 < lo and hi < 1900 and 990 < hi - lo < 1010, r["o"]   # every edge within range
    assert sum(hc) / len(hc) < 1.8, hc
    assert max(hc) < 3.5, hc


def test_a_steady_sun_cuts_no_window_whatever_the_phase_calibration():
    """The capture's step test compares its raw sum of v·i with the command's model: that
    model must be put on the capture's terms (no PHASE_CALIB correction there). It was not,
    and with PHASE_CALIB at either end of its range a phase-fired heater read tens of watts
    off the raw sum: one window in two was cut short in a steady sun."""
    r = run_mp(SETUP + """
from router.window import N, SAMPLES
out = {}
for pc in ("-16", "16", "48"):
    sc = {"start": "12:00", "mains": {"v_rms": 230.0, "hz": 50, "harmonics": []},
          "pv": {"peak_w": 1250, "sunrise": "00:00", "sunset": "23:59"},
          "house": {"base_w": 250, "loads": []}, "heater": {"w": 2000, "t0": 45}, "events": []}
    b = SimBoard(sc)
    rt = router(b)
    rt.set_param(3, pc)
    run(b, rt, 4)
    n = short = 0
    while b.seconds() < 10:
        if rt.step():
            rt.summary()
        n += 1
        short += rt.acc[N] < SAMPLES
        b.between_windows(rt.next_start())
    out[pc] = [n, short, rt.state.routed]
print(json.dumps(out))
""")
    for pc, (n, short, routed) in r.items():
        assert n > 150 and 800 < routed < 1200, r      # mid-range: the heater phase-fired
        assert short == 0, (pc, r)
