"""Deterministic noise for the simulated board: the same sequence under MicroPython and
CPython (their `random` modules differ), cheap enough to call per ADC sample."""
import math
from array import array


_TABLES = {}     # seed -> Gaussian table, shared by the generators of that seed


class Rng:
    def __init__(self, seed=1):
        self.s = (seed * 2654435761 + 1) & 0xFFFFFFFF or 1
        # Gaussian table (Box-Muller once, at start): per-sample noise is then one lookup.
        # Built in place in one block (a list of 1024 boxed floats would take ~40 kB).
        t = _TABLES.get(seed)
        if t is None:
            t = array("f", bytes(4 * 1024))
            for k in range(0, 1024, 2):
                u1 = (self.u32() + 1) / 4294967297
                u2 = self.u32() / 4294967296
                r = math.sqrt(-2 * math.log(u1))
                t[k] = r * math.cos(2 * math.pi * u2)
                t[k + 1] = r * math.sin(2 * math.pi * u2)
            _TABLES[seed] = t
        else:
            for _ in range(1024):      # same state as if the table had been drawn
                self.u32()
        self.gauss_table = t

    def u32(self):
        x = self.s
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        self.s = x
        return x

    def uniform(self, lo=0.0, hi=1.0):
        return lo + (hi - lo) * (self.u32() / 4294967296)

    def gauss(self):
        return self.gauss_table[self.u32() & 1023]
