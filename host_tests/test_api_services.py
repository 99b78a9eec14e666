"""configmaxpv, reboot, history, protection and the simulated board's controls, over real
HTTP against the firmware under MicroPython."""
import base64
import urllib.error
import urllib.request
import json
import re
import time
import urllib.parse

import pytest

from test_api import get, launch, ok, free_port


def q(obj):
    # compact, as the web UI's JSON.stringify sends it: a whole configuration with spaces
    # after every ':' and ',' no longer fits the 2 kB request line
    return urllib.parse.quote(json.dumps(obj, separators=(",", ":")))


def test_configmaxpv_partial_update_validation_and_reboot(tmp_path):
    fw = launch(tmp_path)
    try:
        cfg = json.loads(get(fw.base, "/api/get?configmaxpv")[1])
        assert cfg["ip"] and cfg["http_port"] == fw.port and cfg["mqtt_pass"] == ""
        # a partial update keeps every other key
        assert ok(fw.base, "/api/set?configmaxpv&value=" + q({"mqtt_port": "1884", "mqtt_pass": "s3cret"}))
        cfg2 = json.loads(get(fw.base, "/api/get?configmaxpv")[1])
        assert cfg2["mqtt_port"] == 1884 and cfg2["ip"] == cfg["ip"]
        assert cfg2["mqtt_pass"] == "********"             # never read back
        # refused as a whole, nothing changed
        for bad in ({"ip": "300.1.1.1"}, {"mqtt_port": 0}, {"mqtt_port": 1, "ip": "x"},
                    {"RelayPlus_min": 600, "RelayPlus_max": 100}, {"hostname": "a b"}, {}):
            code, body, _ = get(fw.base, "/api/set?configmaxpv&value=" + q(bad))
            assert code == 400 and body.startswith("Bad request"), (bad, body)
        code, body, _ = get(fw.base, "/api/set?configmaxpv&value=%7Bnot%20json")
        assert code == 400 and "JSON" in body
        assert json.loads(get(fw.base, "/api/get?configmaxpv")[1]) == cfg2
        # keys it does not know: ignored and named, nothing changed
        assert ok(fw.base, "/api/set?configmaxpv&value=" + q({"nokey": 1})) == \
            "Request successfully processed; ignored: nokey"
        assert json.loads(get(fw.base, "/api/get?configmaxpv")[1]) == cfg2
        # posting the placeholder back keeps the password; network keys wait for a reboot
        port = free_port()
        body = ok(fw.base, "/api/set?configmaxpv&value=" + q(dict(cfg2, http_port=port)))
        assert "next reboot" in body and "http_port" in body
        # still pending when the page sends it again; not pending once set back
        body = ok(fw.base, "/api/set?configmaxpv&value=" + q(dict(cfg2, http_port=port)))
        assert body.endswith("(applied at the next reboot: http_port)")
        assert ok(fw.base, "/api/set?configmaxpv&value=" + q({"http_port": fw.port})) == \
            "Request successfully processed"
        ok(fw.base, "/api/set?configmaxpv&value=" + q({"http_port": port}))
        routed = float(ok(fw.base, "/api/get?data=09"))
        time.sleep(2)
        before = ok(fw.base, "/api/get?alldata").split(",")
        assert ok(fw.base, "/api/action?rebootesp")
        fw.wait(port=port)                                  # http_port honoured after reboot
        after = ok(fw.base, "/api/get?alldata").split(",")
        assert after[20] < before[20] or after[20].startswith("0:00:00")   # uptime restarted
        assert float(after[8]) >= float(before[8]) >= routed   # counters survived the reboot
        assert json.loads(get(fw.base, "/api/get?configmaxpv")[1])["mqtt_port"] == 1884
        # eraseconfigesp: the defaults from the next boot (on the sim the port then falls back
        # to the command line's, as no configuration is saved)
        ok(fw.base, "/api/action?eraseconfigesp")
        assert not (tmp_path / "config.json").exists()
    finally:
        fw.stop()


def test_history_csv_shape_and_survival(tmp_path):
    # A day at 240x: a half-hour every 7.5 s.
    fw = launch(tmp_path, scenario="day_compressed")
    try:
        time.sleep(25)
        code, body, ctype = get(fw.base, "/api/history?power")
        assert code == 200 and ctype.startswith("text/csv")
        assert body.endswith("\r\n") and "\n" not in body.replace("\r\n", "")
        lines = body.split("\r\n")[:-1]
        assert lines[0] == "Time,Import réseau,Export réseau,Production PV,Routage ECS"
        assert len(lines) >= 3
        stamps = []
        for ln in lines[1:]:
            m = re.fullmatch(r"(\d+)000,(-?\d+),(-?\d+),(-?\d+),(-?\d+)", ln)
            assert m, ln
            stamps.append(int(m.group(1)))
            assert int(m.group(2)) >= 0 and int(m.group(3)) <= 0    # export negative
        assert all(b - a == 1800 for a, b in zip(stamps, stamps[1:]))
        assert all(s % 1800 == 0 for s in stamps)                   # on the clock's half-hours
        rel = get(fw.base, "/api/history?relay")[1].split("\r\n")
        assert rel[0] == "Time,Relais secondaire"
        assert get(fw.base, "/api/history?nothing")[0] == 400
        ok(fw.base, "/api/action?rebootesp")
        time.sleep(1)
        fw.wait()
        again = get(fw.base, "/api/history?power")[1].split("\r\n")
        assert again[: len(lines)] == lines                         # kept across the reboot
    finally:
        fw.stop()


def test_admin_password_protects_changes_but_not_reads(tmp_path):
    fw = launch(tmp_path)
    auth = {"Authorization": "Basic " + base64.b64encode(b"admin:pa:ss").decode()}
    wrong = {"Authorization": "Basic " + base64.b64encode(b"admin:nope").decode()}
    try:
        ok(fw.base, "/api/set?adminpass&value=pa:ss")
        code, body, _ = get(fw.base, "/api/set?param=06&value=50")
        assert code == 401 and body.startswith("Unauthorized")
        assert get(fw.base, "/api/action?saveindex", wrong)[0] == 401
        # a Basic challenge for API clients; none for the web UI, which asks in its own dialog
        for extra, challenge in (({}, 'Basic realm="MaxPV"'), ({"X-Requested-With": "maxpv-ui"}, None)):
            try:
                urllib.request.urlopen(urllib.request.Request(
                    fw.base + "/api/action?saveindex", headers=extra), timeout=5)
                assert False, "not refused"
            except urllib.error.HTTPError as e:
                assert e.code == 401 and e.headers.get("WWW-Authenticate") == challenge
        assert get(fw.base, "/api/get?param=06")[1] == "10"        # nothing changed, reads open
        assert get(fw.base, "/api/set?param=06&value=50", auth)[0] == 200
        assert get(fw.base, "/api/get?param=06")[1] == "50"
        stored = (tmp_path / "admin.json").read_text()
        assert "pa:ss" not in stored                               # only a salted hash
        assert get(fw.base, "/api/set?adminpass&value=", auth)[0] == 200   # removed
        assert get(fw.base, "/api/set?param=06&value=10")[0] == 200
    finally:
        fw.stop()


@pytest.mark.parametrize("headers", [{"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"},
                                     {"Origin": "http://evil.example"}, {"Origin": "null"}])
def test_cross_site_changes_are_refused(tmp_path, headers):
    fw = launch(tmp_path)
    try:
        code, body, _ = get(fw.base, "/api/action?format", headers)
        assert code == 403 and body.startswith("Forbidden")
        code, _, _ = get(fw.base, "/api/set?ssrmode&value=stop", headers)
        assert code == 403 and ok(fw.base, "/api/get?data=14") == "9"
        assert get(fw.base, "/api/get?data=14", headers)[0] == 200     # reads are fine
        same = {"Origin": "http://127.0.0.1:%d" % fw.port, "Sec-Fetch-Site": "same-origin"}
        assert get(fw.base, "/api/set?ssrmode&value=auto", same)[0] == 200
    finally:
        fw.stop()


def test_sim_controls_move_the_router(tmp_path):
    fw = launch(tmp_path, scenario="clear_day")
    try:
        time.sleep(2)
        full = float(ok(fw.base, "/api/get?data=05"))
        assert full > 1900                                       # noon: heater at 100 %
        assert ok(fw.base, "/sim/set?load=1500")
        time.sleep(2.5)
        assert float(ok(fw.base, "/api/get?data=05")) < full - 1200
        assert ok(fw.base, "/sim/set?thermostat=open")
        time.sleep(3)
        assert ok(fw.base, "/api/get?data=29") == "1" and ok(fw.base, "/api/get?data=05") == "0.0"
        st = json.loads(get(fw.base, "/sim/state")[1])
        assert st["heater_powered"] is False and st["manual"]["load_w"] == 1500
        assert get(fw.base, "/sim/set?pv=9")[0] == 400
        assert ok(fw.base, "/sim/set?mains=off")
        time.sleep(1.5)
        assert ok(fw.base, "/api/get?ping") == "offline"
        assert ok(fw.base, "/api/get?data=20")[0] == "1"          # bit 7: mains lost
    finally:
        fw.stop()
