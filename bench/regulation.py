#!/usr/bin/env python3
"""Regulation benchmark: our controller against EcoPV's law, a Mk2-style energy bucket and
an ideal oracle, on the same simulated scenarios, in the same run (`make bench`).

Each (scenario, controller) runs in its own MicroPython unix-port process
(bench/regulation_run.py), two at a time. Ours runs the whole firmware on the simulated
board (ADC, capture windows, device timing); the baselines get the exact power of every
half-cycle. Figures over half-cycles, r routed, o oracle (= clamp(surplus + P_MARGIN, 0,
full)), after a 2 s warm-up:

  capture %     Σ min(r, o) / Σ o
  excess %      Σ max(0, r - o) / Σ o      (drawn from the grid beyond the import target)
  lost Wh       Σ max(0, o - r)
  |dev| W       mean |grid - P_MARGIN| while 0 < o < full
  settle ms     worst time after a 1 kW (2 kW) step until the grid is back within ±50 W of
                the target and stays there for a second
  flicker /s    half-cycles per second whose firing changes
  cpu µs        per control step on the MicroPython unix port (ours: one window, timed on
                the allocation-free replay board; baselines: one half-cycle update)

Ours runs twice: idle (the router alone) and under the normal load of a real board
(bench/load.py: the web UI open, Home Assistant polling every 5 s, MQTT every second, an
energy save), that work run for real between windows and charged to the simulated board's
clock at the chip's speed. The baselines have no load: EcoPV's law ran on a separate
microcontroller. The targets (TARGETS, ALL) are checked on ours under the normal load; the
script exits non-zero when one is missed.
"""
import concurrent.futures
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MP = os.path.join(ROOT, ".venv", "bin", "micropython")
SCENARIOS = [("clear_day", 60), ("cloudy_day", 180), ("load_steps", 70),
             ("thermostat_cutoff", 90), ("thermostat_cycling", 80), ("relay_switching", 60),
             ("mains_60hz", 60), ("heater_1kw", 90), ("heater_3kw", 60)]
# (controller, load): ours idle and under the normal load (bench/load.py PROFILES)
RUNS = [("ours", "idle"), ("ours", "normal"), ("ecopv", "-"), ("mk2", "-"), ("oracle", "-")]
# Absolute targets for ours under the normal load, on the fast-cloud and load-step scenarios
TARGETS = {"cloudy_day", "load_steps"}
CAPTURE_MIN = 99.9      # %
EXCESS_MAX = 0.10       # %
DEV_MAX = 5.0           # W
SETTLE_1K_MAX = 60      # ms


def run(name, ctrl, load, seconds, costs=None):
    env = dict(os.environ, MICROPYPATH=".frozen:%s:%s" % (os.path.join(ROOT, "firmware"),
                                                          os.path.join(ROOT, "bench")))
    p = subprocess.run([MP, os.path.join(ROOT, "bench", "regulation_run.py"), name, ctrl,
                        str(seconds), load if load != "-" else "idle"] +
                       ([json.dumps(costs)] if costs and load == "normal" else []),
                       cwd=os.path.join(ROOT, "firmware"), env=env,
                       capture_output=True, text=True, timeout=1800)
    if p.returncode:
        raise RuntimeError("%s/%s failed:\n%s%s" % (name, ctrl, p.stdout, p.stderr))
    return json.loads(p.stdout.strip().splitlines()[-1])


def fmt(v, spec):
    return "-" if v is None else format(v, spec)


def beats(o, e, key):
    """Ours better than EcoPV's on `key` (a tie at the best value counts: 0 W of deviation
    when neither ever regulates inside the heater's range)."""
    if key == "capture":
        return o > e or o >= 99.9995
    return o < e or o <= 1e-6


def checks(name, o, e):
    """(what, met) for ours under the normal load `o` against EcoPV's run `e`."""
    c = [("beats EcoPV on capture", beats(o["capture"], e["capture"], "capture")),
         ("beats EcoPV on excess", beats(o["excess"], e["excess"], "excess")),
         ("beats EcoPV on |dev|", beats(o["dev_w"], e["dev_w"], "dev_w"))]
    if name in TARGETS:
        c += [("capture >= %g %%" % CAPTURE_MIN, o["capture"] >= CAPTURE_MIN),
              ("excess import <= %.2f %%" % EXCESS_MAX, o["excess"] <= EXCESS_MAX),
              ("mean |grid - P_MARGIN| <= %g W" % DEV_MAX, o["dev_w"] <= DEV_MAX)]
        if o["settle_1k"] is not None:
            c.append(("settles within %d ms after 1 kW" % SETTLE_1K_MAX,
                      o["settle_1k"] <= SETTLE_1K_MAX))
    return c


def main():
    t0 = time.monotonic()
    # The load's costs, measured once with nothing else running, charged in every run.
    cal = run("load_steps", "calibrate", "normal", 0)
    jobs = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as ex:
        for name, secs in SCENARIOS:
            for c, load in RUNS:
                jobs[(name, c, load)] = ex.submit(run, name, c, load, secs, cal["costs"])
    res = {k: f.result() for k, f in jobs.items()}
    print("Regulation: ours (firmware on the simulated ESP32) vs EcoPV law, Mk2 bucket, oracle")
    print("P_MARGIN 10 W; figures after a 2 s warm-up (see bench/regulation.py)\n")
    head = "%-18s %-7s %-6s %9s %9s %8s %8s %9s %9s %10s %9s" % (
        "scenario", "ctrl", "load", "capture%", "excess%", "lostWh", "|dev|W", "settle1k",
        "settle2k", "flicker/s", "cpu us")
    print(head)
    print("-" * len(head))
    for name, secs in SCENARIOS:
        for k, (c, load) in enumerate(RUNS):
            r = res[(name, c, load)]
            print("%-18s %-7s %-6s %9s %9s %8s %8s %9s %9s %10s %9s" % (
                name if k == 0 else "", c, load, fmt(r["capture"], ".3f"),
                fmt(r["excess"], ".3f"), fmt(r["lost_wh"], ".3f"), fmt(r["dev_w"], ".2f"),
                fmt(r["settle_1k"], ".0f"), fmt(r["settle_2k"], ".0f"), fmt(r["flicker"], ".1f"),
                fmt(r["cpu_us"], ".1f")))
        print()
    idle, busy = res[("load_steps", "ours", "idle")], res[("load_steps", "ours", "normal")]
    print("ours: %.1f control windows/s idle, %.1f under the normal load; EcoPV and Mk2: one "
          "update per half-cycle" % (idle["steps_per_s"], busy["steps_per_s"]))
    print("\nThe normal load on the chip (load_steps; cpu_factor %g; this host ran at %.2f "
          "times the reference's speed; bench/load.py):" % (busy["cpu_factor"], cal["speed"]))
    for job, (n, host_us, chip_ms) in sorted(busy["load"].items()):
        print("  %-11s %5d steps  %6d us on the host  %6.1f ms on the chip, each"
              % (job, n, host_us, chip_ms))
    fails = []
    for name, _ in SCENARIOS:
        o, e = res[(name, "ours", "normal")], res[(name, "ecopv", "-")]
        fails += ["%s: %s" % (name, what) for what, ok in checks(name, o, e) if not ok]
    print("\nRegulation targets (ours under the normal load; every scenario against EcoPV, "
          "cloudy_day and load_steps absolute): " + ("all met" if not fails else
                                                    "NOT MET:\n  " + "\n  ".join(fails)))
    print("(bench ran in %.0f s)" % (time.monotonic() - t0))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
