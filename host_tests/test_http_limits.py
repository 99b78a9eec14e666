"""Requests that knocked the HTTP server's sockets out (part of the hardening work): a
path segment of ~1,000 characters (MicroPython's recursive regex engine overflowed in
microdot's route matcher, outside its error handling: no answer, the socket left open for
good) and a negative Content-Length (microdot read the body with readexactly(-1) and never
answered). Over real sockets against the firmware under MicroPython: each gets a quick
4xx and a closed connection, many times over, and the API still answers afterwards."""
import socket
import time

import pytest

from test_api import Firmware, get


@pytest.fixture(scope="module")
def fw(tmp_path_factory):
    fw = Firmware(tmp_path_factory.mktemp("flash"), scenario="clear_day", speed="1")
    yield fw
    fw.stop()


def exchange(fw, request, wait=3.0):
    """(status, the connection was closed by the router) for one raw request."""
    c = socket.create_connection(("127.0.0.1", fw.port), timeout=wait)
    try:
        c.sendall(request)
        data = b""
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                chunk = c.recv(4096)
            except socket.timeout:
                break
            if not chunk:
                return int(data.split()[1]) if data else None, True
            data += chunk
        return (int(data.split()[1]) if data else None), False
    finally:
        c.close()


LONG = "a" * 1000


@pytest.mark.parametrize("path", ["/" + LONG, "/api/" + LONG, "/x/" + LONG + "/y", "/" + LONG + "?ping"])
def test_a_very_long_path_segment_is_refused_and_the_socket_closed(fw, path):
    for _ in range(20):        # more than the ESP32's sockets
        status, closed = exchange(fw, b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path.encode())
        assert status in (400, 404, 414) and closed, (status, closed)
    assert get(fw.base, "/api/get?ping")[1] == "running"


@pytest.mark.parametrize("length", ["-1", "abc", "1e3", "99999999999999999999"])
def test_a_bad_content_length_is_refused_at_once(fw, length):
    t0 = time.monotonic()
    status, closed = exchange(fw, b"GET /api/get?ping HTTP/1.1\r\nHost: x\r\nContent-Length: %s\r\n\r\n"
                              % length.encode())
    assert status == 400 and closed and time.monotonic() - t0 < 2, (status, closed)
    assert get(fw.base, "/api/get?ping")[1] == "running"
