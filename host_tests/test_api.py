"""MaxPV! v3.1 API conformance, over real HTTP on loopback, against the firmware running
under the MicroPython unix port on the simulated board (what `make sim` serves)."""
import os
import re
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import pytest

from conftest import FIRMWARE, MICROPYTHON, WWW

# data 1..26 in v3.1's order and formats (docs/api.md), then ours
KWH = r"-?\d+\.\d{3}"
FORMATS = {
    1: r"\d+\.\d", 2: r"\d+\.\d{3}", 3: r"-?\d+\.\d", 4: r"\d+\.\d", 5: r"\d+\.\d",
    6: r"\d+\.\d", 7: r"\d+\.\d", 8: r"(-?\d\.\d{4}|nan)", 9: KWH, 10: KWH, 11: KWH, 12: KWH,
    13: r"\d+\.\d", 14: r"[019]", 15: r"[019]", 16: r"(\d+\.\d{2}|N/A)", 17: r"(\d+\.\d{2}|N/A)",
    18: r"(\d+\.\d{2}|N/A)", 19: r"\d\.\d{3}", 20: r"[01]{8}", 21: r"\d+:\d\d:\d\d:\d\d",
    22: r"\d+", 23: KWH, 24: KWH, 25: KWH, 26: KWH, 27: r"\d+", 28: r"(-99|-?\d+\.\d)",
    29: r"[01]", 30: r"\d+",
}
PARAM = re.compile(r"^-?\d+(\.\d+)?$")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def selftest_done(flash):
    """The board's first-boot self-test done already (its report on the `flash` folder): a
    test of something else must not see it stop the SSR, switch the relay and end a boost
    10 s in (test_selftest.py tests the first boot's)."""
    from records.store import Store
    Store(str(flash)).write("selftest", {"state": "done", "checks": []})


class Firmware:
    """The firmware under MicroPython on the simulated board, serving HTTP on loopback.
    `wait` waits until its ping says `UP` ("running"; None: any answer); TESTED: its flash
    starts with the first-boot self-test done (`selftest_done`)."""

    UP = "running"
    TESTED = True

    def __init__(self, flash, scenario="load_steps", speed="1", port=None, extra=(), www=WWW,
                 args=()):
        self.port = port or free_port()
        if self.TESTED:
            selftest_done(flash)
        env = dict(os.environ, MICROPYPATH=".frozen:" + FIRMWARE)
        # Output to a file: a pipe nobody reads would block the firmware once full.
        self.log = tempfile.TemporaryFile()
        self.p = subprocess.Popen([MICROPYTHON, *extra, "main.py", "--scenario", scenario,
                                   "--speed", speed, "--port", str(self.port), "--quiet", "1",
                                   "--data", str(flash), "--www", www, *args],
                                  cwd=FIRMWARE, env=env, stdout=self.log,
                                  stderr=subprocess.STDOUT)
        self.base = "http://127.0.0.1:%d" % self.port
        self.wait()

    def wait(self, port=None, timeout=20):
        """Until the firmware answers (on `port` after a reboot that changed it)."""
        if port:
            self.port = port
            self.base = "http://127.0.0.1:%d" % port
        deadline = time.monotonic() + timeout
        while True:
            try:
                code, body, _ = get(self.base, "/api/get?ping")
                if code == 200 and self.UP in (None, body):
                    return
            except OSError:
                pass
            if time.monotonic() > deadline or self.p.poll() is not None:
                self.stop()
                self.log.seek(0)
                pytest.fail("the firmware did not serve the API:\n" + self.log.read().decode())
            time.sleep(0.2)

    def stop(self):
        self.p.kill()
        self.p.wait()


def launch(flash, **kw):
    return Firmware(flash, **kw)


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    fw = launch(tmp_path_factory.mktemp("flash"))
    yield fw.base
    fw.stop()


def get(base, path, headers=None):
    try:
        req = urllib.request.Request(base + path, headers=headers or {})
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, r.read().decode(), r.headers.get("Content-Type")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(), e.headers.get("Content-Type")


def ok(base, path):
    status, body, ctype = get(base, path)
    assert status == 200, (path, status, body)
    assert ctype.startswith("text/plain")
    return body


def state(base):
    """Everything a rejected request must leave alone."""
    return (ok(base, "/api/get?allparam"), ok(base, "/api/get?data=14"),
            ok(base, "/api/get?data=15"))


def test_every_data_index_has_its_format(api):
    for n, fmt in FORMATS.items():
        body = ok(api, "/api/get?data=%02d" % n)
        assert re.fullmatch(fmt, body), (n, body)
        assert ok(api, "/api/get?data=%d" % n) is not None      # '7' as well as '07'


def test_alldata_is_the_26_fields_of_v31(api):
    fields = ok(api, "/api/get?alldata").split(",")
    assert len(fields) == 26
    for n, f in enumerate(fields, 1):
        assert re.fullmatch(FORMATS[n], f), (n, f)
    v = float(fields[0])
    assert 220 < v < 240                                    # the sim's 230 V mains
    assert fields[13] == "9" and fields[14] == "9"          # AUTO / AUTO
    every = ok(api, "/api/get?alldata&extended").split(",")
    assert len(every) == len(FORMATS) > 26
    for n, f in enumerate(every, 1):
        assert re.fullmatch(FORMATS[n], f), (n, f)
    ui = ok(api, "/api/get?alldata&extended&states").split(",")
    assert len(ui) == len(FORMATS) + 4
    assert ui[-4] in ("ON", "OFF", "MAX") and ui[-3] in ("ON", "OFF") and ui[-2] == "running"
    assert re.fullmatch(r"\d\d:\d\d:\d\d", ui[-1])


def test_allparam_is_the_16_parameters(api):
    vals = ok(api, "/api/get?allparam").split(",")
    assert len(vals) == 16 and all(PARAM.match(v) for v in vals)
    for n in range(1, 17):
        assert ok(api, "/api/get?param=%02d" % n) == vals[n - 1]


def test_versions_states_ping_time(api):
    assert re.fullmatch(r"\d+\.\d+\.\d+", ok(api, "/api/get?version"))
    # the running firmware's version (v3.1's "ESP code version", numbers and dots)
    assert ok(api, "/api/get?versionmaxpv") == ok(api, "/api/get?version")
    assert ok(api, "/api/get?ssrstate") in ("MAX", "ON", "OFF")
    assert ok(api, "/api/get?relaystate") in ("ON", "OFF")
    assert ok(api, "/api/get?ping") == "running"
    assert re.fullmatch(r"\d\d:\d\d:\d\d", ok(api, "/api/get?time"))


def test_mode_switches_show_in_data_14_15_and_the_states(api):
    try:
        for word, code, ssr, relay in (("force", "1", "FORCE", "FORCE"), ("stop", "0", "STOP", "STOP")):
            assert ok(api, "/api/set?ssrmode&value=" + word) == "Request successfully processed"
            assert ok(api, "/api/set?relaymode&value=" + word) == "Request successfully processed"
            assert ok(api, "/api/get?data=14") == code and ok(api, "/api/get?data=15") == code
            assert ok(api, "/api/get?ssrstate") == ssr and ok(api, "/api/get?relaystate") == relay
            assert ok(api, "/api/get?alldata").split(",")[13:15] == [code, code]
        time.sleep(1.5)
        # STOP: no regulation, so no firing delays.
        assert ok(api, "/api/get?data=16") == "N/A"
    finally:
        ok(api, "/api/set?ssrmode&value=auto")
        ok(api, "/api/set?relaymode&value=auto")
    assert ok(api, "/api/get?data=14") == "9"


def test_parameter_set_with_a_comma_is_read_back(api):
    before = ok(api, "/api/get?param=01")
    try:
        assert ok(api, "/api/set?param=01&value=0,31234") == "Request successfully processed"
        assert ok(api, "/api/get?param=01") == "0.31234"
        assert ok(api, "/api/set?param=6&value=25") == "Request successfully processed"
        assert ok(api, "/api/get?param=06") == "25"
    finally:
        ok(api, "/api/set?param=01&value=" + before)
        ok(api, "/api/set?param=06&value=10")


def test_save_load_format(api):
    ok(api, "/api/set?param=06&value=40")
    ok(api, "/api/action?saveparam")
    ok(api, "/api/set?param=06&value=-50")
    assert ok(api, "/api/action?loadparam") == "Request successfully processed"
    assert ok(api, "/api/get?param=06") == "40"
    ok(api, "/api/set?param=06&value=-60")
    ok(api, "/api/action?loaddparam")                      # the PDF's spelling works too
    assert ok(api, "/api/get?param=06") == "40"
    ok(api, "/api/action?format")
    assert ok(api, "/api/get?param=06") == "10"            # defaults, live
    status, body, _ = get(api, "/api/action?loadparam")     # and nothing saved any more
    assert status == 409 and body.startswith("Bad request")
    assert ok(api, "/api/get?param=06") == "10"


def test_index_actions(api):
    ok(api, "/api/action?saveindex")
    ok(api, "/api/action?resetindex")
    assert ok(api, "/api/get?data=09") == "0.000"
    assert ok(api, "/api/get?data=23") == "0.000"           # the day reference follows
    assert ok(api, "/api/action?restart") == "Request successfully processed"
    deadline = time.monotonic() + 10
    while ok(api, "/api/get?ping") != "running":            # measurement and control restart
        assert time.monotonic() < deadline
        time.sleep(0.2)


BAD = [
    ("/api/get?data=00", 400, "Unknown request"), ("/api/get?data=31", 400, "Unknown request"),
    ("/api/get?data=abc", 400, "Unknown request"), ("/api/get?param=17", 400, "Unknown request"),
    ("/api/get?param=", 400, "Unknown request"), ("/api/get?nothing", 400, "Unknown request"),
    ("/api/get", 400, "Unknown request"),
    ("/api/set?param=06&value=2001", 400, "Bad request"), ("/api/set?param=06&value=abc", 400, "Bad request"),
    ("/api/set?param=06", 400, "Bad request"), ("/api/set?param=06&value=", 400, "Bad request"),
    ("/api/set?param=17&value=1", 400, "Bad request"), ("/api/set?param=02&value=0.5", 400, "Bad request"),
    ("/api/set?param=07&value=8.5", 400, "Bad request"), ("/api/set?ssrmode&value=AUTO", 400, "Bad request"),
    ("/api/set?ssrmode", 400, "Bad request"), ("/api/set?relaymode&value=on", 400, "Bad request"),
    ("/api/set?foo=1", 400, "Bad request"), ("/api/action?format2", 400, "Unknown request"),
    ("/api/action", 400, "Unknown request"), ("/api/nope", 404, "Not found"), ("/nope.html", 404, "Not found"),
    # over the 2 kB line cap: refused by the transport, before any handler ("Bad request")
    ("/api/get?data=01&x=" + "a" * 2500, 400, "Bad request"),
    ("/api/set?param=06&value=1_0", 400, "Bad request"),
]


@pytest.mark.parametrize("path,status,words", BAD)
def test_bad_requests_get_4xx_with_the_original_words_and_change_nothing(api, path, status, words):
    before = state(api)
    code, body, ctype = get(api, path)
    assert code == status and body.startswith(words), (code, body)
    if len(path) < 1000:
        assert len(body) > len(words) + 2                   # and it says what is wrong
    assert state(api) == before


def _raw(base, request):
    host, port = base.rsplit("/", 1)[-1].split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(request)
        chunks = []
        while True:
            try:
                b = s.recv(65536)
            except ConnectionResetError:
                chunks.append(b"<reset>")
                break
            if not b:
                break
            chunks.append(b)
    return b"".join(chunks)


@pytest.mark.parametrize("first_line", [
    b"GET /api/get?data=01 with spaces HTTP/1.1",          # a request line that cannot be split
    b"GET /api/get?data=01&x=" + b"a" * 2500 + b" HTTP/1.1",  # over the line cap
])
def test_a_request_refused_while_its_head_is_read_still_gets_its_whole_answer(api, first_line):
    # the rest of the head is still unread when the request is refused; closing on it
    # would reset the connection and could drop the 400 on its way out
    headers = b"".join(b"X-Filler-%d: %s\r\n" % (i, b"f" * 100) for i in range(60))
    for _ in range(20):
        answer = _raw(api, first_line + b"\r\nHost: x\r\n" + headers + b"\r\n")
        head, sep, body = answer.partition(b"\r\n\r\n")
        assert sep and head.startswith(b"HTTP/1.0 400"), answer[:300]
        length = int(re.search(rb"Content-Length: (\d+)", head, re.I).group(1))
        assert len(body) == length, answer[-200:]
    assert get(api, "/api/get?data=01")[0] == 200
