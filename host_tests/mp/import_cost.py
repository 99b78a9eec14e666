"""What each part of the firmware keeps on the heap once imported, in the device image
(run from its folder, the fakes of host_tests/fakes first on the path). Prints one JSON list
of [part, bytes]: each part's modules imported in turn, after those of the parts above it,
and the heap measured after a collection (a module shared by two parts counts in the first).
"""
import gc
import json

PARTS = (
    ("asyncio", ("asyncio",)),
    ("hardware fakes (not on the chip)", ("machine", "esp32", "network")),
    ("board (esp32, capture, firing)", ("board.config", "board.capture", "board.firing",
                                        "board.esp32")),
    ("measurement (measure, mains, params)", ("router.measure", "router.mains", "router.params")),
    ("regulation and heater (realtime, router.*)", ("realtime",)),
    ("records (store, config, history, admin)", ("records.store", "records.config",
                                                 "records.history", "records.admin")),
    ("composition (main, clock)", ("main",)),
    ("Wi-Fi and setup (wifi, captive DNS)", ("net.wifi", "board.esp32_wifi")),
    ("HTTP (api.http, api.server)", ("api.http", "api.server")),
    ("API (endpoints, data, guard, password)", ("api.app",)),
    ("web UI and portal", ("api.web", "api.portal")),
    ("time service (sntp)", ("net.sntp",)),
    ("MQTT (link, client, discovery)", ("net.mqtt_link",)),
    ("remote relay", ("net.remote_relay",)),
)

gc.collect()
base = gc.mem_alloc()
rows = [["interpreter at start (this script included)", base]]
for name, mods in PARTS:
    for m in mods:
        __import__(m)
    gc.collect()
    now = gc.mem_alloc()
    rows.append([name, now - base])
    base = now
print(json.dumps(rows))
