"""The captive DNS responder (net/captive_dns.py) under the MicroPython interpreter, asked by
a real DNS client (dnspython) over UDP on loopback, then fuzzed; and the DNS message code
(net/dns.py) against dnspython's own messages."""
import os
import random
import socket
import subprocess
import time

import dns.exception
import dns.flags
import dns.message
import dns.opcode
import dns.query
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest

from conftest import FIRMWARE, MICROPYTHON
from net import dns as D

AP = "192.168.4.1"


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_responder(address):
    """The responder under MicroPython on a loopback port, giving `address` to every name;
    returns (port, process) once it answers."""
    port = free_udp_port()
    code = ("import asyncio\nfrom net.captive_dns import CaptiveDns\n"
            "asyncio.run(CaptiveDns(%r, %d, '127.0.0.1').run())\n" % (address, port))
    p = subprocess.Popen([MICROPYTHON, "-c", code], cwd=FIRMWARE,
                         env=dict(os.environ, MICROPYPATH=".frozen:" + FIRMWARE),
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 10
    while True:
        try:
            dns.query.udp(dns.message.make_query("probe.", "A"), "127.0.0.1", port=port,
                          timeout=0.5)
            return port, p
        except dns.exception.Timeout:
            assert time.monotonic() < deadline and p.poll() is None, p.stdout.read()


@pytest.fixture(scope="module")
def responder():
    port, p = start_responder(AP)
    yield port, p
    p.kill()
    p.wait()


def ask(port, name, rdtype="A"):
    return dns.query.udp(dns.message.make_query(name, rdtype), "127.0.0.1", port=port, timeout=2)


@pytest.mark.parametrize("name", ["connectivitycheck.gstatic.com.", "captive.apple.com.",
                                  "www.msftconnecttest.com.", "maxpv.local.", "a.b.c.d.e.example."])
def test_every_name_is_the_access_point(responder, name):
    r = ask(responder[0], name)
    assert r.rcode() == dns.rcode.NOERROR and r.flags & dns.flags.AA
    assert [(str(rr.name), [x.address for x in rr]) for rr in r.answer] == [(name, [AP])]


def test_other_types_get_no_data_not_an_error(responder):
    r = ask(responder[0], "captive.apple.com.", "AAAA")
    assert r.rcode() == dns.rcode.NOERROR and r.answer == []
    m = dns.message.make_query("x.", "A")
    m.set_opcode(dns.opcode.STATUS)
    r = dns.query.udp(m, "127.0.0.1", port=responder[0], timeout=2)
    assert r.rcode() == dns.rcode.NOTIMP


def fuzz_messages(rng, n):
    good = dns.message.make_query("connectivitycheck.gstatic.com.", "A").to_wire()
    for k in range(n):
        kind = k % 4
        if kind == 0:
            yield bytes(rng.randrange(256) for _ in range(rng.randrange(0, 600)))
        elif kind == 1:        # a valid query with a few bytes changed
            b = bytearray(good)
            for _ in range(rng.randrange(1, 6)):
                b[rng.randrange(len(b))] = rng.randrange(256)
            yield bytes(b)
        elif kind == 2:        # truncated
            yield good[:rng.randrange(len(good))]
        else:                  # long or looping names, pointers, counts that lie
            yield (good[:12] + bytes([63]) + b"a" * 63) * rng.randrange(1, 6) + b"\xc0\x0c"


def test_malformed_messages_get_no_crash(responder):
    port, p = responder
    rng = random.Random(7)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.05)
    answered = 0
    for msg in fuzz_messages(rng, 400):
        s.sendto(msg, ("127.0.0.1", port))
        try:
            data = s.recv(1024)
        except socket.timeout:
            continue
        answered += 1
        dns.message.from_wire(data)          # whatever it answers is a well-formed message
    s.close()
    assert p.poll() is None
    assert ask(port, "still.there.").answer          # and it still answers
    assert answered > 20                     # the changed-but-valid queries were answered


def test_query_and_answer_parsing_agree_with_dnspython():
    q = dns.message.from_wire(D.query(0x1234, "pool.ntp.org"))
    assert q.id == 0x1234 and q.flags & dns.flags.RD
    assert [(str(x.name), x.rdtype) for x in q.question] == [("pool.ntp.org.", dns.rdatatype.A)]
    r = dns.message.make_response(q)
    r.answer.append(dns.rrset.from_text("pool.ntp.org.", 60, "IN", "CNAME", "x.pool.ntp.org."))
    r.answer.append(dns.rrset.from_text("x.pool.ntp.org.", 60, "IN", "A", "10.1.2.3", "10.1.2.4"))
    wire = r.to_wire()                       # with name compression
    assert D.first_address(wire, 0x1234) in ("10.1.2.3", "10.1.2.4")   # an rrset is a set
    assert D.first_address(wire, 0x1235) is None            # not our query
    r.set_rcode(dns.rcode.NXDOMAIN)
    r.answer = []
    assert D.first_address(r.to_wire(), 0x1234) is None
    for cut in range(len(wire)):
        D.first_address(wire[:cut], 0x1234)                 # truncated: no exception
    with pytest.raises(ValueError):
        D.query(1, "a..b")
