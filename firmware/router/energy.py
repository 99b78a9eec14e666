"""Energy indices: routed, imported, exported (Wh), produced (meter pulses), relay on-time.

Counted every window from that window's power over the real elapsed time, in integer Wh
with the sub-Wh remainder kept (EcoPV counted whole 5 Wh steps and lost the rest at each
restart). The remainders are saved with the indices. Integers only: it runs every window.
"""
from array import array
from micropython import const

# Positions in snapshot() (and in the router's state.index / state.day_ref)
ROUTED = const(0)
IMPORTED = const(1)
EXPORTED = const(2)
PRODUCED = const(3)         # production meter pulses here; Wh in the router's state
RELAY_MIN = const(4)
UNIT = const(360000000)     # remainder unit is W x 10 µs: 1 Wh = 3.6e8 of them
P_LIMIT = const(25000)      # W; beyond this a window's power is not physical (and would overflow)
CHUNK_US = const(200000)    # longer intervals (after a stall) are counted in pieces: P x dt < 2**30


class Energy:
    def __init__(self):
        self.wh = array("i", [0, 0, 0])
        self.rem = array("i", [0, 0, 0])
        self.pulses = 0          # production meter pulses counted (index)
        self.relay_s = 0         # relay on-time, seconds (index)
        self.relay_us = 0
        self.dt_rem = 0
        self.board_pulses = None  # last reading of the board's pulse counter
        self.day = None          # local day number the references belong to
        # Day-start references (same fields as snapshot()): until the first new_day(), the
        # current indices, so that "today" reads 0 rather than nothing.
        self.refs = self.snapshot()

    def account(self, grid_w, routed_w, dt_us, relay_on):
        """Add one window. Hot path."""
        while dt_us > CHUNK_US:
            self.account(grid_w, routed_w, CHUNK_US, relay_on)
            dt_us -= CHUNK_US
        dt = dt_us + self.dt_rem
        dt10 = dt // 10
        self.dt_rem = dt - dt10 * 10
        if routed_w > 0:
            self._add(ROUTED, (routed_w if routed_w < P_LIMIT else P_LIMIT) * dt10)
        if grid_w >= 0:
            self._add(IMPORTED, (grid_w if grid_w < P_LIMIT else P_LIMIT) * dt10)
        else:
            self._add(EXPORTED, (-grid_w if grid_w > -P_LIMIT else P_LIMIT) * dt10)
        if relay_on:
            u = self.relay_us + dt_us
            while u >= 1000000:
                u -= 1000000
                self.relay_s += 1
            self.relay_us = u

    def _add(self, k, x):
        r = self.rem[k] + x
        while r >= UNIT:
            r -= UNIT
            self.wh[k] += 1
        self.rem[k] = r

    def count_pulses(self, board_count):
        """Take the board's cumulative pulse counter (it restarts at 0 on each boot)."""
        if self.board_pulses is not None and board_count >= self.board_pulses:
            self.pulses += board_count - self.board_pulses
        self.board_pulses = board_count

    # --- indices, day references, persistence -------------------------------------------
    def snapshot(self):
        """(routed Wh, imported Wh, exported Wh, produced pulses, relay minutes)"""
        return (self.wh[ROUTED], self.wh[IMPORTED], self.wh[EXPORTED], self.pulses,
                self.relay_s // 60)

    def new_day(self, day):
        """Call with the local day number once the time of day is known: at each local
        midnight the day-start references are set to the current indices. The first day
        ever known is taken as it is (the references stay those of the boot: what was
        counted before the clock was set still counts for today). Returns True when the
        day changed (the indices are then saved with it)."""
        if day == self.day:
            return False
        if self.day is not None:
            self.refs = self.snapshot()
        self.day = day
        return True

    def reset(self):
        for k in range(3):
            self.wh[k] = 0
            self.rem[k] = 0
        self.pulses = 0
        self.relay_s = 0
        self.relay_us = 0
        self.refs = self.snapshot()

    def to_dict(self):
        return {"v": 1, "wh": list(self.wh), "rem": list(self.rem), "pulses": self.pulses,
                "relay_s": self.relay_s, "refs": list(self.refs), "day": self.day}

    def from_dict(self, d):
        """Load a saved record; False (and nothing changed) if it is not a whole one."""
        try:
            if d.get("v") != 1:
                return False
            wh = [int(d["wh"][k]) for k in range(3)]
            rem = [int(d["rem"][k]) for k in range(3)]
            pulses = int(d["pulses"])
            relay_s = int(d["relay_s"])
            refs = tuple(int(x) for x in d["refs"]) if d.get("refs") else None
            if refs is not None and len(refs) != 5:
                return False
            day = d.get("day")
            day = None if day is None else int(day)
        except (AttributeError, KeyError, IndexError, TypeError, ValueError):
            return False
        for k in range(3):
            self.wh[k] = wh[k]
            self.rem[k] = rem[k]
        self.pulses = pulses
        self.relay_s = relay_s
        self.refs = refs or self.snapshot()
        self.day = day
        return True
