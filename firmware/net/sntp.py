"""Network time: an asyncio SNTP client (RFC 4330) that sets the clock (net/clock.py).
Imported only when time servers are configured: the router's core does without it.

Nothing here blocks the router loop. MicroPython's `ntptime` does a blocking `getaddrinfo`
(lwIP's resolver, seconds when the DNS server is silent) and a 1 s blocking receive, so it
is not used: names are resolved by our own DNS query (net/dns.py) to the network's DNS
server, and both exchanges are non-blocking UDP (net/udp.py), each bounded to 2 s. The servers are tried in turn; a reply counts only if it answers our request
(originate timestamp), comes from a synchronised server (leap indicator, stratum 1-15) and
gives a plausible time (after VALID_EPOCH). Then the clock is re-synchronised every
PERIOD_S; after a failed round, again after a back-off that doubles from RETRY_S to
RETRY_MAX_S. Until the board has a DNS server (it has not joined the network), it looks
again every RETRY_S, so the clock is set within seconds of joining.
"""
import asyncio
import struct
from net.udp import exchange, host_port, is_ip, resolve
from net.clock import VALID_EPOCH

NTP_PORT = 123
NTP_TO_UNIX = 2208988800       # seconds from 1900-01-01 to 1970-01-01
PERIOD_S = 3600
RETRY_S = 10
RETRY_MAX_S = 600


def _request(stamp):
    # LI 0, version 4, mode 3 (client); our transmit timestamp identifies the reply
    return b"\x23" + bytes(39) + stamp


def _reply_time(data, stamp):
    """The server's transmit time (UNIX seconds, float) from a valid reply to `stamp`."""
    if len(data) < 48 or data[24:32] != stamp:
        return None
    if data[0] & 0x07 != 4 or data[0] >> 6 == 3 or not 1 <= data[1] <= 15:
        return None          # not a server reply, or an unsynchronised server
    secs, frac = struct.unpack("!II", data[40:48])
    t = secs - NTP_TO_UNIX + frac / 4294967296
    return t if t >= VALID_EPOCH else None


class Sntp:
    """Keeps `clock` (a net.clock.Clock) right. servers: "host[:port]" strings; dns_server:
    () -> the DNS server to ask for names ("a.b.c.d[:port]"), or None when there is none."""

    def __init__(self, clock, servers, dns_server=None):
        self.clock = clock
        self.board = clock.board
        self.servers = list(servers)
        self.dns_server = dns_server
        self.synced_at = None       # board seconds of the last good synchronisation
        self.server = None          # the server that gave it
        self.rounds = 0
        self.failures = 0

    async def sync_once(self):
        """One round over the servers; True when the clock was set, None when no server
        could be asked (names and no DNS server yet: the board has not joined)."""
        self.rounds += 1
        asked = False
        for entry in self.servers:
            host, port = host_port(entry, NTP_PORT)
            server = self.dns_server() if self.dns_server else None
            if not is_ip(host) and not server:
                continue
            asked = True
            try:
                addr = await resolve(host, server)
                if addr is None:
                    continue
                b = self.board
                stamp = struct.pack("!II", int(b.utc()) + NTP_TO_UNIX,
                                    (b.ticks_us() & 0xFFFFF) << 12)
                t0 = b.seconds()
                t = await exchange((addr, port), _request(stamp),
                                    lambda data: _reply_time(data, stamp))
            except (OSError, ValueError):     # no route, a bad name
                continue
            if t is not None:
                self.clock.set_utc(t + (b.seconds() - t0) / 2)
                self.synced_at = b.seconds()
                self.server = entry
                return True
        if not asked:
            return None
        self.failures += 1
        return False

    async def run(self):
        retry = RETRY_S
        while True:
            done = await self.sync_once()
            if done:
                retry = RETRY_S
                await asyncio.sleep(PERIOD_S)
            elif done is None:          # not on the network yet: look again soon
                await asyncio.sleep(RETRY_S)
            else:
                await asyncio.sleep(retry)
                retry = min(retry * 2, RETRY_MAX_S)
