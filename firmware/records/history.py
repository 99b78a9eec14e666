"""Power history: the energy indices sampled every 30 minutes (on the clock's half-hours),
served as MaxPV!'s CSV (`/api/history?power`), kept in a ring of 193 samples (4 days) that is
saved with each sample, so that it survives reboots (the original lost it at each one).

CSV as the original: header line, then one line per pair of consecutive samples, oldest
first: `<epoch seconds>000,<import W>,<-export W>,<PV W>,<routed W>`, each the average power
over the interval, rounded; CRLF line ends.
"""
from net.clock import VALID_EPOCH      # before that the clock is not set: no sample

INTERVAL_S = 1800
SIZE = 193
HEADER = "Time,Import réseau,Export réseau,Production PV,Routage ECS"
RELAY_HEADER = "Time,Relais secondaire"


class History:
    def __init__(self, store=None):
        self.store = store
        self.samples = []      # [epoch, routed Wh, imported Wh, exported Wh, produced Wh, relay min]
        d = store.read("history", _valid) if store else None
        if d:
            self.samples = [s for s in d["samples"] if isinstance(s, list) and len(s) == 6][-SIZE:]

    def tick(self, epoch, routed_wh, imported_wh, exported_wh, produced_wh, relay_min):
        """Call (once a second is fine) with the clock and the indices: takes a sample at each
        new half-hour. Returns True when it did."""
        if epoch < VALID_EPOCH:
            return False
        slot = int(epoch) // INTERVAL_S * INTERVAL_S
        if self.samples and self.samples[-1][0] >= slot:
            return False
        self.samples.append([slot, routed_wh, imported_wh, exported_wh, produced_wh, relay_min])
        if len(self.samples) > SIZE:
            del self.samples[0]
        if self.store is not None:
            self.store.write("history", {"v": 1, "samples": self.samples})
        return True

    def _pairs(self):
        s = self.samples
        for k in range(1, len(s)):
            a, b = s[k - 1], s[k]
            hours = (b[0] - a[0]) / 3600
            if hours > 0:
                yield b[0], a, b, hours

    def power_csv(self):
        lines = [HEADER]
        for t, a, b, h in self._pairs():
            lines.append("%d000,%.0f,%.0f,%.0f,%.0f" % (
                t, (b[2] - a[2]) / h, -(b[3] - a[3]) / h, (b[4] - a[4]) / h, (b[1] - a[1]) / h))
        return "\r\n".join(lines) + "\r\n"

    def relay_csv(self):
        lines = [RELAY_HEADER]
        for t, a, b, h in self._pairs():
            lines.append("%d000,%.1f" % (t, (b[5] - a[5]) * 100 / (h * 60)))
        return "\r\n".join(lines) + "\r\n"


def _valid(d):
    return isinstance(d, dict) and d.get("v") == 1 and isinstance(d.get("samples"), list)
