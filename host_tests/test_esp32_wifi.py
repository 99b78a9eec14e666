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
n = len(network.log)
asyncio.run(r.start("Maison", "soleil2026", ("192.168.1.60", "255.255.255.0", "192.168.1.1", "192.168.1.1")))
static = calls(n)
print(json.dumps([boot, dhcp, static, r.chip_id()]))
""")
    boot, dhcp, static, chip = r
    # the AP an earlier image may have left on is off; esp_wifi_start happens here, once
    assert boot == [["ap", "active", False], ["sta", "active", True]]
    assert dhcp == [["hostname", "chauffe-eau"], ["sta", "disconnect"], ["sta", "ifconfig", "dhcp"],
                    ["sta", "connect", "Maison", "soleil2026"]]
    assert static[1] == ["sta", "ifconfig", ["192.168.1.60", "255.255.255.0", "192.168.1.1", "192.168.1.1"]]
    assert static[-1] == ["sta", "connect", "Maison", "soleil2026"]
    assert chip == "5A17"


def test_the_chips_status_codes_become_the_owners_reasons():
    r = mp("""
r = Esp32Wifi()
out = {}
def seq(codes, polls, **w):
    W.update({"status": list(codes), "associated": False, "got_ip": False})
    W.update(w)
    asyncio.run(r.start("Maison", "x"))
    return [r.status() for _ in range(polls)]
# a wrong password: CONNECTING, a handshake time-out between two retries, CONNECTING again
out["wrong"] = seq([1001, 204, 1001, 1001], 4)
out["wrong202"] = seq([1001, 202, 1001], 3)
out["absent"] = seq([1001, 201], 2)
out["joined"] = seq([1001, 1010], 2, got_ip=True, associated=True)
out["address"] = r.address()
out["rssi"] = r.rssi()
W.update({"status": [1001], "associated": True, "got_ip": False})
asyncio.run(r.start("Maison", "x"))
out["no_dhcp"] = [r.status(), r.associated(), r.address(), r.rssi()]
W.update({"associated": False})
out["gone"] = [r.associated(), r.rssi()]
asyncio.run(r.stop())
out["stopped"] = r.status()
print(json.dumps(out))
""")
    assert r["wrong"] == ["connecting", "wrong_password", "wrong_password", "wrong_password"]
    assert r["wrong202"] == ["connecting", "wrong_password", "wrong_password"]
    assert r["absent"] == ["connecting", "not_found"]
    assert r["joined"] == ["connecting", "joined"]
    assert r["address"] == ["192.168.1.42", "255.255.255.0", "192.168.1.1", "192.168.1.1"]
    assert r["rssi"] == -60
    # associated (the AP's record exists) but no address yet: what "no DHCP answer" rests on
    assert r["no_dhcp"] == ["connecting", True, None, -60]
    assert r["gone"] == [False, None]
    assert r["stopped"] == "off"


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
    assert opened == [["ap", "config", [["authmode", 0], ["essid", "MaxPV-5A17"], ["max_clients", 4]]],
                      ["ap", "active", True]]
    assert clients == 2
    assert closed == [["ap", "active", False]]
    # strongest first, secured or not; a name that is not UTF-8 is left out
    assert found == [["Maison", -55, True], ["Libre", -66, False], ["Voisin", -80, True]]
    # the blocking scan and the AP's wait for its event held another thread, not the router's
    assert scan_elsewhere and ap_elsewhere
