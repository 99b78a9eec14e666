"""Fake `esp32` (the unix port has none): an RMT that records every call and plays its
trains on a clock, so tests can check the pulse lists and the gate waveform to the µs.

Modelled behaviour of MicroPython v1.28's esp32.RMT (ports/esp32/esp32_rmt.c) that the
board must cope with:
- creating a channel routes its pin to it through the GPIO matrix (signal 87 + channel);
- `write_pulses` on a channel whose train is still running would wait for it to end
  (counted in `RMT.blocks`; the fake then carries on as if it had waited);
- `wait_done()` with timeout 0 never waits; with a timeout it would (counted);
- `active(False)` stops the train at once if `RMT.async_stop` (ESP32-S2/S3/C3...), and on
  the classic ESP32 (the default) busy-waits until the train has ended (counted);
- the item buffer is reallocated when a train is longer than any before (`reallocs`).
Set `RMT.clock` to the test's tick function and `RMT.latency_us` to the start latency
the firmware assumes; with `RMT.record = False` nothing is logged (no allocation, for
heap_lock tests).
"""
import machine

MASK = 0x3FFFFFFF


def _diff(a, b):
    d = (a - b) & MASK
    return d - MASK - 1 if d >= 0x20000000 else d


class RMT:
    PULSE_MAX = 32767
    clock = None          # tick function; None: time.ticks_us
    latency_us = 0        # call-to-first-edge of write_pulses
    async_stop = False    # False: classic ESP32 (active(False) waits for the end)
    route_pins = True     # channel creation routes the pin (as ESP-IDF does)
    record = True
    log = []              # (event, channel, tick, details)
    blocks = 0            # calls that would have blocked on the chip
    _channels = [None] * 8

    def __init__(self, id=-1, *, pin=None, resolution_hz=10000000, clock_div=None,
                 idle_level=False, tx_carrier=None, num_symbols=64):
        ch = 0
        while ch < 8 and RMT._channels[ch] is not None:
            ch += 1
        if ch == 8:
            raise OSError("no free tx channels")
        RMT._channels[ch] = self
        self.ch = ch
        self.pin = pin.id if isinstance(pin, machine.Pin) else pin
        self.resolution_hz = resolution_hz
        self.idle_level = 1 if idle_level else 0
        self.num_symbols = num_symbols
        self.enabled = False
        self.cap_items = 0
        self.reallocs = 0
        self.writes = 0
        self.stops = 0
        self.items = []       # the channel's copy of its train (grown like the real buffer)
        self.n = 0            # durations in the current train
        self.all_low = False
        self.level0 = 0
        self.start = 0        # tick of the first edge
        self.total = 0        # sum of the durations
        self.cut = None       # tick at which the train was stopped, if it was
        if RMT.route_pins:
            machine.mem32[machine.out_sel_reg(self.pin)] = machine.RMT_SIG_OUT0 + ch
        RMT._event("new", ch, (self.pin, resolution_hz, self.idle_level))

    @staticmethod
    def channel(ch):
        return RMT._channels[ch]

    @staticmethod
    def now():
        if RMT.clock is None:
            import time
            return time.ticks_us() & MASK
        return RMT.clock()

    @staticmethod
    def _event(name, ch, details):
        if RMT.record:
            RMT.log.append((name, ch, RMT.now(), details))

    def _busy(self):
        if not self.enabled or self.n == 0 or self.cut is not None:
            return False
        dt = _diff(RMT.now(), self.start)     # < 0 while the start latency runs
        return -RMT.latency_us <= dt < self.total

    def wait_done(self, *, timeout=0):
        busy = self._busy()
        if timeout != 0 and busy:
            RMT.blocks += 1
            RMT._event("wait", self.ch, timeout)
        return not busy

    def active(self, v=None):
        if v is None:
            return self._busy()
        if v:
            raise ValueError("activate by calling write_pulses()")
        self.stops += 1
        if self._busy():
            if RMT.async_stop:
                self.cut = RMT.now()
            else:
                RMT.blocks += 1          # ESP-IDF spins until the train has ended
        self.enabled = False
        RMT._event("stop", self.ch, None)
        return False

    def write_pulses(self, duration, data=True):
        if self._busy():
            RMT.blocks += 1              # rmt_tx_wait_all_done(channel, -1)
        seq = type(data) is list or type(data) is tuple
        if seq:                          # mode 2: constant duration, one level per pulse
            if not isinstance(duration, int):
                raise TypeError("mode 3 is not modelled")
            n = len(data)
            k = 0
            while k < n:
                if data[k]:
                    raise ValueError("only all-low mode-2 trains are modelled")
                k += 1
        else:                            # mode 1: durations, levels toggling from `data`
            if not (type(duration) is list or type(duration) is tuple):
                raise TypeError("durations must be a list or tuple")
            n = len(duration)
        if n == 0:
            raise ValueError("No pulses")
        items = (n + 1) // 2
        if items > self.cap_items:       # m_realloc of the channel's item buffer
            self.cap_items = items
            self.reallocs += 1
            self.items = [0] * (2 * items)
        buf = self.items
        total = 0
        k = 0
        while k < n:
            d = duration if seq else duration[k]
            if not isinstance(d, int) or d < 1 or d > RMT.PULSE_MAX:
                raise ValueError("duration out of range")
            buf[k] = d
            total += d
            k += 1
        self.n = n
        self.all_low = seq
        self.level0 = 0 if seq else (1 if data else 0)
        self.enabled = True
        self.start = (RMT.now() + RMT.latency_us) & MASK
        self.total = total
        self.cut = None
        self.writes += 1
        if RMT.record:
            RMT._event("write", self.ch, (tuple(buf[:n]), self.level0, seq))

    def level_at(self, t):
        """Output of this channel at tick t (the idle level outside a train)."""
        if self.n == 0 or self.all_low:
            return self.idle_level
        dt = _diff(t, self.start)
        if dt < 0 or dt >= self.total:
            return self.idle_level
        if self.cut is not None and _diff(t, self.cut) >= 0:
            return self.idle_level
        level = self.level0
        acc = 0
        k = 0
        while k < self.n:
            acc += self.items[k]
            if dt < acc:
                return level
            level ^= 1
            k += 1
        return self.idle_level

    def deinit(self):
        RMT._channels[self.ch] = None
        RMT._event("deinit", self.ch, None)
