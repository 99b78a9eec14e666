"""One UDP request and its answer without blocking: what the time client, the Wi-Fi
watchdog and the MQTT link (a broker's name) ask the network. MicroPython's asyncio has no
datagram endpoints, so the socket is non-blocking and polled every POLL_MS, for at most
TIMEOUT_MS (network latency is wall time: the polls are asyncio sleeps)."""
import asyncio
import socket
from net import dns

POLL_MS = 20
TIMEOUT_MS = 2000


async def exchange(addr, request, accept):
    """Send `request` to addr (host, port) and wait for a datagram that `accept` turns into
    something other than None; returns it, or None on time-out."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.setblocking(False)
        s.sendto(request, socket.getaddrinfo(addr[0], addr[1])[0][-1])
        for _ in range(TIMEOUT_MS // POLL_MS):
            await asyncio.sleep_ms(POLL_MS)
            while True:
                try:
                    data = s.recv(512)
                except OSError:       # nothing (more) waiting
                    break
                got = accept(data)
                if got is not None:
                    return got
        return None
    finally:
        s.close()


def host_port(text, default):
    """"host[:port]" -> (host, port)."""
    host, _, port = text.strip().partition(":")
    return host, int(port) if port else default


def is_ip(host):
    parts = host.split(".")
    return len(parts) == 4 and all(p.isdigit() for p in parts)


async def resolve(name, server, qid=0x4D50):
    """The IPv4 address of `name` from the DNS server `server` ("a.b.c.d[:port]"), or None."""
    if is_ip(name):
        return name
    return await exchange(host_port(server, 53), dns.query(qid, name),
                          lambda data: dns.first_address(data, qid))
