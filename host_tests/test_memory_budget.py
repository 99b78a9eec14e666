"""The device image's heap against the two hardware targets (docs/hardware.md): the image
tools/flash.py deploys, without the simulated board, on board/esp32.py over the fakes, in a
fixed heap converted from the chip's KB (host_tests/device_heap.py; bench/memory.py prints
the figures per feature).

- With PSRAM, everything on (MQTT to a real mosquitto, the remote relay, two phones loading
  the dashboard) runs in PSRAM_BUDGET_KB: no failed request, no MemoryError.
- Without PSRAM the target is not met: the image needs ~220 KB of the chip's heap with
  MQTT on where a WROOM module has ~110 KB, and cuts alone cannot close that (docs/hardware.md,
  "Why cutting will not get a WROOM there": even with its bytecode in a ROMFS, the image holds
  ~108 KB after boot). The live heap after boot may not grow (LIVE_BOOT_KB), and the target
  itself is an expected failure that turns into a failure the day it passes (strict), so
  that it is then held for good.
"""
import pytest

import device_heap as dh
from test_mqtt import Broker

LIVE_BOOT_KB = 159          # chip KB, defaults; measured 156.4 (bench/memory.py, 2026-12-03):
                             # 149.9 before safe mode (+3.3), the self-test (+1.1) and the
                             # update's upload and swap (+2.0), each loaded lazily but for
                             # its hooks and handlers


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    return dh.build(tmp_path_factory.mktemp("device") / "image")


@pytest.fixture(scope="module")
def services():
    broker = Broker()
    relay = dh.RelayTarget()
    yield dh.everything_on(broker.port, relay.port)
    broker.stop()
    relay.stop()


def _report(name, heap, r):
    print("\n%s in %s: live after boot %.1f KB (chip %.1f), under load %.1f KB (chip %.1f), "
          "%d requests" % (name, heap, (r["live_boot"] or 0) / 1024, dh.chip_kb(r["live_boot"] or 0),
                           (r["live_load"] or 0) / 1024, dh.chip_kb(r["live_load"] or 0),
                           r["answered"]))


def test_everything_on_runs_in_the_psram_budget(image, tmp_path, services):
    heap = dh.host_heap(dh.PSRAM_BUDGET_KB)
    r = dh.run(image, tmp_path, heap, services)
    _report("everything on", heap, r)
    assert not r["problems"], "\n".join(r["problems"])
    assert r["answered"] > 50


def test_the_device_image_does_not_grow_while_it_is_cut_down(image, tmp_path):
    heap = dh.host_heap(dh.PSRAM_BUDGET_KB)
    r = dh.run(image, tmp_path, heap, None, clients=1, seconds=2)
    _report("defaults", heap, r)
    assert not r["problems"], "\n".join(r["problems"])
    assert dh.chip_kb(r["live_boot"]) <= LIVE_BOOT_KB


@pytest.mark.xfail(strict=True, reason="not met: the image needs ~220 KB of the chip's heap "
                   "with MQTT on, ~108 KB live even with its code in a ROMFS "
                   "(docs/hardware.md, Memory)")
def test_without_psram_it_routes_serves_two_phones_and_runs_mqtt(image, tmp_path, services):
    heap = dh.host_heap(dh.NO_PSRAM_KB)
    mqtt = {k: v for k, v in services.items() if k.startswith("mqtt")}
    r = dh.run(image, tmp_path, heap, mqtt)
    assert not r["problems"], "\n".join(r["problems"])
