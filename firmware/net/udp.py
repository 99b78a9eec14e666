"""One UDP request and its answer without blocking: what the time client and the Wi-Fi
watchdog ask the network. MicroPython's asyncio has no datagram endpoints, so the socket is
non-blocking and polled every POLL_MS, for at most TIMEOUT_MS (network latency is wall
time: the polls are asyncio sleeps)."""
import asyncio
import socket

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
