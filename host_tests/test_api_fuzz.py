"""Property-based fuzzing of the HTTP API over real HTTP, against ONE firmware process (the
sources under the MicroPython unix port, scenario load_steps, speed 1, as `make sim`).

Hypothesis builds query strings for /api/get, /api/set, /api/action (and /api/history, and
random paths): real keys, their percent-encoded spellings and junk keys; values that are
numbers, decimal commas, huge numbers, unicode, empty, percent-encoded junk (bad escapes,
invalid UTF-8), strings of a few kB, JSON objects for configmaxpv; repeated keys; raw or
quoted. Over 3000 requests, each answer must be 200 or 4xx with a complete, text/plain body
(JSON/CSV only where the API serves them), the process must live, and the router loop must
keep running in time: ping running, uptime (data 21) moving with the wall clock, samples
(data 22) per second within 2000..3500.

The process is test_api_load.Proc: its output goes to a file, scanned at the end (the server
prints a line for every request it cannot parse, hundreds here, which would fill and then
block an unread pipe). What the fuzzer leaves out, on purpose: adminpass (a random
password would lock every later change behind 401; test_api_services.py covers it) and
headers (Origin, Sec-Fetch-Site, Authorization). Changes are fine (modes, parameters,
indices, configuration) and are undone at the end; restart and rebootesp are allowed but rare
(one per 250 requests at most), and the configuration always keeps this process's port, so
that a reboot comes back on it.
"""
import collections
import json
import time
import urllib.parse

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from test_api import free_port, get
from test_api_load import Proc, fetch

REQUESTS = 3000                 # at least this many requests reach the firmware
EXAMPLES = 1100                 # hypothesis examples, 3 or 4 requests each
RESTART_EVERY = 250             # at most one restart/rebootesp per this many requests
CHECK_EVERY = 150               # liveness checkpoint every this many requests

GET_KEYS = ["data", "param", "alldata", "allparam", "configmaxpv", "version", "versionmaxpv",
            "versionweb", "relaystate", "ssrstate", "ping", "time"]
SET_KEYS = ["param", "value", "relaymode", "ssrmode", "configmaxpv"]
ACTION_KEYS = ["resetindex", "saveindex", "saveparam", "loadparam", "loaddparam", "format",
               "eraseconfigesp"]
RARE_ACTIONS = ["restart", "rebootesp"]
HISTORY_KEYS = ["power", "relay"]
ALL_KEYS = sorted(set(GET_KEYS + SET_KEYS + ACTION_KEYS + HISTORY_KEYS))
CONFIG_KEYS = ["ip", "gateway", "subnet", "dns1", "dns2", "dhcp", "hostname", "mqtt_active",
               "mqtt_ip", "mqtt_port", "mqtt_period", "mqtt_user", "mqtt_pass", "boost_duration",
               "boost_ratio", "boost_timer_active", "boost_timer_hour", "boost_timer_minute",
               "RelayPlus_active", "RelayPlus_min", "RelayPlus_max", "RelayPlus_hour", "max_temp",
               "temp_limit_active", "remoterelay_active", "remoterelay_ip", "remoterelay_port",
               "remoterelay_on", "remoterelay_off", "nokey"]
PCT_JUNK = ["%", "%%", "%G", "%ZZ", "%f", "%ff", "%FE", "%00", "%C3", "%E2%82", "%F0%9F%98",
            "%25", "%2", "%u00e9", "%0A", "%0D%0A", "%26", "%3D", "%3F", "%23", "%2B", "+"]

# --- values -----------------------------------------------------------------------------------
numbers = st.one_of(
    st.integers(-10**6, 10**6).map(str),
    st.integers(1, 30).map(lambda n: "%02d" % n),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.floats(-1e4, 1e4, allow_nan=False).map(lambda f: ("%.5f" % f).replace(".", ",")),
    st.integers(10**18, 10**400).map(str),
    st.sampled_from(["1e308", "-1e308", "1e-320", "nan", "inf", "-0", "0x10", "1_0", "٣", "１",
                     "+1", " 1 ", "1,2,3", "1.2.3", "00000000000000000001", "-", "."]),
)
pct_junk = st.lists(st.one_of(st.sampled_from(PCT_JUNK), st.text(max_size=3)),
                    min_size=1, max_size=8).map("".join)
long_text = st.integers(300, 4000).flatmap(
    lambda n: st.sampled_from(["9", "a", "%41", "é", ","]).map(lambda c: (c * n)[:n]))
config_json = st.dictionaries(
    st.one_of(st.sampled_from(CONFIG_KEYS), st.just("http_port")),
    st.one_of(st.integers(-5, 70000), st.text(max_size=20), st.booleans(), st.none(),
              st.sampled_from(["1.2.3.4", "300.1.1.1", "/path", "a-b", "********"])),
    max_size=4,
).map(lambda d: json.dumps({k: (v if k != "http_port" else 0) for k, v in d.items()}))
values = st.one_of(
    numbers, numbers, st.just(""), st.text(max_size=30), pct_junk, long_text, config_json,
    st.sampled_from(["stop", "force", "auto", "AUTO", " auto ", "on", "off"]),
)

# --- keys --------------------------------------------------------------------------------------
junk_keys = st.one_of(st.text(max_size=12), pct_junk, st.sampled_from(["", "=", "&", "?", "#"]))


def pct_all(s):
    """Every byte percent-encoded: the same key, spelt differently."""
    return "".join("%%%02X" % b for b in s.encode())


def keys_for(pool):
    real = st.sampled_from(pool)
    return st.one_of(real, real, real, real.map(pct_all), junk_keys, st.sampled_from(ALL_KEYS))


def encode(s, how):
    if how == "quote":
        return urllib.parse.quote(s, safe="")
    if how == "plus":
        return urllib.parse.quote_plus(s, safe="%")
    # raw: sent as is (percent signs, unicode as UTF-8, '&', '=', '?', '#' included), except the
    # request line's framing (CR, LF); spaces and tabs do get through and split the line
    return s.replace("\r", "").replace("\n", "")


@st.composite
def queries(draw, pool):
    keys = keys_for(pool)
    pairs = draw(st.lists(st.tuples(keys, st.one_of(st.none(), values)), max_size=6))
    if pairs and draw(st.booleans()):                       # a repeated key
        pairs.insert(draw(st.integers(0, len(pairs))), (pairs[0][0], draw(values)))
    how = draw(st.sampled_from(["quote", "quote", "plus", "raw"]))
    parts = []
    for k, v in pairs:
        k = encode(k, how)
        parts.append(k if v is None else k + "=" + encode(v, how))
    return "&".join(parts)


@st.composite
def action_queries(draw):
    # restart / rebootesp: about one action request in 25 asks for one (and the cap applies)
    q = draw(queries(ACTION_KEYS))
    if draw(st.integers(0, 24)) == 0:
        q = draw(st.sampled_from(RARE_ACTIONS)) + ("&" + q if q else "")
    return q


segments = st.one_of(st.sampled_from(["api", "get", "set", "action", "history", "sim", "state",
                                      "..", ".", "", "API", "GET", "%2e%2e", "index.html",
                                      "api;", "%2Fapi", "~", "*"]), st.text(max_size=8),
                     pct_junk)


@st.composite
def random_paths(draw):
    path = "/" + "/".join(draw(st.lists(segments, max_size=5)))
    path = encode(path, draw(st.sampled_from(["raw", "raw", "quote"]))) if path != "/" else path
    if not path.startswith("/"):
        path = "/" + path
    if draw(st.booleans()):
        path += "?" + draw(queries(ALL_KEYS))
    return path


# raw bytes after the '?': invalid UTF-8, control characters (not CR/LF: the request line's end)
raw_bytes = st.binary(max_size=40).map(
    lambda b: b"/api/get?data=" + b.replace(b"\r", b"").replace(b"\n", b""))

# well-formed requests with plausible values, so that changes do happen
Q = urllib.parse.quote
plausible = st.one_of(
    st.integers(0, 31).map(lambda n: "/api/get?data=%02d" % n),
    st.integers(0, 18).map(lambda n: "/api/get?param=%d" % n),
    st.sampled_from(GET_KEYS).map(lambda k: "/api/get?" + k),
    st.tuples(st.integers(1, 16), st.one_of(numbers, st.floats(-100, 3000).map("{:.3f}".format),
                                             st.integers(-100, 3000).map(str)))
      .map(lambda t: "/api/set?param=%02d&value=%s" % (t[0], Q(t[1]))),
    st.tuples(st.sampled_from(["ssrmode", "relaymode"]), st.sampled_from(["stop", "force", "auto"]))
      .map(lambda t: "/api/set?%s&value=%s" % t),
    config_json.map(lambda j: "/api/set?configmaxpv&value=" + Q(j)),
    st.sampled_from(ACTION_KEYS).map(lambda k: "/api/action?" + k),
    st.sampled_from(HISTORY_KEYS).map(lambda k: "/api/history?" + k),
)

requests = st.one_of(
    plausible, plausible, plausible,
    raw_bytes,
    queries(GET_KEYS).map(lambda q: "/api/get?" + q),
    queries(GET_KEYS).map(lambda q: "/api/get?" + q),
    queries(SET_KEYS).map(lambda q: "/api/set?" + q),
    queries(SET_KEYS).map(lambda q: "/api/set?" + q),
    action_queries().map(lambda q: "/api/action?" + q),
    queries(HISTORY_KEYS).map(lambda q: "/api/history?" + q),
    random_paths(),
)


# --- the firmware ---------------------------------------------------------------------------------
class Fuzzed:
    """The firmware process and what the fuzzer has done to it."""

    def __init__(self, proc):
        self.proc = proc
        self.sent = 0
        self.skipped = 0
        self.statuses = {}
        self.last_restart = -RESTART_EVERY
        self.restarts = 0
        self.restarted_at = 0.0    # wall time of the last restart/rebootesp
        self.checks = 0
        self.not_utf8 = []         # answers whose body is not valid UTF-8
        self.recent = collections.deque(maxlen=25)   # (wall, request, status): for the reports
        self.mark = None           # (wall, uptime s) at the last checkpoint
        self.t0 = time.monotonic()

    @property
    def base(self):
        return self.proc.base

    def pin_port(self):
        # the configuration saved with this process's port: whatever the fuzzer saves next,
        # a reboot comes back here (on the sim, no saved configuration = the command line's)
        st, body, _ = get(self.base, "/api/set?configmaxpv&value=" +
                          urllib.parse.quote(json.dumps({"http_port": self.proc.port})))
        assert st == 200, body

    def uptime(self):
        st, body, _ = get(self.base, "/api/get?data=21")
        assert st == 200, body
        d, h, m, s = (int(x) for x in body.split(":"))
        return ((d * 24 + h) * 60 + m) * 60 + s

    def samples(self):
        st, body, _ = get(self.base, "/api/get?data=22")
        assert st == 200, body
        return int(body)

    def check(self, why):
        """The process lives, ping is running, uptime follows the wall clock, data 22 is
        2000..3500 samples per second."""
        why += "; the last requests:\n" + "\n".join("  %.2f %d %r" % (t - self.t0, st, r[:120])
                                                     for t, r, st in self.recent)
        p = self.proc
        assert p.alive(), "the firmware died (%s):\n%s" % (why, p.output()[-3000:])
        assert p.wait_running(timeout=15), "ping not running (%s):\n%s" % (why, p.output()[-3000:])
        now, up = time.monotonic(), self.uptime()
        if self.mark is not None:          # (not just after a restart)
            wall = now - self.mark[0]
            assert up - self.mark[1] >= 0.9 * wall - 1.5, \
                "uptime %d s -> %d s in %.1f s of wall time (%s)" % (self.mark[1], up, wall, why)
            # data 22 is the last once-a-second summary: after a restart, the first one counts
            # only the windows since the restart over the whole second (Measure.restart drops
            # the windows not yet reported): give it two summaries
            if now - self.restarted_at > 2.5:
                n = self.samples()
                assert 2000 <= n <= 3500, "data 22: %d samples/s (%s)" % (n, why)
        self.mark = (now, up)
        self.checks += 1

    def after_restart(self, path):
        p = self.proc
        self.restarts += 1
        self.restarted_at = time.monotonic()
        time.sleep(0.3)                    # rebootesp: the server closes, then comes back
        assert p.wait_running(timeout=15), "no comeback after %r:\n%s" % (path, p.output()[-3000:])
        self.mark = None                   # uptime restarts with rebootesp
        self.pin_port()


def _decoded_keys(target):
    if isinstance(target, bytes):
        return set()
    query = target.split("?", 1)[1] if "?" in target else ""
    out = set()
    for pair in query.split("&"):
        k = pair.split("=", 1)[0]
        try:
            out.add(urllib.parse.unquote_plus(k, errors="strict"))
        except UnicodeDecodeError:
            pass
    return out


# content types a 200 may have (configmaxpv is JSON, the history CSV); any 4xx is text/plain
ALLOWED_TYPES = {"/api/get": ("text/plain", "application/json"),
                 "/api/history": ("text/plain", "text/csv"), "/sim/state": ("application/json",)}


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory):
    d = tmp_path_factory.mktemp("fuzz")
    (d / "flash").mkdir()
    proc = Proc(d / "flash", d / "firmware.log", port=free_port())
    try:
        assert proc.wait_running(), "the firmware did not start:\n" + proc.output()
        f = Fuzzed(proc)
        f.pin_port()
        f.check("start")
        yield f
    finally:
        proc.stop()


def send(f, target):
    """One fuzz request; the property checks on its answer."""
    shown = target.decode("latin-1") if isinstance(target, bytes) else target
    path = shown.split("?", 1)[0]
    restarting = path == "/api/action" and _decoded_keys(target) & set(RARE_ACTIONS)
    if restarting and f.sent - f.last_restart < RESTART_EVERY:
        f.skipped += 1
        return
    try:
        status, hdrs, body = fetch(f.proc.port, target, timeout=10)
    except OSError as e:
        pytest.fail("no proper answer to %r: %r (alive: %s)\n%s"
                    % (shown[:300], e, f.proc.alive(), f.proc.output()[-3000:]))
    f.sent += 1
    f.statuses[status] = f.statuses.get(status, 0) + 1
    f.recent.append((time.monotonic(), shown, status))
    what = "%r -> %d %r" % (shown[:300], status, body[:200])
    assert status == 200 or 400 <= status < 500, what
    ctype = hdrs.get("content-type", "")
    allowed = ALLOWED_TYPES.get(path, ("text/plain",)) if status == 200 else ("text/plain",)
    assert ctype.startswith(allowed), what + " " + ctype
    assert body, what
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        # Not a failure of the properties above, but worth knowing: reported at the end.
        # (Known: a configmaxpv value carrying a lone surrogate escape, e.g. "\udea3", is
        # echoed in the 400 message, or stored and served back, as bytes that are not UTF-8.)
        f.not_utf8.append(what)
    if restarting and status == 200:
        f.last_restart = f.sent
        f.after_restart(shown)
    if f.sent % CHECK_EVERY == 0:
        f.check("after %d requests, last %r" % (f.sent, shown[:100]))


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          phases=(Phase.explicit, Phase.generate), print_blob=False,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.large_base_example])
@given(batch=st.lists(requests, min_size=3, max_size=4))
@example(batch=["/api/get?data=%ZZ", "/api/get?%ff%fe=1", b"/api/get?data=\xff\xfe",
                b"/api/get?\xc3(", "/api/get?" + "a" * 2100, "/api/get?data=1&data=2",
                "/api/get?data= 01"])
@example(batch=["/api/set?param=01&value=" + "9" * 400, "/api/set?param=01&value=1e308",
                "/api/set?configmaxpv&value=" + "[" * 300,
                "/api/set?configmaxpv&value=" + '{"a":' * 200,
                "/api/set?ssrmode&value=force&ssrmode&value=stop", "/api/action?format&format"])
@example(batch=["/%2e%2e/etc/passwd", "//", "/api/get/", "/api/get?data=%",
                "/api/history?power&relay"])
def test_fuzzed_queries_get_200_or_4xx_and_the_router_keeps_running(fuzzed, batch):
    for target in batch:
        send(fuzzed, target)


def test_the_fuzzing_reached_the_firmware_and_left_it_running(fuzzed):
    f = fuzzed
    print("fuzz: %d requests sent (%d restart requests skipped), %d restarts, statuses %r, "
          "%d checkpoints, %.1f s; %d bodies not UTF-8%s"
          % (f.sent, f.skipped, f.restarts, f.statuses, f.checks, time.monotonic() - f.t0,
             len(f.not_utf8), "".join("\n  " + w for w in f.not_utf8[:5])))
    assert f.sent >= REQUESTS, (f.sent, f.skipped)
    assert f.statuses.get(200, 0) > 300 and sum(v for k, v in f.statuses.items() if k >= 400) > 300
    # back to the defaults: parameters, modes, configuration (the process's port kept)
    for path in ("/api/action?format", "/api/set?ssrmode&value=auto",
                 "/api/set?relaymode&value=auto", "/api/action?eraseconfigesp"):
        st, body, _ = get(f.base, path)
        assert st == 200, (path, body)
    f.check("end")
    # the router loop, measured over a few seconds after all that
    t0, up0 = time.monotonic(), f.uptime()
    time.sleep(3.2)
    t1, up1 = time.monotonic(), f.uptime()
    assert up1 - up0 >= (t1 - t0) - 1.5, (up0, up1, t1 - t0)
    samples = f.samples()
    assert 2000 <= samples <= 3500, samples
    st, body, _ = get(f.base, "/api/get?ping")
    assert body == "running"
    assert get(f.base, "/api/get?data=14")[1] == "9" and get(f.base, "/api/get?data=15")[1] == "9"
    # a request that cannot be parsed (bad escape, invalid UTF-8, line too long, malformed
    # request line) is one line of the log; a handler's failure would be a 500 (above)
    out = f.proc.output()
    print("the firmware refused %d requests it could not parse (%d bytes of log)"
          % (out.count("http: "), len(out)))
    assert "Traceback" not in out
    assert "MemoryError" not in out
