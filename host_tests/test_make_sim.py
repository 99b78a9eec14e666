"""`make sim` as a user runs it: the firmware under MicroPython on the simulated board."""
import gzip
import re
import subprocess
import time
import urllib.request

from conftest import ROOT

LINE = re.compile(r"^(\d\d:\d\d:\d\d) V=\s*([\d.]+)V I=\s*([\d.]+)A P=\s*([+-][\d.]+)W "
                  r"S=\s*([\d.]+)VA cos=([+-][\d.]+) f=\s*([\d.]+)Hz routed=\s*([\d.]+)W status=([01]{8}) "
                  r"samples=(\d+)/s$")


def make_sim(*args, timeout=120, on_first=None, tested=True):
    """Run `make sim` to its end; on_first(port) is called at its first status line.
    `tested`: the board's first-boot self-test is done already (its report on the flash),
    so the values are the router's alone, not those of a self-test stopping the SSR."""
    import tempfile
    from test_api import free_port
    t0 = time.monotonic()
    flash = tempfile.mkdtemp()      # a new board: nothing saved on its flash
    if tested:
        from test_api import selftest_done
        selftest_done(flash)
    port = free_port()
    p = subprocess.Popen(["make", "-s", "sim", "PORT=%d" % port, "DATA=" + flash, *args],
                         cwd=ROOT,
                         stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    lines = []
    first = None
    for ln in p.stdout:
        m = LINE.match(ln.strip())
        if m:
            if first is None:
                first = time.monotonic() - t0
                if on_first:
                    on_first(port)
            lines.append(m.groups())
    p.wait(timeout=timeout)
    assert p.returncode == 0, lines
    return lines, first, time.monotonic() - t0


def test_make_sim_prints_plausible_live_values_within_15_s_in_real_time():
    home = []

    def open_the_ui(port):
        with urllib.request.urlopen("http://127.0.0.1:%d/" % port, timeout=5) as r:
            home.append((r.headers["Content-Encoding"], gzip.decompress(r.read()).decode()))

    lines, first, wall = make_sim("SECONDS=4", on_first=open_the_ui)
    # it serves the web UI it has just built
    assert home and home[0][0] == "gzip" and "<title>MaxPV!</title>" in home[0][1]
    assert first is not None and first < 15
    assert len(lines) >= 3
    for clock, v, i, p, s, cos, f, routed, status, samples in lines[1:]:
        assert 225 < float(v) < 240 and abs(float(f) - 50) < 0.05
        assert 2600 < int(samples) < 3400
        # Sunny noon, ~2.2 kW of surplus: the 2 kW heater takes all it can, the rest is exported.
        assert float(routed) > 1950 and float(p) < -100
        assert status == "00001011"      # routing, at 100 %, exporting
    assert wall >= 3.5                   # SPEED=1 is paced to the wall clock


def test_make_sim_values_move_when_the_scenario_switches_a_load():
    # clear_day switches a 2 kW kettle on at t = 20 s: the router gives up what the kettle
    # takes from the surplus, and the grid goes back to its import target.
    lines, _, _ = make_sim("SPEED=0", "SECONDS=30")
    p = [float(x[3]) for x in lines]
    routed = [float(x[7]) for x in lines]
    before = sum(routed[12:18]) / 6
    surplus = before - sum(p[12:18]) / 6
    after = sum(routed[-4:]) / 4
    assert before > 1950
    assert abs(after - (surplus - 2000 - 10)) < 40, (surplus, after)
    assert all(abs(x - 10) < 10 for x in p[-4:]), p[-4:]


def test_make_sim_wifi_setup_is_a_new_board_with_its_portal_and_captive_dns():
    import json
    import dns.message
    import dns.query
    from test_captive_dns import free_udp_port
    dns_port = free_udp_port()
    seen = {}

    def at_start(port):
        base = "http://127.0.0.1:%d" % port
        for _ in range(50):
            with urllib.request.urlopen(base + "/api/get?network", timeout=5) as r:
                seen["network"] = json.loads(r.read())
            if seen["network"]["mode"] == "setup":
                break
            time.sleep(0.1)
        with urllib.request.urlopen(base + "/generate_204", timeout=5) as r:   # follows the 302
            seen["probe"] = r.geturl()
        q = dns.query.udp(dns.message.make_query("connectivitycheck.gstatic.com.", "A"),
                          "127.0.0.1", port=dns_port, timeout=2)
        seen["dns"] = [a.address for rr in q.answer for a in rr]

    make_sim("WIFI=setup", "DNS_PORT=%d" % dns_port, "SECONDS=4", on_first=at_start)
    assert seen["network"]["mode"] == "setup" and seen["network"]["ap"] == "MaxPV-5A17"
    assert seen["probe"].endswith("/#setup") and seen["dns"] == ["127.0.0.1"]
