"""The clock every reader of the time of day uses: the board's UNIX time and the zone's
rules (net/localtime.py).

Until the clock is known (set by the time service, net/sntp.py, or still right in the RTC
after a soft reboot), the time is "not synchronised": `local()` is None, so history waits,
the day references do not roll and nothing scheduled runs; `text()` then shows the
time since boot, as v3.1 did.
"""
from net import localtime

VALID_EPOCH = 1680343200       # 2023-04-01: a clock before that was never set


class Clock:
    """board: `utc()` (UNIX seconds, or a small number while never set), `set_utc(t)`,
    `seconds()` (since boot)."""

    def __init__(self, board, zone="Europe/Paris"):
        self.board = board
        self.zone = zone

    def utc(self):
        return self.board.utc()

    def set_utc(self, t):
        self.board.set_utc(t)

    def known(self):
        """The time of day is right: synchronised, or kept by the RTC through a reboot."""
        return self.board.utc() >= VALID_EPOCH

    def local(self):
        """Local time as seconds since 1970-01-01 00:00 local, None while the time is unknown."""
        t = self.board.utc()
        return localtime.local(self.zone, int(t)) if t >= VALID_EPOCH else None

    def text(self):
        """HH:MM:SS local; the time since boot while the time is unknown (as v3.1)."""
        t = self.board.utc()
        if t >= VALID_EPOCH:
            return localtime.hms(self.zone, int(t))
        s = int(self.board.seconds())
        return "%02d:%02d:%02d" % (s // 3600 % 24, s // 60 % 60, s % 60)
