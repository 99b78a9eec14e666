"""Joining the network (net/wifi.py) on the simulated board's radio (board/sim/radio.py),
the firmware under MicroPython as `make sim WIFI=setup` runs it, driven over HTTP with the
house's controls: a new board's setup access point and captive portal (redirects, and the
captive DNS asked by a real DNS client), "save and connect" with a wrong password, a
network out of range and no DHCP answer, then the right one; the loss of the network and
its return; a network that never answers; eraseconfigesp; the Wi-Fi watchdog against a
DNS server that stops answering; and the router's window cadence through all of it.

The board runs as fast as it can (--speed 0, ~15x real time): every duration below is
board time, read from the firmware's own answers.
"""
import json
import re
import socket
import time
import urllib.parse

import dns.message
import dns.query
import pytest

from conftest import FIRMWARE
from test_api import Firmware, get, ok
from test_captive_dns import free_udp_port
from lan_dns import LanDns

Q = urllib.parse.quote
SECRET = "********"


def boot(flash, *extra, quiet=True, scenario="clear_day", dns_port=None):
    args = ["--wifi", "setup", "--dns-port", str(dns_port or free_udp_port()), *extra]
    if not quiet:
        args += ["--quiet", "0"]
    fw = Firmware(flash, scenario=scenario, speed="0", args=args)
    return fw


def network(fw):
    status, body, _ = get(fw.base, "/api/get?network")
    assert status == 200, body
    return json.loads(body)


def config(fw):
    return json.loads(get(fw.base, "/api/get?configmaxpv")[1])


def seconds(fw):
    return json.loads(get(fw.base, "/sim/state")[1])["seconds"]


def until(fw, cond, wall=90, what=""):
    """Poll the network state until cond(state) holds; returns that state."""
    deadline = time.monotonic() + wall
    while True:
        st = network(fw)
        if cond(st):
            return st
        assert time.monotonic() < deadline, "%s never came: %s" % (what, st)
        time.sleep(0.05)


def wait_board(fw, s):
    end = seconds(fw) + s
    while seconds(fw) < end:
        time.sleep(0.05)


def trial(fw, **settings):
    assert ok(fw.base, "/api/set?wifi&value=" + Q(json.dumps(settings))) == \
        "Request successfully processed"
    return until(fw, lambda s: s["trial"] and s["trial"]["result"] != "trying", what="a result")


def sim(fw, **kw):
    ok(fw.base, "/sim/set?" + urllib.parse.urlencode(kw))


def redirect(fw, path, host=None):
    """(status, Location) of a request, not followed."""
    c = socket.create_connection(("127.0.0.1", fw.port), timeout=5)
    c.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n"
               % (path, host or "127.0.0.1:%d" % fw.port)).encode())
    data = b""
    while True:
        chunk = c.recv(4096)
        if not chunk:
            break
        data += chunk
    c.close()
    head = data.split(b"\r\n\r\n")[0].decode()
    loc = re.search(r"(?im)^location: (.*)$", head)
    return int(head.split()[1]), loc.group(1).strip() if loc else None


@pytest.fixture
def new_board(tmp_path):
    """A board with nothing saved, its setup access point open."""
    fw = boot(tmp_path)
    until(fw, lambda s: s["mode"] == "setup", what="the access point")
    yield fw
    fw.stop()


@pytest.fixture
def joined(new_board):
    """A board that has joined "Maison" through the portal."""
    fw = new_board
    assert trial(fw, wifi_ssid="Maison", wifi_pass="soleil2026")["trial"]["result"] == "joined"
    return fw


PROBES = ("/generate_204", "/hotspot-detect.html", "/library/test/success.html",
          "/connecttest.txt", "/ncsi.txt", "/canonical.html")


def test_a_new_board_opens_its_setup_access_point_and_everything_leads_to_the_setup_page(tmp_path):
    dns_port = free_udp_port()
    fw = boot(tmp_path, dns_port=dns_port)
    try:
        st = until(fw, lambda s: s["mode"] == "setup", what="the access point")
        assert st["ap"] == "MaxPV-5A17" and st["ap_ip"] == "127.0.0.1" and not st["joined"]
        setup = "http://127.0.0.1:%d/#setup" % fw.port
        for p in PROBES:                     # the phones' "is there internet?" checks
            assert redirect(fw, p) == (302, setup), p
        # any other site's name (the captive DNS sent the phone here) leads there too
        assert redirect(fw, "/", host="connectivitycheck.gstatic.com") == (302, setup)
        assert redirect(fw, "/favicon.ico", host="www.apple.com") == (302, setup)
        # the router's own pages and API are served as usual
        assert redirect(fw, "/")[0] == 200
        assert ok(fw.base, "/api/get?ping") == "running"
        # the captive DNS responder gives the access point's address to every name
        for name in ("connectivitycheck.gstatic.com.", "captive.apple.com.", "www.msftconnecttest.com.",
                     "maxpv.local.", "example.org."):
            r = dns.query.udp(dns.message.make_query(name, "A"), "127.0.0.1", port=dns_port, timeout=2)
            assert [a.address for rr in r.answer for a in rr] == ["127.0.0.1"], name
        # the networks around, strongest first
        deadline = time.monotonic() + 30
        while True:
            nets = json.loads(get(fw.base, "/api/get?networks")[1])
            if nets["networks"] and not nets["scanning"]:
                break
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert [n[0] for n in nets["networks"]] == ["Maison", "Livebox-7A3C", "FreeWifi_secure", "Atelier"]
        assert nets["networks"][2] == ["FreeWifi_secure", -80, False]
    finally:
        fw.stop()


def test_save_and_connect_reports_each_failure_keeps_the_access_point_and_joins_with_the_right_password(new_board):
    fw = new_board
    st = trial(fw, wifi_ssid="Maison", wifi_pass="pas-le-bon")
    assert st["trial"] == {"ssid": "Maison", "result": "wrong_password"}
    assert st["mode"] == "setup" and st["ap"] == "MaxPV-5A17"
    assert config(fw)["wifi_ssid"] == ""                 # nothing saved
    assert trial(fw, wifi_ssid="Ailleurs", wifi_pass="12345678")["trial"]["result"] == "not_found"
    sim(fw, wifi="nodhcp")
    assert trial(fw, wifi_ssid="Maison", wifi_pass="soleil2026")["trial"]["result"] == "no_dhcp"
    sim(fw, wifi="up")
    # bad input is refused before anything is tried
    for bad, why in (({"wifi_pass": "soleil2026"}, "wifi_ssid"),
                     ({"wifi_ssid": "Maison", "wifi_pass": "court"}, "8 to 63"),
                     ({"wifi_ssid": "Maison", "wifi_pass": "clé du réseau"}, "ASCII"),
                     ({"wifi_ssid": "é" * 17}, "32 bytes"),
                     ({"wifi_ssid": "Maison", "dhcp": 0, "ip": "192.168.1.300"}, "IPv4"),
                     ({"wifi_ssid": "Maison", "hostname": "mon routeur"}, "hostname"),
                     ({"wifi_ssid": "Maison", "mqtt_port": 1}, "unknown")):
        status, body, _ = get(fw.base, "/api/set?wifi&value=" + Q(json.dumps(bad)))
        assert status == 400 and why in body, (bad, body)
    st = trial(fw, wifi_ssid="Maison", wifi_pass="soleil2026", hostname="chauffe-eau")
    assert st["trial"]["result"] == "joined"
    assert st["ip"] == "127.0.0.1" and st["rssi"] == -58 and st["url"] == "http://chauffe-eau.local"
    cfg = config(fw)
    assert (cfg["wifi_ssid"], cfg["wifi_pass"], cfg["hostname"], cfg["dhcp"]) == \
        ("Maison", SECRET, "chauffe-eau", 1)                # the password is never read back
    # the access point stays a minute for the phone to show the result, then closes
    assert st["mode"] == "setup"
    st = until(fw, lambda s: s["mode"] == "station", what="station mode")
    assert st["ap"] is None and st["ssid"] == "Maison"
    assert redirect(fw, "/generate_204")[0] == 404       # no portal any more
    # and it is what this boot runs with: nothing waits for a reboot
    assert "next reboot" not in ok(fw.base, "/api/set?configmaxpv&value=" + Q('{"mqtt_port":1883}'))


def test_a_lost_network_opens_the_access_point_after_three_minutes_and_its_return_closes_it(joined):
    fw = joined
    until(fw, lambda s: s["mode"] == "station", what="station mode")
    sim(fw, wifi="down")
    t0 = seconds(fw)
    st = until(fw, lambda s: not s["joined"], what="the loss")
    assert st["mode"] == "connecting"
    st = until(fw, lambda s: s["mode"] == "setup", what="the access point")
    waited = seconds(fw) - t0
    assert 180 <= waited < 200, waited                     # ap_after_min = 3
    assert st["reason"] == "not_found"
    assert ok(fw.base, "/api/get?ping") == "running"      # the router never stopped
    # a phone on the access point: the background retries wait (the AP would follow the
    # station's channel changes while it searches, and the phone lose it)
    sim(fw, phone="on")
    wait_board(fw, 10)                # an attempt under way fails (still out of range)
    sim(fw, wifi="up")
    wait_board(fw, 90)
    assert network(fw)["mode"] == "setup" and not network(fw)["joined"]
    sim(fw, phone="off")
    st = until(fw, lambda s: s["mode"] == "station", what="the return")
    assert st["joined"] and st["ap"] is None and st["reason"] is None


def test_a_network_that_never_answers_gives_the_access_point_in_turns(joined):
    fw = joined
    until(fw, lambda s: s["mode"] == "station", what="station mode")
    ok(fw.base, "/api/set?configmaxpv&value=" + Q('{"ap_after_min":1,"ap_timeout_min":2}'))
    sim(fw, wifi="nodhcp")                                 # in range, but nobody answers
    ok(fw.base, "/api/action?rebootesp")
    fw.wait()
    st = until(fw, lambda s: s["mode"] == "setup", what="the access point")
    assert 60 <= seconds(fw) < 80 and st["reason"] == "no_dhcp"       # seconds since boot
    t1 = seconds(fw)
    until(fw, lambda s: s["mode"] == "connecting", what="the AP's time-out")
    assert 115 <= seconds(fw) - t1 < 140                   # ap_timeout_min = 2
    t2 = seconds(fw)
    until(fw, lambda s: s["mode"] == "setup", what="the access point again")
    assert 55 <= seconds(fw) - t2 < 80      # t2 is read up to a few board seconds late
    assert ok(fw.base, "/api/get?ping") == "running"


def test_eraseconfigesp_and_a_reboot_give_a_new_board(joined):
    fw = joined
    until(fw, lambda s: s["mode"] == "station", what="station mode")
    ok(fw.base, "/api/action?eraseconfigesp")
    assert network(fw)["mode"] == "station"                # as the original: until the reboot
    ok(fw.base, "/api/action?rebootesp")
    fw.wait()
    st = until(fw, lambda s: s["mode"] == "setup", what="the access point")
    assert st["ssid"] == "" and config(fw)["wifi_ssid"] == "" and config(fw)["wifi_pass"] == ""


@pytest.fixture
def on_lan(tmp_path):
    """A board joined to "Maison", whose DNS server (a LanDns) is the watchdog's target."""
    server = LanDns()
    fw = boot(tmp_path, "--dns", "127.0.0.1:%d" % server.port)
    until(fw, lambda s: s["mode"] == "setup", what="the access point")
    trial(fw, wifi_ssid="Maison", wifi_pass="soleil2026")
    until(fw, lambda s: s["mode"] == "station", what="station mode")
    yield fw, server
    server.close()
    fw.stop()


def test_the_watchdog_restarts_the_wifi_when_the_dns_server_stops_answering(on_lan):
    fw, server = on_lan
    ok(fw.base, "/api/set?configmaxpv&value=" + Q('{"watchdogwifi_active":1}'))
    wait_board(fw, 700)                                 # answered: nothing to do
    assert server.asked >= 10 and network(fw)["watchdog_restarts"] == 0
    server.up = False
    t0 = seconds(fw)
    until(fw, lambda s: s["watchdog_restarts"] == 1, wall=120, what="a restart")
    # 600 s after the last answer, which came up to one 30 s period before t0 (and a
    # few board seconds more: at --speed 0 the task looks every ~4 board seconds)
    assert 560 <= seconds(fw) - t0 < 640
    st = until(fw, lambda s: s["joined"], what="the rejoin")   # the Wi-Fi, not the router
    assert st["mode"] == "station" and ok(fw.base, "/api/get?ping") == "running"


def samples_per_second(fw):
    """The router's samples per second, one figure per board second (its status lines)."""
    fw.log.seek(0)
    return [int(m) for m in re.findall(rb"samples=(\d+)/s", fw.log.read())]


def cadence_run(flash, scenario, wifi):
    """Boot, use the portal (three scans, a wrong password, the right one) and stay joined
    until board second 150; the samples per second of its seconds 5..135."""
    args = ["--seconds", "150"]
    if wifi:
        args += ["--wifi", "setup", "--dns-port", str(free_udp_port())]
    fw = Firmware(flash, scenario=scenario, speed="0", args=args + ["--quiet", "0"])
    try:
        if wifi:
            until(fw, lambda s: s["mode"] == "setup", what="the access point")
            for _ in range(3):
                get(fw.base, "/api/get?networks")
                until(fw, lambda s: not s["scanning"], what="the scan's end")
                wait_board(fw, 10)
            trial(fw, wifi_ssid="Maison", wifi_pass="pas-le-bon")
            trial(fw, wifi_ssid="Maison", wifi_pass="soleil2026")
            until(fw, lambda s: s["mode"] == "station", what="station mode")   # the AP closes
            assert seconds(fw) < 145, "the portal's use did not fit in the measured time"
        fw.p.wait(timeout=120)
    finally:
        fw.stop()
    got = samples_per_second(fw)
    assert len(got) >= 135, got       # a second the loop was held through prints nothing
    return got[5:135]


def test_the_window_cadence_stays_within_5_percent_through_scans_connections_and_the_portal(tmp_path):
    # What this holds: the time the radio's calls take from the router loop, as the chip
    # would be held (board/sim/radio.py's hold_ms: the calls that block run on a thread on
    # the chip, board/esp32_wifi.py), with the Wi-Fi task, the captive DNS and the portal's
    # requests running as they do. What it does not: the CPU those tasks take on the chip,
    # which the simulated board does not charge for any task yet (the device load model of
    # the regulation bench will).
    base = cadence_run(tmp_path / "a", "clear_day", wifi=False)
    used = cadence_run(tmp_path / "b", "clear_day", wifi=True)
    normal = sum(base) / len(base)
    print("samples/s: normal %.0f (worst second %d), with the portal in use %.0f (worst second %d)"
          % (normal, min(base), sum(used) / len(used), min(used)))
    assert sum(used) / len(used) >= 0.95 * normal
    assert min(used) >= 0.95 * min(base)          # the worst second too
    # and the measure can fail: a radio whose scan held the loop, as WLAN.scan() does
    # when called on the router's thread (~2.5 s), is caught
    sc = json.load(open(FIRMWARE + "/board/sim/scenarios/clear_day.json"))
    sc["wifi"] = {"hold_ms": {"scan": 2500}}
    held = tmp_path / "held.json"
    held.write_text(json.dumps(sc))
    blocked = cadence_run(tmp_path / "c", str(held), wifi=True)
    print("with a scan that holds the loop: worst second %d" % min(blocked))
    assert min(blocked) < 0.95 * min(base)


# --- found in review: each of these failed before its fix -------------------------------------

def test_a_network_saved_through_configmaxpv_on_a_new_board_is_joined(new_board):
    fw = new_board
    ok(fw.base, "/api/set?configmaxpv&value=" + Q(json.dumps(
        {"wifi_ssid": "Maison", "wifi_pass": "soleil2026", "ap_timeout_min": 1})))
    st = until(fw, lambda s: s["joined"], what="the join")
    assert st["ssid"] == "Maison"
    until(fw, lambda s: s["mode"] == "station", what="the AP's closing")


def test_switching_the_watchdog_on_after_ten_minutes_does_not_restart_the_wifi(on_lan):
    fw, _ = on_lan
    wait_board(fw, 660)
    ok(fw.base, "/api/set?configmaxpv&value=" + Q('{"watchdogwifi_active":1}'))
    wait_board(fw, 60)
    st = network(fw)
    assert st["watchdog_restarts"] == 0 and st["joined"]


def test_clearing_the_saved_network_while_joined_waits_for_the_reboot(joined):
    fw = joined
    until(fw, lambda s: s["mode"] == "station", what="station mode")
    body = ok(fw.base, "/api/set?configmaxpv&value=" + Q('{"wifi_ssid":""}'))
    assert "wifi_ssid" in body and "next reboot" in body
    wait_board(fw, 30)
    st = network(fw)
    assert st["mode"] == "station" and st["ap"] is None
    ok(fw.base, "/api/action?rebootesp")
    fw.wait()
    until(fw, lambda s: s["mode"] == "setup", what="the access point after the reboot")


def test_a_failed_save_and_connect_sets_no_admin_password(new_board):
    fw = new_board
    st = trial(fw, wifi_ssid="Maison", wifi_pass="pas-le-bon", adminpass="secret-du-jour")
    assert st["trial"]["result"] == "wrong_password"
    assert ok(fw.base, "/api/set?param=06&value=10")          # no password asked
    st = trial(fw, wifi_ssid="Maison", wifi_pass="soleil2026", adminpass="secret-du-jour")
    assert st["trial"]["result"] == "joined"
    assert get(fw.base, "/api/set?param=06&value=11")[0] == 401   # now it is


def test_a_scan_pauses_a_station_that_is_trying_and_resumes_it(new_board):
    fw = new_board
    ok(fw.base, "/api/set?configmaxpv&value=" + Q(json.dumps(
        {"wifi_ssid": "Maison", "wifi_pass": "soleil2026", "ap_after_min": 1})))
    sim(fw, wifi="nodhcp")
    ok(fw.base, "/api/action?rebootesp")
    fw.wait()
    until(fw, lambda s: s["mode"] == "setup", what="the fallback access point")
    get(fw.base, "/api/get?networks")
    until(fw, lambda s: s["scanning"], what="the scan")
    until(fw, lambda s: not s["scanning"], what="the scan's end")
    nets = json.loads(get(fw.base, "/api/get?networks")[1])["networks"]
    assert nets and nets[0][0] == "Maison"
    sim(fw, wifi="up")                      # the station was resumed: it joins
    until(fw, lambda s: s["mode"] == "station", what="the join after the scan")
