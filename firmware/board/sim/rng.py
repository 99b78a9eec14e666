"""Deterministic noise for the simulated board: the same sequence under MicroPython and
CPython (their `random` modules differ), cheap enough to call per ADC sample."""
import math


class Rng:
    def __init__(self, seed=1):
        self.s = (seed * 2654435761 + 1) & 0xFFFFFFFF or 1
        # Gaussian table (Box-Muller once at start): per-sample noise is then one lookup.
        g = []
        for _ in range(512):
            u1 = (self.u32() + 1) / 4294967297
            u2 = self.u32() / 4294967296
            r = math.sqrt(-2 * math.log(u1))
            g.append(r * math.cos(2 * math.pi * u2))
            g.append(r * math.sin(2 * math.pi * u2))
        self.gauss_table = g

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
