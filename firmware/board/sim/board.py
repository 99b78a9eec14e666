"""The simulated board: the board interface of board/esp32.py over the physics in world.py.

The clock is virtual (integer µs). It advances the way the device's would: each
`ticks_us()` call in the capture's busy-wait costs `spin_us`, each ADC conversion `adc_us`
(so V and I of a pair are `adc_us` apart, as on the chip), and between windows the router's
own work takes `process_ms` before it fires, then asyncio tasks and garbage collection take
`window_gap_ms` (+ `gc_ms` every `gc_every` windows) before the router asks for its next
window. Work that the loop's other tasks really did (an HTTP request, an MQTT cycle, a flash
write, run by a benchmark's load between windows) is charged too: `charge(host_us)` adds its
host CPU time times `cpu_factor` to the next gap (scenario.py says where the factor comes
from). Firing goes through the same pulse-train builder as the ESP32 and
starts `rmt_latency_us` after the call, while the firmware assumes config.RMT_LATENCY_US.

`speed` paces the virtual clock against the wall clock (1 = real time, 10 = ten times
faster); None runs as fast as possible (deterministic: tests and benchmarks).
"""
import time
from board import config
from board import firing
from board.capture import capture as _capture
from router.ticks import MASK, tdiff
from .world import World
from .frontend import AdcChannel
from .rng import Rng
from . import scenario as _scenario

from .clock import START_US, VirtualClock

SIM_DAY_EPOCH = 1782000000 // 86400 * 86400   # 2026-06-21 00:00 UTC
WIRINGS = ("", "clamp-open", "no-mains", "swapped")   # SimBoard's `wiring`
# How much slower the chip runs the same MicroPython code than the host, for charge():
# MicroPython v1.12 on an ESP32 at 240 MHz runs 500 pystone passes in 312 ms, 1602
# pystones/s (micropython/micropython issue #6565; #5673 has 1661, later builds ~1000);
# the unix port on the x86-64 host that measured this firmware's costs ran the same
# Proc0(500) in 5.05 ms (99,000 pystones/s), 62 times faster. bench/load.py times a
# reference loop to bring another host's figures to that one's speed.
CPU_FACTOR = 62


def _t(d, key, default):
    v = d.get(key)
    return default if v is None else v


class SimBoard(VirtualClock):
    """The house and the board in it. Across the firmware's reboots (reboot(): a reset of
    the chip) the house goes on; `resets` counts them (0: the boot after power-up, which is
    what each start of the process stands for, a SIGKILL being a power cut).

    Watchdog: as on the chip (board/esp32.py), it runs only once the firmware has started it
    (wdt_start, which also gives a running one its new timeout), until the next reset; it cannot be stopped, only given a longer timeout
    (wdt_stretch). `wdt_expired` is set when a feed comes later than its timeout (on the
    chip, the board would have been reset).

    `crash`: the firmware crashes (RuntimeError from capture) in the first window of each of
    its first `crash` boots since power-up (main.py --crash N): how host_tests/test_safe_mode.py
    makes a firmware that fails at start.

    `wiring`: the board wired wrong, as a newcomer may (main.py --wiring), for the self-test
    to find: "clamp-open" (the CT clamp not closed around the cable: no current through it),
    "no-mains" (the voltage transformer not plugged in: the voltage input sees its bias
    only, while the house has its mains), "swapped" (the clamp on the voltage input and the
    transformer on the current input); "" wired right."""
    NAME = "sim"
    WDT_TIMEOUT_MS = 8000

    def __init__(self, scenario="clear_day", speed=None, data_dir="sim_data", start_us=START_US,
                 clock_known=True, crash=0, wiring=""):
        if wiring not in WIRINGS:
            raise ValueError("wiring must be one of %s" % ", ".join(w or "''" for w in WIRINGS))
        self.wiring = wiring
        self._no_v = wiring == "no-mains"
        self._swapped = wiring == "swapped"
        if isinstance(scenario, str):
            scenario = _scenario.load(scenario)
        elif isinstance(scenario, dict):
            scenario = _scenario.Scenario(scenario)
        self.scenario = scenario
        self.speed = speed
        self.data_dir = data_dir
        self.world = World(scenario, float(start_us))
        a = scenario.adc
        rng = Rng(_t(a, "seed", 1))
        noise = _t(a, "noise_lsb", 2.0)
        nl = _t(a, "nonlinear", 0.0)
        self.adc_v = AdcChannel(rng, config.V_MV_PER_VOLT, _t(a, "bias_v_mv", config.BIAS_MV),
                                _t(a, "gain_v", 1.0), noise, nl)
        self.bias_i_mv = _t(a, "bias_i_mv", config.BIAS_MV)
        self.adc_i = AdcChannel(rng, config.I_MV_PER_AMP, self.bias_i_mv,
                                _t(a, "gain_i", 1.0), noise, nl)
        # A CT's magnetising current makes its secondary lead the primary (a few µs to a few
        # hundred): what PHASE_CALIB is there to take out. Negative (a lag) is approximate.
        self.i_lead_us = float(_t(a, "i_lead_us", 0.0))
        # Board pick-up of the voltage into the current channel, in amps at nominal voltage,
        # in phase with it: it stays when the clamp is open, so it is what P_OFFSET takes out.
        self.i_xtalk_a = float(_t(a, "i_xtalk_a", 0.0))
        self._clamp_open = False
        tm = scenario.timing
        self.adc_us = _t(tm, "adc_us", config.V_TO_I_SKEW_US)
        self.I_SKEW_US = config.V_TO_I_SKEW_US   # what the firmware assumes (as on the chip)
        self.process_ms = _t(tm, "process_ms", [1.5, 3.0])
        self.gap_ms = _t(tm, "window_gap_ms", [1.5, 3.0])
        self.gc_ms = _t(tm, "gc_ms", 2.0)
        self.gc_every = _t(tm, "gc_every", 4)
        self.rmt_latency_us = _t(tm, "rmt_latency_us", 35)
        self.cpu_factor = float(_t(tm, "cpu_factor", CPU_FACTOR))
        self._owed_us = 0.0          # charged work not yet spent in a gap
        self.rng = Rng(7)
        self.windows = 0
        self._stall = 0
        self._samples = 0
        self.last_feed = start_us
        self.wdt_timeout_ms = None     # None until the firmware starts the watchdog
        self.wdt_expired = False
        self.resets = 0
        self.crash = crash
        self._wall0 = None
        self.start_us = start_us
        self.clock_known = clock_known
        self._utc_set = None
        self._start_clock(start_us, _t(tm, "spin_us", 3))

    # --- clock ------------------------------------------------------------------------------
    def ticks_ms(self):
        return (self.now // 1000) & MASK

    # --- acquisition --------------------------------------------------------------------------
    def read_v(self):
        if self._stall and self._samples == 50:
            self.now += self._stall    # pre-empted (Wi-Fi/lwIP task, flash write) mid-window
            self._stall = 0
        self._samples += 1
        if self._swapped:
            r = self.adc_i.read_u16(self._current(float(self.now)))
        else:
            r = self.adc_v.read_u16(0.0 if self._no_v else self.world.voltage(float(self.now)))
        self.now += self.adc_us
        return r

    def read_i(self):
        t = float(self.now)
        if self._swapped:
            r = self.adc_v.read_u16(self.world.voltage(t))
        else:
            r = self.adc_i.read_u16(self._current(t))
        self.now += self.adc_us
        return r

    def _current(self, t):
        """Amps through the CT at `t` (what its input shows, the board's pick-up included)."""
        if self._clamp_open:
            x = 0.0
        elif self.i_lead_us:
            # The world may run ahead by the lead: the router fires only after its work
            # (process_ms), i.e. well after the last sample it has taken.
            x = self.world.current(t + self.i_lead_us)
        else:
            x = self.world.current(t)
        if self.i_xtalk_a:
            x += self.i_xtalk_a * self.world.voltage(t) / 230.0
        return x

    def capture(self, acc):
        if self.resets < self.crash:
            raise RuntimeError("simulated crash at start (boot %d of the %d that crash)"
                               % (self.resets + 1, self.crash))
        st = self.world.state
        self._stall = st.stall_us
        self._samples = 0
        self.adc_i.bias_mv = self.bias_i_mv + st.bias_i_mv
        self._clamp_open = (self.scenario.manual.get("clamp") == "open"
                            or self.wiring == "clamp-open")
        n = _capture(self._read_v, self._read_i, self._ticks, acc)
        # The router's own work after a window (measure, control) before it fires.
        lo, hi = self.process_ms
        self.now += int(self.rng.uniform(lo, hi) * 1000)
        return n

    # --- outputs ------------------------------------------------------------------------------
    def fire(self, t_zc, half_q8, delays, count):
        now_tick = self.ticks_us()
        k = firing.build(self.train, now_tick, t_zc, half_q8, delays, count,
                         config.RMT_LATENCY_US)
        t = self.now + self.rmt_latency_us
        pulses = []
        for j in range(0, k, 2):
            t += self.train[j]
            on = t
            t += self.train[j + 1]
            pulses.append((float(on), float(t)))
        self.world.set_pulses(float(self.now), pulses)
        return k

    def ssr_off(self):
        self.world.gate_off(float(self.now))

    def probe(self, what):
        """A self-test measurement, as Esp32Board.probe, answered with the model's own
        figures: "adc" -> {"us": the modelled ADC conversion time (scenario timing adc_us)};
        "rmt" -> {"us": the modelled RMT start latency (rmt_latency_us), "how"}."""
        if what == "adc":
            return {"us": float(self.adc_us)}
        if what == "rmt":
            return {"us": float(self.rmt_latency_us),
                    "how": "the simulated board's RMT model (scenario timing rmt_latency_us)"}
        raise ValueError(what)

    def relay(self, on):
        self.world.set_relay(on)

    def pulses(self):
        return self.world.pv_pulses

    def temperature(self):
        return round(self.world.tank_c * 16) / 16   # DS18B20 12-bit resolution

    # --- watchdog ------------------------------------------------------------------------------
    def wdt_start(self, ms=None):
        self.wdt_timeout_ms = ms or self.WDT_TIMEOUT_MS
        self.last_feed = self.now

    def wdt_running(self):
        return self.wdt_timeout_ms is not None

    def wdt_feed(self):
        t = self.wdt_timeout_ms
        if t is None:
            return
        if self.now - self.last_feed > t * 1000:
            self.wdt_expired = True
        self.last_feed = self.now

    def wdt_stretch(self, ms):
        if self.wdt_timeout_ms is not None:
            self.wdt_timeout_ms = ms
            self.last_feed = self.now

    # --- time between windows -------------------------------------------------------------
    def charge(self, host_us, chip_us=0):
        """The loop's other tasks did this much work (host µs): on the chip it holds the loop
        `cpu_factor` times as long, in the next gap between windows; `chip_us`: a stall
        that is the chip's whatever the host took (a flash erase)."""
        self._owed_us += host_us * self.cpu_factor + chip_us

    def gap_us(self):
        """Modelled time the asyncio tasks and the garbage collector take between windows,
        with the work charged since the last gap."""
        lo, hi = self.gap_ms
        ms = self.rng.uniform(lo, hi) + self.world.state.gap_ms
        self.windows += 1
        if self.gc_every and self.windows % self.gc_every == 0:
            ms += self.gc_ms
        owed = int(self._owed_us)
        self._owed_us = 0.0
        return int(ms * 1000) + owed

    def pause_ms(self):
        """How long the host should sleep to keep the virtual clock at `speed` x wall time."""
        if not self.speed:
            return 0
        wall = time.time_ns() // 1000
        if self._wall0 is None:
            self._wall0 = wall - (self.now - self.boot_us) / self.speed
        ahead = (self.now - self.boot_us) / self.speed - (wall - self._wall0)
        return int(ahead // 1000) if ahead > 1000 else 0

    def between_windows(self, next_start):
        """The other tasks run; the device then sleeps until shortly before `next_start` (the
        tick the router wants its next window at). Returns milliseconds for the host to sleep."""
        self.now += self.gap_us()
        ahead = tdiff(next_start, self.now & MASK)
        if ahead > 2 * self.spin_us:
            self.now += ahead - 2 * self.spin_us
        self.world.advance_to(float(self.now))
        return self.pause_ms()

    # --- for tests, benchmarks and the sim UI --------------------------------------------------
    def truth(self):
        self.world.advance_to(float(self.now))
        return self.world.truth.snapshot()

    def utc(self):
        """UNIX time. The house's clock, which runs on through a reboot of the firmware:
        the scenario's day is 2026-06-21 and its start is local time in Europe/Paris (CEST,
        UTC+2); the clock runs at the scenario's time_scale. Once set (set_utc), it runs on
        from there in real time; a board started unsynchronised counts from 0 until then."""
        if self._utc_set is not None:
            return self._utc_set[0] + (self.now - self._utc_set[1]) / 1e6
        if not self.clock_known:
            return (self.now - self.start_us) / 1e6
        sc = self.scenario
        start = SIM_DAY_EPOCH - 7200 + sc.start_h * 3600
        return start + (self.now - self.start_us) / 1e6 * sc.time_scale

    def set_utc(self, t):
        self._utc_set = (t, self.now)

    def reboot(self):
        """The firmware restarts (the house does not): a reset of the chip: uptime starts
        again, outputs off, the watchdog stopped."""
        self.world.gate_off(float(self.now))
        self.world.set_relay(False)
        self.boot_us = self.now
        self._wall0 = None
        self.wdt_timeout_ms = None
        self.resets += 1

    def chip_id(self):
        """As the chip's MAC (12 hex digits); its simulated radio names the access point
        MaxPV-5A17 from the last four."""
        return "246f28a05a17"

    def radio(self, dns):
        """The simulated Wi-Fi radio (board/sim/radio.py); `dns`: the DNS server its network's
        DHCP gives."""
        from .radio import SimRadio
        return SimRadio(self, dns)

    def flash(self, faults):
        """The flash records/store.py writes through, with the faults of `faults`
        (board/sim/flash.py's SPEC, main.py --flash-faults)."""
        from .flash import FaultyFlash
        return FaultyFlash(faults)

    def serve_controls(self, app):
        """Add the house's controls (/sim/set, /sim/state) to the firmware's HTTP app."""
        from . import http
        http.register(app, self)

    def run_until(self, seconds, rt):
        """Drive the router's window loop until the virtual clock reaches `seconds`."""
        end = self.boot_us + int(seconds * 1e6)
        while self.now < end:
            rt.step()
            self.between_windows(rt.next_start())
