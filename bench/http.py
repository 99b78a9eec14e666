#!/usr/bin/env python3
"""HTTP load on the API against the router's window cadence (`make bench`).

    .venv/bin/python bench/http.py

The firmware (scenario load_steps, speed 1) runs under the MicroPython unix port in a
subprocess on loopback, loaded from its host image (every module precompiled by mpy-cross, as
on the chip; see host_tests/test_api_load.py). Two runs, the same except for the heap: the
interpreter's default, then `-X heapsize=` test_api_load.HEAP (288K). In each, in the same process:

  idle        5 s without API load: the baseline the loaded rows compare with
  1 client    8 s of GET /api/get?alldata back to back from one thread (a new connection each)
  4 clients   8 s of the same from four threads
  mqtt 1 s    (default heap only) 8 s with MQTT on at a 1 s period, to a mosquitto on
              loopback with a paho subscriber (test_mqtt.py's), no API load
  mqtt+4 cl.  the same with the four clients

Columns: req/s, p50 and p99 latency, failed requests (anything but a complete 200
text/plain); the firmware process's CPU (cores, from /proc) and, above the idle row's, per
request (µs/req: what one request costs the single asyncio loop that the router shares);
then the router, observed from outside (host_tests/test_api_load.py, Monitor):

  samples/s   data 22: sample pairs per second on the board's clock (100 per window)
  RTF         real-time factor: the simulated board's seconds per wall-clock second (at
              --speed 1 the router's loop paces that clock; work that made the loop late
              would show here as < 1; data 22 and ping are on the board's clock and cannot)
  win/s       windows per wall-clock second = samples/s / 100 x RTF
  lag ms      worst delay of the board's clock behind the wall clock, relative to the idle
              phase's median (~10-20 ms of it is the pacing itself and the sampling)

The monitor itself makes ~13 small requests a second in every phase. Exits non-zero if the
firmware died, printed a MemoryError or a traceback, a request failed, or the router fell
behind (win/s < 20, RTF outside 0.95..1.05, lag > 250 ms) in any phase. Host figures
(x86-64, both the firmware and the clients on this machine): they rank, they do not predict
the ESP32, whose interpreter is ~20-50x slower and whose pointers are half as wide. (Both runs
start the way test_api_load.py does: the simulated board's noise tables packed, its
zero-crossing log pre-sized, so that its own heap use does not count against the firmware's.)
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
if sys.path and os.path.abspath(sys.path[0] or ".") == HERE:
    sys.path.pop(0)        # this file is named http.py: keep the stdlib's http package visible
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "host_tests"))

import platform  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

from test_api_load import HEAP, Monitor, Proc, build_image, hammer, percentile  # noqa: E402
from test_mqtt import Broker, Watcher, configure, link  # noqa: E402
from net.mqtt_topics import TOPICS  # noqa: E402

IDLE_S = 5
LOAD_S = 8
PATH = "/api/get?alldata"
PHASES = [("idle", 0, IDLE_S), ("1 client", 1, LOAD_S), ("4 clients", 4, LOAD_S)]
# then, MQTT on at a 1 s period (the broker a mosquitto on loopback, a paho client
# subscribed to everything): alone, and with the four clients
MQTT_PHASES = [("mqtt 1 s", 0, LOAD_S), ("mqtt+4 cl.", 4, LOAD_S)]


def run(image, tmp, heapsize, phases=PHASES, broker=None):
    """One firmware process through the phases (then MQTT_PHASES with `broker`). Returns
    (rows, problems, output); a row is (heap, phase, load, monitor figures, MQTT messages per
    second or None)."""
    tag = heapsize or "default"
    flash = os.path.join(tmp, "flash-" + tag)
    os.makedirs(flash)
    fw = Proc(flash, os.path.join(tmp, "firmware-%s.log" % tag), image=image, heapsize=heapsize)
    rows, problems = [], []
    try:
        if not fw.wait_running():
            return rows, ["%s: the firmware did not start" % tag], fw.output()
        mon = Monitor(fw.port, pid=fw.p.pid)
        mon.start()
        loads = {}
        msgs = {}
        watcher = None
        if broker:
            watcher = Watcher(broker)
            phases = phases + MQTT_PHASES
        for name, clients, seconds in phases:
            if name == MQTT_PHASES[0][0]:
                configure(fw, mqtt_active=1, mqtt_ip="127.0.0.1", mqtt_port=broker.port,
                          mqtt_period=1)
                time.sleep(2)                       # connected, announced
            mon.mark(name)
            t0 = time.monotonic()
            if clients:
                loads[name] = hammer(fw.port, [PATH], clients, seconds)
            else:
                time.sleep(seconds)
            if watcher:
                t1 = time.monotonic()
                msgs[name] = len([m for m in watcher.since(t0) if m[0] < t1]) / (t1 - t0)
        mon.stop()
        if watcher:
            watcher.close()
            msgs["link"] = link(fw)
        for name, clients, seconds in phases:
            ph = mon.phase(name, baseline="idle")
            r = loads.get(name)
            rows.append((tag, name, r, ph, msgs.get(name)))
            if r and r["failed"]:
                problems.append("%s, %s: %d failed requests, e.g. %r"
                                % (tag, name, len(r["failed"]), r["failed"][:3]))
            if ph["windows_wall"] < 20 or not 0.95 < ph["rtf"] < 1.05 or ph["lag_ms"] > 250:
                problems.append("%s, %s: the router fell behind: %r" % (tag, name, ph))
            if any(p != "running" for p in ph["pings"]):
                problems.append("%s, %s: ping said %r" % (tag, name, ph["pings"]))
        if mon.errors:
            problems.append("%s: the monitor's requests failed: %r" % (tag, mon.errors[:3]))
        if not fw.alive():
            problems.append("%s: the firmware died" % tag)
    finally:
        fw.stop()
    out = fw.output()
    if "MemoryError" in out or "Traceback" in out:
        problems.append("%s: the firmware printed:\n%s" % (tag, out[-2000:]))
    return rows, problems, out, msgs.get("link")


def main():
    t_start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-http-") as tmp:
        image = build_image(os.path.join(tmp, "image"))
        broker = Broker()
        try:
            results = [run(image, tmp, None, broker=broker), run(image, tmp, HEAP)]
        finally:
            broker.stop()
    rows = [r for rs, _, _, _ in results for r in rs]
    problems = [p for _, ps, _, _ in results for p in ps]
    mqtt = results[0][3]
    print("HTTP load vs. router cadence: the firmware under the MicroPython unix port, scenario"
          " load_steps, speed 1,")
    print("GET %s on loopback, a new connection per request (host figures: %s, %s)"
          % (PATH, platform.machine(), platform.python_implementation() + " clients"))
    print()
    head = ("heap", "load", "req/s", "p50 ms", "p99 ms", "failed", "fw CPU", "µs/req",
            "MQTT/s", "samples/s", "RTF", "win/s", "lag ms")
    fmt = "%-8s %-10s %6s %7s %7s %6s %6s %6s %6s %9s %6s %6s %6s"
    print(fmt % head)
    print("-" * 101)
    idle_cpu = {}
    for tag, name, r, ph, mq in rows:
        cpu = ph["cpu"]
        base = idle_cpu.get(tag)
        if name == "idle":
            idle_cpu[tag] = cpu
        if not r:
            load = ("-", "-", "-", "-")
            per_req = "-"
        else:
            rate = r["n"] / r["elapsed"]
            load = ("%.0f" % rate, "%.2f" % (1000 * percentile(r["lat"], .5)),
                    "%.2f" % (1000 * percentile(r["lat"], .99)), "%d" % len(r["failed"]))
            per_req = "%.0f" % (1e6 * (cpu - base) / rate) if None not in (cpu, base) else "?"
        print(fmt % ((tag, name) + load + ("?" if cpu is None else "%.2f" % cpu, per_req,
                                         "-" if mq is None else "%.1f" % mq,
                                         "%.0f" % ph["samples"], "%.3f" % ph["rtf"],
                                         "%.1f" % ph["windows_wall"], "%.0f" % ph["lag_ms"])))
    print()
    if mqtt:
        print("MQTT (the link's own measure, /api/get?mqtt): the last publication cycle (%d topics)"
              " took %d µs of steps in all;" % (len(TOPICS), mqtt["cycle_us"]))
        print("the longest single step (one message) %d µs; %d messages, %d cycles skipped."
              " MQTT/s: messages the subscriber received per second."
              % (mqtt["step_us_max"], mqtt["published"], mqtt["skipped"]))
    for (_, ps, out, _), tag in zip(results, ("default", HEAP)):
        print("MemoryError in the firmware's output (%s heap): %s"
              % (tag, "YES" if "MemoryError" in out else "none"))
    print("fw CPU: the firmware process's CPU time per wall second (1.00 = one core, all of the"
          " single-threaded interpreter);")
    print("µs/req: its CPU time (user+system) per request above the idle row's: what a request"
          " costs the one asyncio loop")
    print("the router shares (in a few slices: request line, handler, write). samples/s: data 22"
          " (board clock); RTF: board seconds per wall second;")
    print("win/s: windows per wall second; lag: worst lateness of the board's clock vs. the idle"
          " baseline. The monitor adds")
    print("~13 small requests/s to every row. Host figures (firmware and clients share this"
          " machine's cores); an ESP32 runs")
    print("MicroPython ~20-50x slower (estimate): a request that holds the loop N µs here holds"
          " it ~20-50 N µs there.")
    print("(bench ran in %.1f s)" % (time.monotonic() - t_start))
    if problems:
        sys.exit("bench: " + "\nbench: ".join(problems))


if __name__ == "__main__":
    main()
