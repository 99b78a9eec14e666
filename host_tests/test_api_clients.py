"""Clients that exist today, against the firmware under MicroPython on the simulated board:
a script that parses alldata by position on a board that has never saved anything, the
original MaxPV! admin page's configuration save (which sends keys of its own version), and
a restart on the simulated board (port and time of day kept)."""
import json
import re
import time
import urllib.parse

from test_api import FORMATS, Firmware, free_port, get, launch, ok

NUMERIC = [n for n in range(1, 27) if n not in (16, 17, 18, 21)]   # ms or N/A; D:HH:MM:SS
ENERGY = (9, 10, 11, 12, 23, 24, 25, 26)


class Starting(Firmware):
    """The firmware, asked before it has made its first once-a-second summary."""

    def wait(self, port=None, timeout=20):
        pass


def browser_url(path, query):
    """The URL a browser's XMLHttpRequest sends for `path?query` written raw, as the original
    page writes its JSON: only what the URL standard's query set says is percent-encoded."""
    safe = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in "\"#<>'")
    return path + "?" + urllib.parse.quote(query, safe=safe)


def first_answer(base, path, deadline):
    while True:
        try:
            return get(base, path)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def test_a_never_saved_board_answers_every_field_in_its_format_from_the_first_request(tmp_path):
    # A tenth of real time: the first summary is 10 s away, the first request is before it.
    fw = Starting(tmp_path, scenario="clear_day", speed="0.1")
    try:
        code, body, _ = first_answer(fw.base, "/api/get?alldata", time.monotonic() + 20)
        assert ok(fw.base, "/api/get?ping") == "offline"            # no summary yet
        extended = ok(fw.base, "/api/get?alldata&extended").split(",")
        singles = [ok(fw.base, "/api/get?data=%02d" % n) for n in range(1, 30)]
    finally:
        fw.stop()
    assert code == 200
    fields = body.split(",")
    assert len(fields) == 26 and "" not in fields
    assert fields[20] == "0:00:00:00"                               # really the first second
    for n, f in enumerate(fields, 1):
        assert re.fullmatch(FORMATS[n], f), (n, f)
    for n in NUMERIC:
        float(fields[n - 1])                  # what a script parsing by position does
    assert [fields[n - 1] for n in ENERGY] == ["0.000"] * 8
    for n, f in enumerate(extended, 1):
        assert re.fullmatch(FORMATS[n], f), (n, f)
    assert [singles[n - 1] for n in ENERGY] == ["0.000"] * 8


def original_admin_page_save(cfg, **changed):
    """The JSON the original admin page (MaxPV! 3.5x-3.6x) posts on "Enregistrer": the form
    as it filled it from configmaxpv, every value a string, flags "1"/"0", in its order."""
    keys = ("ip", "gateway", "subnet", "dns1", "dns2", "http_port", "watchdogwifi_active",
            "boost_duration", "boost_ratio", "mqtt_ip", "mqtt_port", "mqtt_period", "mqtt_user",
            "mqtt_pass", "mqtt_active", "boost_timer_hour", "boost_timer_minute",
            "boost_timer_active", "remoterelay_active", "remoterelay_ip", "remoterelay_port",
            "remoterelay_on", "remoterelay_off", "RelayPlus_min", "RelayPlus_max",
            "RelayPlus_hour", "RelayPlus_active", "max_temp", "temp_limit_active")
    doc = {k: str(cfg[k]) for k in keys}
    doc.update(changed)
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)


def test_the_original_admin_page_saves_and_the_board_stays_on_its_port(tmp_path):
    fw = launch(tmp_path, scenario="clear_day")
    port = fw.port
    page = {"Sec-Fetch-Site": "same-origin"}        # what its XMLHttpRequests carry
    try:
        cfg = json.loads(ok_json(fw.base))
        assert cfg["http_port"] == port and cfg["watchdogwifi_active"] == 0
        # What the owner changed on the page, within its own field limits (boost 0-100 %,
        # max temperature 15-90 °C).
        value = original_admin_page_save(cfg, mqtt_period="30", boost_ratio="0",
                                         max_temp="15", RelayPlus_active="1",
                                         watchdogwifi_active="1")
        code, body, _ = get(fw.base, browser_url("/api/set", "configmaxpv&value=" + value), page)
        assert code == 200 and body == "Request successfully processed", body
        # a page of another version sends a key this firmware does not know: applied without it
        newer = value[:-1] + ',"ftp_active":"0"}'
        code, body, _ = get(fw.base, browser_url("/api/set", "configmaxpv&value=" + newer), page)
        assert (code, body) == (200, "Request successfully processed; ignored: ftp_active")
        before = ok(fw.base, "/api/get?time")
        time.sleep(1.2)
        assert ok(fw.base, "/api/action?rebootesp")  # the page's next request
        time.sleep(1)
        fw.wait()                                    # on the same port
        after = ok(fw.base, "/api/get?time")
        assert after > before > "12:00:00"           # the house's clock went on
        saved = json.loads(ok_json(fw.base))
        assert saved == dict(cfg, mqtt_period=30, boost_ratio=0, max_temp=15, RelayPlus_active=1,
                             watchdogwifi_active=1)
    finally:
        fw.stop()
    # the next run on another port serves there, with what the owner saved
    fw = launch(tmp_path, scenario="clear_day", port=free_port())
    try:
        assert fw.port != port
        assert json.loads(ok_json(fw.base)) == dict(saved, http_port=fw.port)
    finally:
        fw.stop()


def ok_json(base):
    code, body, ctype = get(base, "/api/get?configmaxpv")
    assert code == 200 and ctype == "application/json"
    return body
