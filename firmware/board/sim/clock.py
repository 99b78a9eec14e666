"""The simulated boards' clock. It starts so that the 30-bit tick counter wraps 3 s after
boot: every simulated run (and every test) crosses the wrap an ESP32 crosses every 18 minutes."""
from router.ticks import MASK

START_US = (1 << 30) - 3_000_000


class VirtualClock:
    """What the simulated boards share: a virtual µs clock that each `ticks_us()` call
    advances by `spin_us` (the cost of the capture's busy-wait), the ADC reads bound once
    (creating a bound method allocates, and the capture runs in the hot path), and the buffer
    for SSR pulse trains."""

    def _start_clock(self, start_us, spin_us):
        self.now = start_us
        self.boot_us = start_us
        self.spin_us = spin_us
        self.train = [0] * 64
        self._ticks = self.ticks_us
        self._read_v = self.read_v
        self._read_i = self.read_i

    def ticks_us(self):
        self.now += self.spin_us
        return self.now & MASK

    def seconds(self):
        """Seconds since boot."""
        return (self.now - self.boot_us) / 1e6
