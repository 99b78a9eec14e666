"""Wrong admin passwords per client address: after FREE_TRIES in a row an address waits,
1 s doubling per further wrong one up to 60 s, before its next password is even looked at.
The table is bounded, so a guesser with many addresses costs no memory. A module of its own:
a board without a password never loads it."""
import time

FREE_TRIES = 5             # a typo or two, a stale password in a script: no wait yet
MAX_WAIT_MS = 60000
FORGET_MS = 900000         # an address without a wrong password for 15 min starts afresh
ADDRESSES = 16             # the table's bound; the stalest address makes room


class Guesses:
    """Wrong passwords per client address. Times are time.ticks_ms() values."""

    def __init__(self):
        self.seen = {}         # address -> [wrong passwords in a row, ticks of the last]

    def _entry(self, addr, now):
        e = self.seen.get(addr)
        # a negative age: ticks wrapped around after days; the entry is stale either way
        if e is not None and not 0 <= time.ticks_diff(now, e[1]) < FORGET_MS:
            del self.seen[addr]
            e = None
        return e

    def wait_ms(self, addr, now):
        """How long `addr` must still wait before a password of its is checked (0: now)."""
        e = self._entry(addr, now)
        if e is None or e[0] < FREE_TRIES:
            return 0
        wait = min(MAX_WAIT_MS, 1000 << min(e[0] - FREE_TRIES, 6))
        return max(0, wait - time.ticks_diff(now, e[1]))

    def wrong(self, addr, now):
        e = self._entry(addr, now)
        if e is None:
            if len(self.seen) >= ADDRESSES:
                del self.seen[max(self.seen, key=lambda a: time.ticks_diff(now, self.seen[a][1]))]
            e = self.seen[addr] = [0, now]
        e[0] += 1
        e[1] = now
        return e[0]

    def right(self, addr):
        self.seen.pop(addr, None)
