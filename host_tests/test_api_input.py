"""Input the API must refuse or normalise (each of these was accepted before): numbers out
of float range, control characters, IPs with leading zeros, -0, and HEAD requests to the
paths that change things. Over HTTP against the firmware under MicroPython."""
import json
import socket
import time
import urllib.parse

import pytest

from test_api import api, get, ok  # noqa: F401  (the running firmware fixture)


def q(obj):
    return urllib.parse.quote(json.dumps(obj) if not isinstance(obj, str) else obj)


@pytest.mark.parametrize("value,words", [
    ('{"mqtt_port": 1e999}', "mqtt_port must be a whole number"),      # was a 500
    ({"remoterelay_on": "/relay0/cmd/1\r\nX-Injected: 1"}, "control characters"),
    ({"mqtt_user": "ad\u0000min"}, "control characters"),
    ({"mqtt_ip": "010.001.1.1"}, "not an IPv4 address"),
])
def test_bad_configuration_values_are_refused(api, value, words):   # noqa: F811
    before = get(api, "/api/get?configmaxpv")[1]
    code, body, _ = get(api, "/api/set?configmaxpv&value=" + q(value))
    assert code == 400 and body.startswith("Bad request") and words in body, body
    assert get(api, "/api/get?configmaxpv")[1] == before


def test_minus_zero_is_zero(api):  # noqa: F811
    before = ok(api, "/api/get?param=15")
    try:
        ok(api, "/api/set?param=15&value=-0")
        assert ok(api, "/api/get?param=15") == "0.000"
    finally:
        ok(api, "/api/set?param=15&value=" + before)


def raw(base, request):
    host, port = base.rsplit("/", 1)[-1].split(":")
    with socket.create_connection((host, int(port)), timeout=5) as s:
        s.sendall(request)
        out = b""
        while True:
            b = s.recv(4096)
            if not b:
                return out
            out += b


def energy(api):
    return [float(x) for x in ok(api, "/api/get?alldata").split(",")[8:11]]


def test_head_changes_nothing(api):  # noqa: F811
    deadline = time.monotonic() + 10
    while sum(energy(api)) == 0:             # something counted, that resetindex would clear
        assert time.monotonic() < deadline
        time.sleep(0.3)
    for path in ("/api/set?ssrmode&value=stop", "/api/action?resetindex"):
        answer = raw(api, b"HEAD " + path.encode() + b" HTTP/1.0\r\nHost: x\r\n\r\n")
        assert answer.startswith(b"HTTP/1.0 405"), answer[:80]
    assert ok(api, "/api/get?data=14") == "9"
    assert sum(energy(api)) > 0
    assert raw(api, b"HEAD /api/get?data=01 HTTP/1.0\r\nHost: x\r\n\r\n").startswith(b"HTTP/1.0 200")
