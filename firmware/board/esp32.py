"""The ESP32 board: ADC1 capture, RMT gate trains, relay, S0 counter, DS18B20, watchdog.

Same interface as the simulated board (board/sim/board.py). Pins and front-end constants
come from board/config.py; the wiring is docs/hardware.md.

Why it is built this way
------------------------
Soft IRQs only. On the esp32 port every Pin and Timer callback is *scheduled* (no hard
IRQs; latency from tens of µs to milliseconds; dropped when the 8-deep queue is full), so
no timing here rests on a callback. Sampling is the busy-waiting viper loop of
board/capture.py, paced by `time.ticks_us`; the gate is timed by the RMT peripheral; S0
pulses are counted by the PCNT hardware (`machine.Counter`). The one callback is the Pin
IRQ fallback for S0 on firmware without `machine.Counter`, and it only increments an int.
The hot path (capture, fire) allocates nothing: bound methods are cached once, the pulse
lists are preallocated, and each RMT item buffer is grown once at start-up.

RMT fail-safe. Only the RMT drives the SSR gate. Every train ends low, idle level is low,
trains are short (a few half-cycles: within one 64-symbol channel memory, so they play
without refill interrupts, and far below the 300 ms beyond which stopping one panics the
ESP32 with ESP-IDF < 5.5.2), so when the software stops refreshing them the heater goes
off by itself. A stalled loop also stops feeding the machine.WDT, which reboots the
board; a soft reset releases the RMT channels, whose teardown disables the pin's output,
and during a hard reset the gate's pull-down (docs/hardware.md) holds the SSR off.

The watchdog is started by `wdt_start(ms)`, never at construction: with a long timeout
when a start begins (safemode.START_WDT_MS: a start that hangs is reset and counted), with
WDT_TIMEOUT_MS once the start is healthy (main.py). On the esp32 port of v1.27/v1.28 (ports/esp32/machine_wdt.c) machine.WDT is
the ESP-IDF task watchdog with a user added once and never removed: there is no deinit, and
a soft reset (Ctrl-D, mpremote's raw REPL) leaves it running with nobody feeding it. What a
later `machine.WDT(timeout=T)` does there is reconfigure it (esp_task_wdt_reconfigure: stop,
new timeout, restart, which also feeds it): `wdt_stretch(ms)` uses that to give the console
time (Ctrl-C, a deploy), since stopping it is impossible.

Never block the loop. What esp32.RMT offers in MicroPython v1.27/v1.28
(ports/esp32/esp32_rmt.c, docs/library/esp32.rst):
- `write_pulses(durations, 0)` first waits, holding the GIL, for the channel's previous
  train to end (`rmt_tx_wait_all_done(channel, -1)`): only ever write to an idle channel.
- `wait_done()` (timeout=0) returns at once: False while a train is running.
- `active(False)` calls `rmt_disable()`. On chips with an asynchronous TX stop (ESP32-S2,
  S3, C3, C6...) that cuts the train at once. The classic ESP32 has none: ESP-IDF's
  `rmt_tx_disable` writes an end marker and busy-waits, interrupts off, until the running
  train has ended (esp-idf components/esp_driver_rmt/src/rmt_tx.c; the FIXME on
  `esp32_rmt_deactivate` in esp32_rmt.c, MicroPython PR #16293; esp-idf issue #17692).
So on the classic ESP32 a running train can be neither replaced nor stopped without
blocking for up to its whole length. This board therefore keeps a small pool of RMT
channels on the gate pin and connects the pin, through the GPIO matrix, to the channel
holding the newest train: replacing a train is a write to an idle channel plus one
register write (GPIO_FUNCn_OUT_SEL_CFG = 0x3FF44530 + 4n, RMT channel c = signal 87 + c:
ESP32 TRM, esp-idf soc/esp32 gpio_sig_map.h); stopping is `Pin.init(Pin.OUT)`, which
routes the pin back to its plain GPIO output, held low (esp-idf gpio_output_enable).
Abandoned trains run on, disconnected, and end by themselves. The register values are
not assumed: they are read back from what ESP-IDF wrote when each channel was created,
and without them (another chip, a surprise) the board falls back to one channel, stopped
with `active(False)` where that is immediate and otherwise left to run out (a new train
then waits for the next window: `deferred` counts those).
"""
import gc
import sys
import time
import machine
import esp32
from machine import Pin, ADC
from micropython import const
from board.config import (V_TO_I_SKEW_US, PIN_V, PIN_I, PIN_SSR, PIN_RELAY, PIN_PULSE, PIN_ONEWIRE,
                          RMT_LATENCY_US)
from board import firing
from board.capture import capture as _capture
from router.ticks import tdiff

MAX_HALVES = const(16)        # half-cycles per train at most (32 durations, 16 RMT symbols)
_SEL_MASK = const(0x1FF)      # GPIO_FUNCn_OUT_SEL_CFG: output signal index
_RMT_SIG_OUT0 = const(87)     # ESP32: RMT channel c's output is matrix signal 87 + c
_RMT_CHANNELS = const(8)


# seconds from 1970 to the port's epoch (MicroPython ports count from 1970 or from 2000)
_EPOCH = 946684800 if time.gmtime(0)[0] == 2000 else 0


def _classic_esp32():
    """True on the original ESP32 (no asynchronous RMT stop, GPIO matrix at 0x3FF44000)."""
    m = getattr(sys.implementation, "_machine", "")
    return m.endswith("with ESP32")


class Esp32Board:
    """The board interface of SimBoard on the real chip.

    `ticks_us` and `ticks_ms` are `time.ticks_us` / `time.ticks_ms` themselves (instance
    attributes: calling them costs no bound method; on the chip they wrap at 2**30).
    """

    NAME = "esp32"
    I_SKEW_US = V_TO_I_SKEW_US   # I is read one conversion after V
    WDT_TIMEOUT_MS = 8000         # as SimBoard: a hung loop reboots the board (once healthy)
    RMT_POOL = 5                  # a train spans <= ~90 ms, windows are >= ~25 ms apart
    GC_EVERY = 4                  # windows between explicit collections (~2 ms each)
    S0_FILTER_NS = 12000          # PCNT glitch filter (the hardware maximum is ~12.8 µs)
    DS18B20_CONVERSION_MS = 750   # 12-bit conversion time
    WAKE_MARGIN_US = 2000         # asyncio wakes up late by up to ~1 ms; GC may run first

    def __init__(self, classic=None, pool=None, data_dir="/data"):
        # `classic`: the original ESP32 (auto-detected); only there is the GPIO matrix
        # touched, and only elsewhere is active(False) an immediate stop.
        if classic is None:
            classic = _classic_esp32()
        if pool is None or not classic:
            pool = self.RMT_POOL if classic else 1
        self.data_dir = data_dir
        self.ticks_us = time.ticks_us
        self.ticks_ms = time.ticks_ms
        self.trains = 0       # trains handed to the RMT
        self.deferred = 0     # fire() calls that found no idle channel (nothing replaced)
        self.stops = 0        # active(False) calls (only where that stop is immediate)

        # Outputs low before anything else.
        self._gate = Pin(PIN_SSR, Pin.OUT, value=0)
        self._gate_init = self._gate.init
        self._gate_value = self._gate.value
        self._relay = Pin(PIN_RELAY, Pin.OUT, value=0)
        self._relay_value = self._relay.value

        # ADC1 only (ADC2 is unusable while Wi-Fi runs); read_u16 bound once: creating a
        # bound method allocates, and capture() runs in the hot path.
        self._adc_v = ADC(Pin(PIN_V), atten=ADC.ATTN_11DB)
        self._adc_i = ADC(Pin(PIN_I), atten=ADC.ATTN_11DB)
        self._read_v = self._adc_v.read_u16
        self._read_i = self._adc_i.read_u16

        self._init_rmt(pool, classic)
        self._init_pulses()
        self._init_ds18b20()
        self._wdt = None      # machine.WDT once started (wdt_start): it cannot be stopped
        self._windows = 0
        self._up_s = 0        # uptime as seconds + ms: stays a small int for 34 years
        self._up_ms = 0
        self._last_ms = 0     # ticks_ms counts from boot

    # --- set-up -------------------------------------------------------------------------------
    def _init_rmt(self, pool, classic):
        self._train = [0] * (2 * MAX_HALVES)
        # One list per possible length, filled in place: write_pulses sends a whole list.
        self._bufs = [[0] * k for k in range(2 * MAX_HALVES + 1)]
        prime = [0] * (2 * MAX_HALVES)
        rmts = []
        sels = []
        reg = 0x3FF44530 + 4 * PIN_SSR     # not a small int on the chip: computed once
        mem32 = machine.mem32
        while len(rmts) < pool:
            r = esp32.RMT(pin=self._gate, resolution_hz=1_000_000, idle_level=False)
            # Grow the channel's item buffer to the longest train now (write_pulses only
            # reallocates it when a train is longer than any before): an all-low train.
            # (levels are read as truth values, so 0s are lows: the stub wants bools)
            r.write_pulses(1, prime)  # pyright: ignore[reportCallIssue, reportArgumentType]
            rmts.append(r)
            if classic:
                sels.append(mem32[reg])    # what ESP-IDF routed to the pin for this channel
        self._all_rmts = rmts              # never released: a channel's teardown disables the pin
        ok = classic
        for s in sels:
            c = (s & _SEL_MASK) - _RMT_SIG_OUT0
            if c < 0 or c >= _RMT_CHANNELS or sels.count(s) > 1:
                ok = False
        if not ok:
            rmts = rmts[-1:]               # the last channel created owns the pin
            sels = []
        self._rmts = rmts
        self._sels = sels                  # empty: the pin cannot be switched between channels
        self._sel_reg = reg
        self._mem32 = mem32
        self._done = [r.wait_done for r in rmts]
        self._write = [r.write_pulses for r in rmts]
        self._active = [r.active for r in rmts]
        self._routed = len(rmts) - 1 if sels else 0   # channel on the pin; -1: plain GPIO low
        self._async_stop = not classic

    def _init_pulses(self):
        self._pulse_pin = Pin(PIN_PULSE, Pin.IN, Pin.PULL_UP)
        self._count = 0
        counter = getattr(machine, "Counter", None)
        if counter is not None:
            # PCNT: counts in hardware, whatever the interpreter is doing.
            self._counter = counter(0, self._pulse_pin, edge=counter.FALLING,
                                    filter_ns=self.S0_FILTER_NS)
        else:
            # Soft IRQ fallback: the handler only increments an int (no allocation).
            self._counter = None
            self._pulse_pin.irq(handler=self._on_pulse, trigger=Pin.IRQ_FALLING)

    def _on_pulse(self, pin):
        self._count += 1

    def _init_ds18b20(self):
        self._ds = None
        self._rom = None
        self._temp = None
        self._conv_ms = None      # ticks_ms when the running conversion started
        try:
            import onewire
            import ds18x20
            ds = ds18x20.DS18X20(onewire.OneWire(Pin(PIN_ONEWIRE)))
            roms = ds.scan()
        except Exception:
            return
        if roms:
            self._ds = ds
            self._rom = roms[0]

    # --- clock --------------------------------------------------------------------------------
    def utc(self):
        """UNIX time from the RTC (which a soft reboot keeps; 2000-01-01 after power-up)."""
        return time.time() + _EPOCH

    def set_utc(self, t):
        g = time.gmtime(int(t) - _EPOCH)     # (y, m, d, h, mi, s, weekday, yearday...)
        machine.RTC().datetime((g[0], g[1], g[2], g[6], g[3], g[4], g[5], 0))

    def reboot(self):
        import machine
        machine.reset()

    def chip_id(self):
        """The chip's MAC as 12 hex digits: the MQTT client's and Home Assistant's ids."""
        return "".join("%02x" % b for b in machine.unique_id())

    def radio(self):
        """The Wi-Fi radio (board/esp32_wifi.py); starting it blocks ~0.1-0.2 s, so it is
        made before the router loop runs."""
        from board.esp32_wifi import Esp32Wifi
        return Esp32Wifi()

    def seconds(self):
        self._uptime()
        return self._up_s + self._up_ms / 1000

    def _uptime(self):
        now = self.ticks_ms()
        self._up_ms += tdiff(now, self._last_ms)
        self._last_ms = now
        if self._up_ms >= 1000:
            self._up_s += self._up_ms // 1000
            self._up_ms %= 1000

    # --- acquisition --------------------------------------------------------------------------
    def capture(self, acc):
        """One window (its inputs in acc[IN_*], see router/window.py): the shared viper loop
        on the ADC1 pins, busy-waiting on the µs clock until the requested start."""
        return _capture(self._read_v, self._read_i, self.ticks_us, acc)

    # --- outputs ------------------------------------------------------------------------------
    def _idle(self):
        """An idle channel (the one on the pin first), or -1. Never waits."""
        done = self._done
        i = self._routed
        if i >= 0 and done[i]():
            return i
        j = 0
        n = len(done)
        while j < n:
            if j != i and done[j]():
                return j
            j += 1
        return -1

    def fire(self, t_zc, half_q8, delays, count):
        """Replace the gate train: half-cycle j (zero at t_zc + j*half) fires delays[j] µs
        after its zero (< 0: not fired). Returns the number of RMT durations queued."""
        if count > MAX_HALVES:
            count = MAX_HALVES
        i = self._idle()
        if i < 0:
            if self._sels or not self._async_stop:
                self.deferred += 1     # the running train goes on; stopping it would block
                return 0
            self._active[0](False)     # immediate on chips with an asynchronous TX stop
            self.stops += 1
            i = 0
        out = self._train
        k = firing.build(out, self.ticks_us(), t_zc, half_q8, delays, count, RMT_LATENCY_US)
        if k == 0:
            self._cut()
            return 0
        buf = self._bufs[k]
        j = 0
        while j < k:
            buf[j] = out[j]
            j += 1
        if i != self._routed:
            self._mem32[self._sel_reg] = self._sels[i]   # the pin now shows channel i (idle: low)
            self._routed = i
        self._write[i](buf, 0)
        self.trains += 1
        return k

    def _cut(self):
        if self._sels:
            self._gate_value(0)
            self._gate_init(Pin.OUT)   # pin back to the plain GPIO output: low, at once
            self._routed = -1
        elif self._async_stop:
            if not self._done[0]():
                self._active[0](False)
                self.stops += 1
        # else: a classic ESP32 without routing: the running train ends by itself.

    def ssr_off(self):
        self._cut()

    def probe(self, what):
        """A self-test measurement (board/esp32_probe.py, imported only then): "adc" ->
        {"us": µs of one read_u16}; "rmt" -> {"us": the RMT's start latency or None, "how"}."""
        from board.esp32_probe import run
        return run(self, what)

    def relay(self, on):
        self._relay_value(1 if on else 0)

    def pulses(self):
        if self._counter is not None:
            return self._counter.value()
        return self._count

    def temperature(self):
        """Last completed DS18B20 reading in °C, None without a sensor. Never waits for a
        conversion: each call whose conversion is done reads it (~10 ms of 1-Wire traffic)
        and starts the next one."""
        ds = self._ds
        if ds is None:
            return None
        now = self.ticks_ms()
        started = self._conv_ms
        if started is not None and tdiff(now, started) < self.DS18B20_CONVERSION_MS:
            return self._temp
        if started is not None:
            try:
                self._temp = ds.read_temp(self._rom)
            except Exception:
                self._temp = None
        try:
            ds.convert_temp()
            self._conv_ms = now
        except Exception:
            self._conv_ms = None
            self._temp = None
        return self._temp

    # --- watchdog ------------------------------------------------------------------------------
    def wdt_start(self, ms=None):
        """Start the watchdog, or give the running one its new timeout: `ms`, by default
        WDT_TIMEOUT_MS. For good, until the next hard reset."""
        self._wdt = machine.WDT(timeout=ms or self.WDT_TIMEOUT_MS)

    def wdt_running(self):
        return self._wdt is not None

    def wdt_feed(self):
        w = self._wdt
        if w is not None:
            w.feed()

    def wdt_stretch(self, ms):
        """A running watchdog now waits `ms` (it cannot be stopped): the firmware has stopped
        and the console needs the board for a while. Nothing when it is not running."""
        if self._wdt is not None:
            self._wdt = machine.WDT(timeout=ms)

    # --- time between windows -----------------------------------------------------------------
    def between_windows(self, next_start=None):
        """Called after each window. Collects garbage here, every GC_EVERY windows, while
        the RMT holds the next half-cycles, so GC pauses are short (little garbage each
        time) and never fall inside a capture. Returns the milliseconds the loop may sleep
        (other asyncio tasks run meanwhile) and still wake up before `next_start`, the tick
        the router wants its next window at; the capture busy-waits the rest. 0 without
        `next_start`."""
        self._windows += 1
        if self._windows >= self.GC_EVERY:
            self._windows = 0
            gc.collect()
        self._uptime()
        if next_start is None:
            return 0
        ahead = tdiff(next_start, self.ticks_us()) - self.WAKE_MARGIN_US
        return ahead // 1000 if ahead > 0 else 0
