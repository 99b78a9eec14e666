"""board/esp32_wifi.py and net/wifi.py under the real MicroPython interpreter, on the fake
`network` module (host_tests/fakes/network.py), which records every WLAN call and answers
with the ESP32 port's status codes. What is checked is what the chip must be asked, in
which order: the radio started once before the router runs, the hostname before the
station connects (DHCP and mDNS take it then), DHCP or the static address, an open setup
access point named after the chip, the scan on a thread, and the status codes a wrong
password or a missing network give on the chip turned into the reasons the owner sees.
"""
from conftest import run_mp

PRELUDE = """
import json, asyncio, network
from board.esp32_wifi import Esp32Wifi
W = network.world
def calls(since=0):
    return [list(c) for c in network.log[since:]]
"""


def mp(code):
    return run_mp(PRELUDE + code, fakes=True)


def test_the_radio_starts_once_and_the_station_connects_after_its_hostname():
    r = mp("""
r = Esp32Wifi()
boot = calls()
n = len(network.log)
r.hostname("chauffe-eau")
asyncio.run(r.start("Maison", "soleil2026"))
dhcp = calls(n)
asyncio.run(r.start("Maison", "soleil2026"))     # DHCP again: its client already runs
n = len(network.log)
asyncio.run(r.start("Maison", "soleil2026", ("192.168.1.60", "255.255.255.0", "192.168.1.1", "192.168.1.1")))
static = calls(n)
asyncio.run(r.start("Maison", "soleil2026"))     # and back to DHCP
print(json.dumps([boot, dhcp, static, r.chip_id()]))
""")
    boot, dhcp, static, chip = r
    # the AP an earlier image may have left on is off; esp_wifi_start happens here, once
    assert boot == [["ap", "active", False], ["sta", "active", True]]
    assert dhcp == [["hostname", "chauffe-eau"], ["sta", "disconnect"], ["sta", "ipconfig", [["dhcp4", True]]],
                    ["sta", "config", [["reconnects", 2]]], ["sta", "connect", "Maison", "soleil2026"]]
    assert static[1] == ["sta", "ifconfig", ["192.168.1.60", "255.255.255.0", "192.168.1.1", "192.168.1.1"]]
    assert static[-1] == ["sta", "connect", "Maison", "soleil2026"]
    assert chip == "5A17"


def test_the_chips_statuses_become_the_owners_reasons():
    r = mp("""
import time
from board import esp32_wifi
esp32_wifi.GRACE_MS = 0
r = Esp32Wifi()
out = {}
def attempt():
    asyncio.run(r.start("Maison", "x"))
    return [r.status()]
# a wrong WPA2 password: three handshake time-outs (the driver's two retries), then the reason
s = attempt()
for _ in range(3):
    network.disconnected(15)
    s.append(r.status())
out["wrong"] = s
# a network out of range
s = attempt()
network.disconnected(201)
out["absent"] = s + [r.status()]
# joined
s = attempt()
network.associated()
s.append(r.status())
network.got_ip()
out["joined"] = s + [r.status(), r.address(), r.rssi()]
# associated, no address: what "no DHCP answer" rests on
s = attempt()
network.associated()
out["no_dhcp"] = s + [r.status(), r.associated(), r.address(), r.rssi()]
# lost while joined: a beacon time-out, the driver's retries, then it gives up
attempt()
network.got_ip()
network.disconnected(200)
s = [r.status(), r.associated(), r.rssi()]
network.disconnected(200)
network.disconnected(200)
out["lost"] = s + [r.status()]
asyncio.run(r.stop())
out["stopped"] = r.status()
# connect() keeps the last reason: right after a wrong password, the right one is not
# failed by the stale code during the grace period
esp32_wifi.GRACE_MS = 300
asyncio.run(r.start("Maison", "x"))
for _ in range(3):
    network.disconnected(205)
time.sleep_ms(350)
before = r.status()
asyncio.run(r.start("Maison", "soleil2026"))
stale = r.status()
time.sleep_ms(100)
network.got_ip()
out["stale"] = [before, stale, r.status()]
print(json.dumps(out))
""")
    assert r["wrong"] == ["connecting", "connecting", "connecting", "wrong_password"]
    assert r["absent"] == ["connecting", "not_found"]
    assert r["joined"] == ["connecting", "connecting", "joined",
                           ["192.168.1.42", "255.255.255.0", "192.168.1.1", "192.168.1.1"], -60]
    assert r["no_dhcp"] == ["connecting", "connecting", True, None, -60]
    assert r["lost"] == ["connecting", False, None, "failed"]
    assert r["stopped"] == "off"
    assert r["stale"] == ["wrong_password", "connecting", "joined"]


def test_the_setup_access_point_is_open_and_named_after_the_chip_and_the_scan_runs_on_a_thread():
    r = mp("""
import _thread
r = Esp32Wifi()
n = len(network.log)
asyncio.run(r.ap("MaxPV-" + r.chip_id()))
opened = calls(n)
W["stations"] = 2
clients = r.ap_clients()
n = len(network.log)
asyncio.run(r.ap(None))
closed = calls(n)
W["networks"] = [(b"Voisin", b"\\x01" * 6, 6, -80, 3, False), (b"Maison", b"\\x02" * 6, 1, -55, 3, False),
                 (b"\\xff\\xfe", b"\\x03" * 6, 11, -70, 0, False), (b"Libre", b"\\x04" * 6, 11, -66, 0, False)]
found = asyncio.run(r.scan())
main = _thread.get_ident()
print(json.dumps([opened, clients, closed, found, W["scan_thread"] != main, W["active_thread_1"] != main]))
""")
    opened, clients, closed, found, scan_elsewhere, ap_elsewhere = r
    # enabled first: ESP-IDF refuses the configuration of an interface that is not
    assert opened == [["ap", "active", True],
                      ["ap", "config", [["authmode", 0], ["essid", "MaxPV-5A17"], ["max_clients", 4]]]]
    assert clients == 2
    assert closed == [["ap", "active", False]]
    # strongest first, secured or not; a name that is not UTF-8 is left out
    assert found == [["Maison", -55, True], ["Libre", -66, False], ["Voisin", -80, True]]
    # the blocking scan and the AP's wait for its event held another thread, not the router's
    assert scan_elsewhere and ap_elsewhere
