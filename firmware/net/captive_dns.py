"""The setup access point's captive DNS responder: every name is the access point, so a
phone that joins it finds the setup page (its "sign in to network" probe lands there).

An asyncio task on a non-blocking UDP socket. MicroPython's asyncio has no datagram
endpoints, so the task polls: it answers whatever has arrived (at most BURST messages,
about 0.1 ms each on the host), then sleeps POLL_MS. A phone's lookups wait at most that
long; the router loop never waits on it. A message that is not a well-formed query gets no
answer (nothing to answer to), and nothing a sender can put in a packet raises out of it.
"""
import asyncio
import socket
from net import dns

POLL_MS = 20
BURST = 8          # messages answered per poll; the rest wait for the next one


class CaptiveDns:
    def __init__(self, ip, port=53, bind="0.0.0.0"):
        self.ip = bytes(int(x) for x in ip.split("."))
        self.port = port
        self.bind = bind
        self.answered = 0
        self.ignored = 0
        self.running = False

    def reply(self, msg):
        """The answer to one message, or None to say nothing."""
        q = dns.parse_query(msg)
        if q is None:
            self.ignored += 1
            return None
        self.answered += 1
        return dns.answer(msg, q, self.ip)

    async def run(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(socket.getaddrinfo(self.bind, self.port)[0][-1])
        s.setblocking(False)
        self.running = True
        try:
            while self.running:
                for _ in range(BURST):
                    try:
                        msg, peer = s.recvfrom(512)
                    except OSError:          # nothing waiting (EAGAIN)
                        break
                    out = self.reply(msg)
                    if out is not None:
                        try:
                            s.sendto(out, peer)
                        except OSError:      # the peer is gone, or the buffer full
                            pass
                await asyncio.sleep_ms(POLL_MS)
        finally:
            s.close()

    def stop(self):
        self.running = False
