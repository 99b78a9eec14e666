"""Network time: the firmware under MicroPython takes its clock from a real NTP server
(Debian's chrony, started here on a loopback port), by name through a DNS server, and
`/api/get?time` follows it; with no server answering the time stays "not synchronised";
and the day references roll at local midnight of the clock, not of the uptime."""
import datetime
import os
import shutil
import subprocess
import time
import zoneinfo

import pytest

from conftest import run_router
from test_api import launch, ok
from test_captive_dns import free_udp_port, start_responder

PARIS = zoneinfo.ZoneInfo("Europe/Paris")


@pytest.fixture(scope="module")
def ntp(tmp_path_factory):
    """chronyd serving its (the system's) time on 127.0.0.1:port, controlling no clock."""
    chronyd = shutil.which("chronyd") or "/usr/sbin/chronyd"
    assert os.path.exists(chronyd), "chrony is not installed (make test installs it)"
    d = tmp_path_factory.mktemp("chrony")
    port = free_udp_port()
    (d / "chrony.conf").write_text(
        "port %d\nbindaddress 127.0.0.1\nallow 127.0.0.1\nlocal stratum 8\ncmdport 0\n"
        "pidfile %s\n" % (port, d / "chronyd.pid"))
    p = subprocess.Popen([chronyd, "-d", "-x", "-u", "root", "-f", str(d / "chrony.conf")],
                         stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    time.sleep(0.5)
    assert p.poll() is None, "chronyd did not start"
    yield port
    p.terminate()
    p.wait()


@pytest.fixture(scope="module")
def dns_server():
    """A DNS server on loopback that gives 127.0.0.1 for every name (our captive responder)."""
    port, p = start_responder("127.0.0.1")
    yield port
    p.kill()
    p.wait()


def paris_now():
    return datetime.datetime.now(PARIS)


def seconds_apart(hms, when):
    h, m, s = (int(x) for x in hms.split(":"))
    d = abs((h * 3600 + m * 60 + s) - (when.hour * 3600 + when.minute * 60 + when.second))
    return min(d, 86400 - d)


def test_the_clock_follows_a_real_ntp_server_found_by_name(tmp_path, ntp, dns_server):
    fw = launch(tmp_path, scenario="clear_day",
                args=("--ntp", "ntp.example:%d" % ntp, "--dns", "127.0.0.1:%d" % dns_server))
    try:
        deadline = time.monotonic() + 10
        while seconds_apart(ok(fw.base, "/api/get?time"), paris_now()) > 2:
            assert time.monotonic() < deadline, ok(fw.base, "/api/get?time")
            time.sleep(0.2)
        # and it keeps following it (the scenario's own clock said 12:00)
        time.sleep(1.5)
        assert seconds_apart(ok(fw.base, "/api/get?time"), paris_now()) <= 2
    finally:
        fw.stop()


def test_without_an_answering_server_the_time_is_not_synchronised(tmp_path):
    silent = free_udp_port()               # nothing listens there
    fw = launch(tmp_path, scenario="clear_day", args=("--ntp", "127.0.0.1:%d" % silent))
    try:
        time.sleep(2.5)
        t = ok(fw.base, "/api/get?time")
        assert t.startswith("00:00:0"), t   # the time since boot, as v3.1 before its sync
        assert ok(fw.base, "/api/get?ping") == "running"       # routing goes on regardless
    finally:
        fw.stop()


def test_day_references_roll_at_local_midnight_of_the_clock(tmp_path):
    import main
    from board.sim.board import SimBoard
    from records.store import Store
    from router.energy import IMPORTED
    # a 9 kW house at night: a few Wh imported each second
    b = SimBoard({"start": "12:00", "house": {"base_w": 9000}, "pv": {"peak_w": 0}},
                 clock_known=False)
    rt = main.make_router(b, Store(str(tmp_path)))

    run_router(b, rt, 1.5)
    assert rt.energy.day is None             # time unknown: no day yet
    # set to 23:59:57 on 2026-10-24 in Paris (CEST): the day is adopted, references kept
    b.set_utc(datetime.datetime(2026, 10, 24, 23, 59, 57, tzinfo=PARIS).timestamp())
    run_router(b, rt, 1.2)
    st = rt.state
    day = rt.energy.day
    assert day is not None and st.day_ref == (0, 0, 0, 0.0, 0) and st.index[IMPORTED] > 0
    before = st.index[IMPORTED]
    run_router(b, rt, 3)                                   # past local midnight
    assert rt.energy.day == day + 1
    assert before <= st.day_ref[IMPORTED] <= st.index[IMPORTED]    # today starts at midnight


def test_only_a_synchronised_servers_answer_to_our_request_counts():
    import struct
    from net import sntp as T
    stamp = struct.pack("!II", 3_990_000_000, 12345)
    now = 1_790_000_000

    def reply(first=0x24, stratum=2, origin=stamp, t=now):
        return (bytes([first, stratum]) + bytes(22) + origin + bytes(8)
                + struct.pack("!II", t + T.NTP_TO_UNIX, 1 << 31))

    assert T._reply_time(reply(), stamp) == now + 0.5
    assert T._reply_time(reply(origin=bytes(8)), stamp) is None      # not our request
    assert T._reply_time(reply(first=0xE4), stamp) is None           # leap 3: unsynchronised
    assert T._reply_time(reply(first=0x23), stamp) is None           # a client, not a server
    assert T._reply_time(reply(stratum=0), stamp) is None            # kiss-o'-death
    assert T._reply_time(reply(t=1_000_000_000), stamp) is None      # 2001: implausible
    assert T._reply_time(reply()[:47], stamp) is None
