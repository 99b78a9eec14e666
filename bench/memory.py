#!/usr/bin/env python3
"""The device image's heap, per feature, against the two hardware targets (`make bench`).

    .venv/bin/python bench/memory.py [--quick] [--romfs]

The image is the one tools/flash.py puts on the chip (no simulated board), compiled for this
host, run under the MicroPython unix port on board/esp32.py over the fakes of host_tests/fakes
(host_tests/device_heap.py). Two tables:

  imports     what each part keeps on the heap once imported, in boot order (a collection
              after each part; host_tests/mp/import_cost.py), next to the interpreter's own
              start-up heap: the baseline every part adds to
  running     per configuration (defaults; MQTT on; MQTT and the remote relay on): the live
              heap after boot, the live heap while 2 phones load the dashboard (the page, its
              assets and the API reads, back to back), and the smallest heap in which that
              load runs without a failed request or a MemoryError (bisection, 8 KB steps;
              --quick skips it)
  from ROMFS  with --romfs, the running table again with the modules imported from a ROMFS
              image (device_heap.romfs): what a MicroPython build with ROMFS would need,
              its bytecode left in the flash. Stock ESP32 builds have no ROMFS; this measures
              how much of the heap is the code's and how much is not

Host figures are 64-bit: the chip's column divides them by device_heap.RATIO (1.45) after
taking off the fakes and this harness (device_heap.FAKES_KB), which the chip does not have.
The targets (docs/hardware.md): an ESP32 without PSRAM gives MicroPython ~110 KB once Wi-Fi
is up; with PSRAM, megabytes.
"""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
if sys.path and os.path.abspath(sys.path[0] or ".") == HERE:
    sys.path.pop(0)        # bench/http.py would shadow the stdlib's http package
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "host_tests"))

import device_heap as dh  # noqa: E402
from conftest import FAKES, MICROPYTHON  # noqa: E402
from test_mqtt import Broker  # noqa: E402


def imports(image):
    p = subprocess.run([MICROPYTHON, "-X", "heapsize=1M", "import_cost.py"], cwd=image,
                       capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, MICROPYPATH=":".join(
                           [".frozen", FAKES, image])))
    if p.returncode:
        sys.exit("import_cost.py failed:\n" + p.stdout + p.stderr)
    return json.loads(p.stdout.strip().splitlines()[-1])


def main(argv):
    quick = "--quick" in argv
    tmp = tempfile.mkdtemp(prefix="bench-memory-")
    image = dh.build(os.path.join(tmp, "image"))
    print("Device image heap, MicroPython %s unix port (64-bit); chip = (host - %d KB of "
          "fakes) / %.2f\n" % (dh.mp_version(), dh.FAKES_KB, dh.RATIO))
    rows = imports(image)
    print("%-48s %9s %9s" % ("imports (in boot order)", "host KB", "chip KB"))
    total = 0
    for name, b in rows:
        total += b
        fake = "fakes" in name
        print("%-48s %9.1f %9s" % (name, b / 1024, "-" if fake else "%.1f" % (b / 1024 / dh.RATIO)))
    print("%-48s %9.1f %9.1f\n" % ("all of it", total / 1024, dh.chip_kb(total)))

    broker = Broker()
    relay = dh.RelayTarget()
    try:
        configs = [("defaults (router, API, UI, Wi-Fi)", None),
                   ("+ MQTT (1 s period, discovery)", {k: v for k, v in dh.everything_on(
                       broker.port, relay.port).items() if k.startswith("mqtt")}),
                   ("+ MQTT + remote relay", dh.everything_on(broker.port, relay.port))]
        print("%-36s %21s %21s %21s" % ("running, 2 phones on the dashboard", "live after boot",
                                        "live under load", "smallest heap"))
        print("%-36s %10s %10s %10s %10s %10s %10s" % ("", "host KB", "chip KB", "host KB",
                                                       "chip KB", "host KB", "chip KB"))
        bad = []
        variants = [("", None)]
        if "--romfs" in argv:
            variants.append(("from ROMFS: ", dh.romfs(image, os.path.join(tmp, "image.romfs"))))
        for prefix, rom in variants:
            for name, settings in configs:
                name = prefix + name
                r = dh.run(image, tmp, "1M", settings, rom=rom)
                if r["problems"]:
                    bad.append((name, r["problems"]))
                    print("%-36s %s" % (name, "FAILED"))
                    continue
                least = None if quick else dh.smallest_heap(image, tmp, settings, lo=100,
                                                            rom=rom)
                print("%-36s %10.1f %10.1f %10.1f %10.1f %10s %10s" % (
                    name, r["live_boot"] / 1024, dh.chip_kb(r["live_boot"]),
                    r["live_load"] / 1024, dh.chip_kb(r["live_load"]), least or "-",
                    "%.1f" % dh.chip_kb(least * 1024) if least else "-"))
        print("\ntargets: ESP32 without PSRAM ~110 KB (chip); with PSRAM, megabytes; the tests "
              "hold %d KB for everything on (test_memory_budget.py)" % dh.PSRAM_BUDGET_KB)
        for name, problems in bad:
            print("\n%s:\n  %s" % (name, "\n  ".join(problems)))
        return 1 if bad else 0
    finally:
        broker.stop()
        relay.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
