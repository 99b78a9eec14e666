"""Who may change the router (api/guard.py; part 3 of issue #12), over real sockets against
the firmware under MicroPython: a page of another site cannot change anything, even with no
password set and through DNS rebinding (its own name as Host) or a link (its Referer); a
burst of wrong passwords is slowed per client address without holding connections; and the
clients that already write (curl, MaxPV!'s, Home Assistant's REST: no Origin, no Referer, the
router's address as Host) still do."""
import base64
import http.client
import json
import time
import urllib.parse

import pytest

from conftest import run_mp
from test_api import Firmware

PW = "s0leil"


def call(fw, path, headers=None, source="127.0.0.1"):
    """(status, body, headers) of a GET from the address `source` (any of 127.0.0.0/8 reaches
    the firmware's loopback), with the router's address as Host unless `headers` names one."""
    c = http.client.HTTPConnection("127.0.0.1", fw.port, timeout=5,
                                   source_address=(source, 0))
    try:
        c.request("GET", path, headers=headers or {})
        r = c.getresponse()
        return r.status, r.read().decode(), r.headers
    finally:
        c.close()


def raw(fw, request):
    c = http.client.HTTPConnection("127.0.0.1", fw.port, timeout=5)
    try:
        c.connect()
        c.sock.sendall(request)
        data = b""
        while True:
            chunk = c.sock.recv(4096)
            if not chunk:
                return data
            data += chunk
    finally:
        c.close()


def auth(pw, user="admin"):
    return {"Authorization": "Basic " + base64.b64encode(("%s:%s" % (user, pw)).encode()).decode()}


def ssr(fw):
    return call(fw, "/api/get?data=14")[1]


@pytest.fixture(scope="module")
def open_fw(tmp_path_factory):
    """A board in its factory state: no admin password."""
    fw = Firmware(tmp_path_factory.mktemp("flash"), scenario="clear_day")
    yield fw
    fw.stop()


@pytest.fixture
def locked_fw(tmp_path):
    """A board with an admin password."""
    fw = Firmware(tmp_path, scenario="clear_day")
    assert call(fw, "/api/set?adminpass&value=" + PW)[0] == 200
    yield fw
    fw.stop()


# --- DNS rebinding: the Host a browser sends is the page's own name ---------------------------
@pytest.mark.parametrize("host", ["evil.example", "evil.example:%d", "maxpv.evil.example",
                                  "127.0.0.1.evil.example", "localhost.evil.example:%d"])
def test_a_page_of_another_site_cannot_set_the_password_through_dns_rebinding(open_fw, host):
    fw = open_fw
    host = host % fw.port if "%d" in host else host
    code, body, _ = call(fw, "/api/set?adminpass&value=pwned", {"Host": host})
    assert code == 403 and body.startswith("Forbidden") and "http_names" in body, (code, body)
    code, body, _ = call(fw, "/api/action?format", {"Host": host})
    assert code == 403
    # no password was set: a write from the owner needs none
    assert call(fw, "/api/set?ssrmode&value=auto")[0] == 200
    assert call(fw, "/api/get?data=14", {"Host": host})[0] == 200      # reads stay open


def test_a_foreign_referer_is_refused(open_fw):
    fw = open_fw
    assert call(fw, "/api/set?ssrmode&value=auto")[0] == 200
    for ref in ("http://evil.example/router.html", "http://127.0.0.1:1/", "https://127.0.0.1.evil/"):
        code, body, _ = call(fw, "/api/set?ssrmode&value=stop", {"Referer": ref})
        assert code == 403 and body.startswith("Forbidden"), (ref, code, body)
    assert ssr(fw) == "9"                                               # still auto
    mine = "http://127.0.0.1:%d/#params" % fw.port
    assert call(fw, "/api/set?ssrmode&value=auto", {"Referer": mine})[0] == 200


@pytest.mark.parametrize("headers", [{}, {"Host": "127.0.0.1"}, {"Host": "localhost:%d"},
                                     {"Host": "LocalHost"}, {"Host": "127.0.0.1:%d"},
                                     {"Origin": "http://127.0.0.1:%d", "Sec-Fetch-Site": "same-origin",
                                      "Referer": "http://127.0.0.1:%d/"}])
def test_existing_clients_without_origin_or_referer_still_write(open_fw, headers):
    fw = open_fw
    headers = {k: v % fw.port if "%d" in v else v for k, v in headers.items()}
    code, body, _ = call(fw, "/api/set?ssrmode&value=auto", headers)
    assert code == 200, (headers, code, body)


def test_an_http_1_0_client_without_host_still_writes(open_fw):
    answer = raw(open_fw, b"GET /api/set?ssrmode&value=auto HTTP/1.0\r\n\r\n")
    assert answer.startswith(b"HTTP/1.0 200"), answer[:200]


def test_the_owners_own_names_are_accepted_once_configured(open_fw):
    fw = open_fw
    proxied = {"Host": "router.example.org:8443"}
    assert call(fw, "/api/set?ssrmode&value=auto", proxied)[0] == 403
    names = urllib.parse.quote(json.dumps({"http_names": "Router.Example.org, proxy.lan"}))
    code, body, _ = call(fw, "/api/set?configmaxpv&value=" + names)
    assert code == 200, body
    try:
        assert json.loads(call(fw, "/api/get?configmaxpv")[1])["http_names"] == \
            "Router.Example.org, proxy.lan"
        assert call(fw, "/api/set?ssrmode&value=auto", proxied)[0] == 200
        # a reverse proxy that rewrote Host to the router's address, the page on its name
        via_proxy = {"Origin": "https://proxy.lan", "Referer": "https://proxy.lan/"}
        assert call(fw, "/api/set?ssrmode&value=auto", via_proxy)[0] == 200
        assert call(fw, "/api/set?ssrmode&value=auto", {"Host": "other.example"})[0] == 403
        bad = urllib.parse.quote(json.dumps({"http_names": "a b,c"}))
        code, body, _ = call(fw, "/api/set?configmaxpv&value=" + bad)
        assert code == 400 and "http_names" in body, body
    finally:
        empty = urllib.parse.quote(json.dumps({"http_names": ""}))
        assert call(fw, "/api/set?configmaxpv&value=" + empty)[0] == 200


# --- password guessing: answered at once, slowed per address ----------------------------------
def burst(fw, n, pw="wrong", source="127.0.0.1"):
    """The statuses of n quick attempts, and the longest answer time."""
    codes, slowest = [], 0.0
    for _ in range(n):
        t0 = time.monotonic()
        code, _, hdrs = call(fw, "/api/action?saveindex", auth(pw), source)
        slowest = max(slowest, time.monotonic() - t0)
        if code == 429:
            assert 1 <= int(hdrs["Retry-After"]) <= 60
        codes.append(code)
    return codes, slowest


def test_a_burst_of_wrong_passwords_is_slowed_and_answered_at_once(locked_fw):
    fw = locked_fw
    t0 = time.monotonic()
    codes, slowest = burst(fw, 60)
    assert codes[:5] == [401] * 5, codes
    # the first five are checked; after them, one guess a second at best, then fewer
    assert codes.count(401) <= 5 + int(time.monotonic() - t0) and codes.count(429) >= 50, codes
    assert slowest < 1.0                            # refused at once, not held open


def test_the_right_password_works_after_the_delay_and_clears_the_count(locked_fw):
    fw = locked_fw
    burst(fw, 5)
    code, body, hdrs = call(fw, "/api/action?saveindex", auth(PW))
    # during the delay no password is even looked at: a guess cannot tell it was right
    assert code == 429 and body.startswith("Too many requests"), (code, body)
    time.sleep(int(hdrs["Retry-After"]) + 0.1)
    assert call(fw, "/api/action?saveindex", auth(PW))[0] == 200
    assert burst(fw, 5)[0] == [401] * 5             # the count started again from zero


def test_the_delay_doubles_with_each_further_wrong_password(locked_fw):
    fw = locked_fw
    burst(fw, 5)
    waits = []
    for _ in range(2):
        code, _, hdrs = call(fw, "/api/action?saveindex", auth("wrong"))
        assert code == 429
        waits.append(int(hdrs["Retry-After"]))
        time.sleep(waits[-1] + 0.1)
        assert call(fw, "/api/action?saveindex", auth("wrong"))[0] == 401
    code, _, hdrs = call(fw, "/api/action?saveindex", auth("wrong"))
    waits.append(int(hdrs["Retry-After"]))
    assert code == 429 and waits == [1, 2, 4], waits


def test_a_guesser_does_not_lock_the_owner_out_from_another_address(locked_fw):
    fw = locked_fw
    assert burst(fw, 10)[0][-1] == 429
    assert call(fw, "/api/action?saveindex", auth(PW), source="127.0.0.2")[0] == 200
    assert call(fw, "/api/action?saveindex", auth("wrong"), source="127.0.0.2")[0] == 401


def test_requests_without_any_password_are_not_counted_as_guesses(locked_fw):
    fw = locked_fw
    for _ in range(10):                  # the web UI's first try, before it asks the owner
        assert call(fw, "/api/action?saveindex", {"X-Requested-With": "maxpv-ui"})[0] == 401
    assert call(fw, "/api/action?saveindex", auth(PW))[0] == 200


def test_guesses_are_kept_for_at_most_16_addresses_and_compared_in_constant_time():
    out = run_mp("""
import json, time
from records.admin import _same
from records.guesses import Guesses, ADDRESSES, FREE_TRIES, FORGET_MS
g = Guesses()
t = time.ticks_ms()
for n in range(100):                       # 100 addresses, 5 wrong passwords each
    for k in range(FREE_TRIES):
        g.wrong("10.0.%d.%d" % (n // 256, n % 256), time.ticks_add(t, n))
newest = "10.0.0.99"
print(json.dumps({
    "size": len(g.seen), "bound": ADDRESSES,
    "newest_waits": g.wait_ms(newest, time.ticks_add(t, 100)),
    "evicted": "10.0.0.0" in g.seen,
    "forgotten": g.wait_ms(newest, time.ticks_add(t, 100 + FORGET_MS)),
    "same": [_same("ab" * 32, "ab" * 32), _same("ab" * 32, "ab" * 31 + "ac"), _same("a", "ab")],
}))
""")
    assert out["size"] <= out["bound"] == 16
    assert not out["evicted"] and 0 < out["newest_waits"] <= 1000
    assert out["forgotten"] == 0
    assert out["same"] == [True, False, False]
