"""The remote relay mirror (net/remote_relay.py): the firmware under MicroPython on the
simulated board, and Python's http.server on a loopback port standing for the remote device
(a Shelly, a Tasmota...), which the test makes answer 200, 500, 8 MB, never, or not
listen at all. The relay is commanded through the HTTP API, as an owner would."""
import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import run_mp
from test_api import Firmware, free_port, get, ok

ON = "/on-path?x=1"
OFF = "/off-path"
TIMEOUT_S = 5          # net/remote_relay.py's TIMEOUT_MS
RETRY_S = 5            # and its first back-off


class Peer:
    """The remote device on 127.0.0.1:port. mode: "ok" (200), "500", "long" (200, then 8 MB
    of one header line), "hang" (reads the request and never answers; notes
    when the router closes its side)."""

    def __init__(self, port=None):
        self.port = port or free_port()
        self.mode = "ok"
        self.paths = []          # (monotonic time, path) of every request, in order
        self.closed = []         # (monotonic time the request came, the router closed)
        self.busy = 0            # requests being handled now
        self.most = 0            # the most at once
        self.long = []           # for each long answer: "cut" (the router closed) or "all read"
        self.lock = threading.Lock()
        self.server = None
        self.start()

    def start(self):
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                t = time.monotonic()
                with peer.lock:
                    peer.paths.append((t, self.path))
                    peer.busy += 1
                    peer.most = max(peer.most, peer.busy)
                try:
                    self.answer(peer.mode, t)
                except OSError:
                    pass         # the router closed after the status line: as it should
                finally:
                    with peer.lock:
                        peer.busy -= 1

            def answer(self, mode, t):
                if mode == "hang":
                    self.connection.settimeout(TIMEOUT_S * 3)
                    try:
                        while self.connection.recv(64):
                            pass
                        peer.closed.append((t, time.monotonic()))
                    except OSError:
                        pass
                    return
                if mode == "long":
                    # 8 MB, more than the sockets' buffers hold: the write is cut short
                    # unless the router reads it all
                    chunk = b"a" * 65536
                    try:
                        self.wfile.write(b"HTTP/1.1 200 OK\r\nX-Long: ")
                        for _ in range(128):
                            self.wfile.write(chunk)
                        peer.long.append("all read")
                    except OSError:
                        peer.long.append("cut")
                    return
                self.send_response(500 if mode == "500" else 200)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"done")

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def since(self, t0):
        with self.lock:
            return [p for t, p in self.paths if t >= t0]

    def wait(self, path, t0, timeout=10):
        """The requests since t0 once `path` is among them."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.since(t0)
            if path in got:
                return got
            time.sleep(0.05)
        pytest.fail("the peer did not get %s within %d s: %r" % (path, timeout, self.since(t0)))


def configure(fw, **cfg):
    return get(fw.base, "/api/set?configmaxpv&value=" + urllib.parse.quote(json.dumps(cfg)))


def mirror(fw):
    status, body, ctype = get(fw.base, "/api/get?remoterelay")
    assert status == 200 and ctype.startswith("application/json"), (status, body)
    return json.loads(body)


def until(fw, cond, timeout=10, what=""):
    deadline = time.monotonic() + timeout
    while True:
        st = mirror(fw)
        if cond(st):
            return st
        if time.monotonic() > deadline:
            fw.log.seek(0)
            pytest.fail("remote relay not %s within %d s: %r\n%s"
                        % (what, timeout, st, fw.log.read().decode()[-2000:]))
        time.sleep(0.1)


def relay(fw, word):
    assert ok(fw.base, "/api/set?relaymode&value=" + word) == "Request successfully processed"


def router_relay(fw):
    return json.loads(get(fw.base, "/sim/state")[1])["relay_on"]


@pytest.fixture(scope="module")
def fw(tmp_path_factory):
    f = Firmware(tmp_path_factory.mktemp("flash"), scenario="load_steps", speed="1")
    yield f
    f.stop()


def test_the_request_and_the_status_line_under_micropython():
    got = run_mp(r"""
import json
from net.remote_relay import request, status_of
print(json.dumps([request("10.0.0.2", 8080, "/cm?cmnd=Power%20On&n=\u00e9").decode(),
                  [status_of(x) for x in (b"HTTP/1.1 200 OK\r\n", b"HTTP/1.0 204 No Content",
                   b"HTTP/1.1 500 Internal", b"HTTP/1.1 2", b"SSH-2.0-OpenSSH\r\n", b"",
                   b"HTTP/1.1 200" + b"x" * 60, b"http/1.1 200 OK", b"HTTP/1.1 20x OK")]]))
""")
    assert got[0] == ("GET /cm?cmnd=Power%20On&n=%C3%A9 HTTP/1.0\r\nHost: 10.0.0.2:8080\r\n"
                      "Connection: close\r\n\r\n")
    assert got[1] == [200, 204, 500, None, None, None, None, None, None]


@pytest.mark.parametrize("path,words", [
    ("/relay 0/on", "no spaces"), ("/relay0/on\r\nX-Injected: 1", "control characters"),
    ("/relay0\n", "control characters"), ("relay0/on", "start with '/'")])
def test_a_path_that_would_break_the_request_is_refused(fw, path, words):
    before = get(fw.base, "/api/get?configmaxpv")[1]
    for key in ("remoterelay_on", "remoterelay_off"):
        code, body, _ = configure(fw, **{key: path})
        assert code == 400 and body.startswith("Bad request") and words in body, body
    assert get(fw.base, "/api/get?configmaxpv")[1] == before


def test_the_peer_follows_the_relay_and_gets_the_newest_state_after_failures(fw):
    peer = Peer()
    try:
        relay(fw, "stop")
        assert mirror(fw)["state"] == "off"             # not loaded yet: the API's own answer
        t0 = time.monotonic()
        code, body, _ = configure(fw, remoterelay_active=1, remoterelay_ip="127.0.0.1",
                                  remoterelay_port=peer.port, remoterelay_on=ON,
                                  remoterelay_off=OFF)
        assert code == 200, body
        # at start: the current state
        assert peer.wait(OFF, t0) == [OFF]
        st = until(fw, lambda s: s["state"] == "acknowledged", what="acknowledged")
        assert st == {"state": "acknowledged", "target": "http://127.0.0.1:%d" % peer.port,
                      "relay_on": False, "last_error": None, "retry_in": None, "sent": 1,
                      "acknowledged": 1}
        # each change, once
        t0 = time.monotonic()
        relay(fw, "force")
        peer.wait(ON, t0)
        st = until(fw, lambda s: s["relay_on"] and s["state"] == "acknowledged", what="on")
        assert (st["sent"], st["acknowledged"]) == (2, 2)
        relay(fw, "stop")
        assert peer.wait(OFF, t0) == [ON, OFF]
        until(fw, lambda s: not s["relay_on"] and s["acknowledged"] == 3, what="off")
        # the settings are live: another path is sent the current state at once
        t0 = time.monotonic()
        assert configure(fw, remoterelay_off="/off2")[0] == 200
        assert peer.wait("/off2", t0) == ["/off2"]
        until(fw, lambda s: s["acknowledged"] == 4, what="acknowledged at the new path")
        # 8 MB of answer: the status line is enough, the rest is not read
        peer.mode = "long"
        t0 = time.monotonic()
        relay(fw, "force")
        peer.wait(ON, t0)
        until(fw, lambda s: s["relay_on"] and s["acknowledged"] == 5, what="acknowledged (long)")
        deadline = time.monotonic() + 5
        while not peer.long and time.monotonic() < deadline:
            time.sleep(0.05)
        assert peer.long == ["cut"]
        assert ok(fw.base, "/api/get?ping") == "running"

        # HTTP 500: not acknowledged, retried after the back-off
        peer.mode = "500"
        t0 = time.monotonic()
        relay(fw, "stop")
        peer.wait("/off2", t0)
        st = until(fw, lambda s: s["state"] == "retrying", what="retrying after a 500")
        assert st["last_error"] == "HTTP 500" and not st["relay_on"]
        assert 1 <= st["retry_in"] <= RETRY_S and st["acknowledged"] == 5
        peer.mode = "ok"
        st = until(fw, lambda s: s["state"] == "acknowledged", timeout=RETRY_S + 5,
                   what="acknowledged after the 500")
        assert peer.since(t0) == ["/off2", "/off2"]
        assert st["last_error"] is None and st["retry_in"] is None
        assert (st["sent"], st["acknowledged"]) == (7, 6)

        # a peer that takes the connection and never answers: given up after the time-out,
        # its socket closed, then retried
        peer.mode = "hang"
        t0 = time.monotonic()
        relay(fw, "force")
        peer.wait(ON, t0)
        st = until(fw, lambda s: s["state"] == "retrying", timeout=TIMEOUT_S + 5,
                   what="retrying after no answer")
        assert st["last_error"] == "timed out waiting for the answer (%d s)" % TIMEOUT_S
        assert st["relay_on"]
        deadline = time.monotonic() + 3
        while not peer.closed and time.monotonic() < deadline:
            time.sleep(0.05)
        assert peer.closed, "the router did not close the unanswered connection"
        came, closed = peer.closed[-1]
        assert TIMEOUT_S - 0.5 <= closed - came <= TIMEOUT_S + 1.5
        assert ok(fw.base, "/api/get?ping") == "running"       # the loop went on meanwhile
        peer.mode = "ok"
        until(fw, lambda s: s["state"] == "acknowledged" and s["relay_on"],
              timeout=RETRY_S + 5, what="acknowledged after the time-out")

        # the peer is gone: refused; the relay changes meanwhile; the peer comes back on its
        # port and gets the newest state only, without a reboot
        peer.stop()
        relay(fw, "stop")
        st = until(fw, lambda s: s["state"] == "retrying", what="retrying, refused")
        assert st["last_error"] == "connection refused" and not st["relay_on"]
        sent = st["sent"]
        relay(fw, "force")
        deadline = time.monotonic() + 5
        while not router_relay(fw):
            assert time.monotonic() < deadline, "the simulated relay did not switch on"
            time.sleep(0.1)
        t0 = time.monotonic()
        peer.start()
        peer.wait(ON, t0, timeout=2 * RETRY_S + 5)
        st = until(fw, lambda s: s["state"] == "acknowledged", what="acknowledged, back")
        assert st["relay_on"] and st["last_error"] is None and st["sent"] > sent
        time.sleep(1.5)
        assert peer.since(t0) == [ON]                          # the stale "off" never sent

        # switched off: idle, "off"; switched on again: the current state is sent at once
        assert configure(fw, remoterelay_active=0)[0] == 200
        until(fw, lambda s: s["state"] == "off" and s["last_error"] is None, what="off")
        t0 = time.monotonic()
        relay(fw, "stop")
        time.sleep(2)
        assert peer.since(t0) == []
        assert configure(fw, remoterelay_active=1)[0] == 200
        assert peer.wait("/off2", t0) == ["/off2"]
        until(fw, lambda s: s["state"] == "acknowledged" and not s["relay_on"], what="back on")
        assert peer.most == 1                                  # one request at a time
    finally:
        relay(fw, "auto")
        peer.stop()
