"""The device image on the unix port: main.py's Firmware on board/esp32.py, the hardware
being the fakes of host_tests/fakes (machine, esp32, network). What runs is what a flashed
board runs, without the simulated board (which takes ~47 kB of a test heap): the router,
the records, the HTTP API and the UI, the Wi-Fi manager, MQTT when configured.

    micropython -X heapsize=H device_run.py DATA_DIR PORT [KEY=JSON ...]

run from the image's folder with the fakes first on MICROPYPATH. KEY=JSON pairs are saved
into the configuration before the first boot (e.g. mqtt_active=1 mqtt_port=1883). The Wi-Fi
network is saved and the fake radio joins it at once. The ADCs read a 50 Hz mains cycle
(230 V, 5 A exported, from config.py's nominal calibration) off a table indexed by the
microsecond clock: the capture and the measurement do their real work on it.

Every REPORT_MS it prints one line, `heap live=N free=M`, after a collection: the firmware's
live heap (this harness's own ~2 kB included).

With MAXPV_ROMFS=FILE in its environment, the modules are imported from that ROMFS image
(device_heap.romfs) mounted at /rom, as a MicroPython build with ROMFS runs them from the
flash: their bytecode is used where it lies instead of being copied into the heap. The image
is read into one bytes object first (the unix port has no flash to map), which `live`
leaves out.
"""
import gc
import json
import math
import sys
import time
from array import array

import esp32
import machine
import network

REPORT_MS = 2000
ROM_BYTES = 0
STEP_US = 50                 # table resolution: 400 entries a cycle


def _table(peak, phase):
    from board import config
    n = 20000 // STEP_US
    t = array("H", bytes(2 * n))
    for k in range(n):
        t[k] = max(0, min(4095, int(config.MID + peak * math.sin(2 * math.pi * k / n + phase))))
    return t


def _wire():
    from board import config
    v_peak = 230 * 1.4142 / config.V_CALIB
    i_peak = 5 * 1.4142 / config.I_CALIB
    tv = _table(v_peak, 0.0)
    ti = _table(i_peak, math.pi)          # exporting: current in opposition to the voltage
    n = len(tv)
    ticks = time.ticks_us
    machine.ADC.sources[config.PIN_V] = lambda: tv[(ticks() // STEP_US) % n]
    machine.ADC.sources[config.PIN_I] = lambda: ti[(ticks() // STEP_US) % n]
    esp32.RMT.record = False
    esp32.RMT.clock = lambda: ticks() & 0x3FFFFFFF
    connect = network.WLAN.connect

    def joined(self, ssid, key=None):     # the home network answers at once
        connect(self, ssid, key)
        network.got_ip()
    network.WLAN.connect = joined


def _configure(data, port, pairs):
    from records.store import Store
    from records.config import Config
    changes = {"wifi_ssid": "home", "wifi_pass": "secret-pass", "http_port": port}
    for p in pairs:
        k, v = p.split("=", 1)
        changes[k] = json.loads(v)
    Config(Store(data)).update(json.dumps(changes))


async def _report():
    import asyncio
    while True:
        gc.collect()
        print("heap live=%d free=%d" % (gc.mem_alloc() - ROM_BYTES, gc.mem_free()))
        await asyncio.sleep_ms(REPORT_MS)


def _mount_romfs():
    global ROM_BYTES
    import os
    path = os.getenv("MAXPV_ROMFS")
    if not path:
        return
    import vfs
    with open(path, "rb") as f:
        rom = f.read()
    ROM_BYTES = len(rom)
    vfs.mount(vfs.VfsRom(rom), "/rom")
    sys.path.insert(0, "/rom")


def main(argv):
    data, port = argv[1], int(argv[2])
    _mount_romfs()
    import boot                     # first, as on the chip (an update's swap: otaboot.py)
    del boot
    _wire()
    _configure(data, port, argv[3:])
    gc.collect()
    import asyncio
    import main as firmware
    from board.esp32 import Esp32Board
    firmware.make_board = lambda opts: Esp32Board(data_dir=data)
    run = firmware.Firmware.run

    async def with_report(fw):
        t = asyncio.create_task(_report())
        try:
            await run(fw)
        finally:
            t.cancel()
    firmware.Firmware.run = with_report
    firmware.main(["main.py", "--www", "www", "--quiet", "1"])


main(sys.argv)
