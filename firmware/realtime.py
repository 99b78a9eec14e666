"""The router: its window loop (capture -> measure -> synchronise -> regulate -> fire ->
count) and its once-a-second summary (report, status byte, relay, energy, persistence).

This is the only code that sequences board and router logic. `step()` is the hot path (it
must not allocate: host_tests/test_hot_path.py runs it under micropython.heap_lock());
`summary()` runs once a second and may use floats.

Safety: firing is queued only from a locked mains PLL, only a few half-cycles ahead, and
every queued train ends with the gate off. So a lost mains, a disturbed signal or a stalled
loop all end in "heater off": by an explicit ssr_off() when lock is lost, and by the train
running out when nothing refreshes it. A stalled loop also stops feeding the watchdog.
"""
from array import array
from micropython import const
from router.window import LEN, SAMPLES, IN_N, IN_PERIOD, IN_VMID, IN_IMID, IN_START, T0
from router.ticks import tdiff, tadd
from router.measure import Report
from router.control import Controller, AUTO
from router.relay import Relay
from router.energy import Energy
from router import status

HORIZON = const(7)     # half-cycles queued per window: the current one + 60 ms (windows ~30 ms apart)
# Windows start just after a predicted zero crossing and span one period, so they hold two
# whole half-cycles, each fired under the command given after the previous window.
AFTER_ZERO_US = const(150)
LATE_START_US = const(100)  # a window up to this late on its zero still starts (unaligned by it)
MIN_GAP_US = const(3000)   # left to the other asyncio tasks between two windows
SAVE_EVERY_S = 300         # energy indices are written to flash this often (and on demand)
PULSE_WINDOW_S = 60        # production power: pulse rate over this long (0 after 2 of them)


class Summary:
    """What the router reports once a second, besides the measurement Report."""

    def __init__(self):
        self.routed = 0.0      # W
        self.status = 0
        self.delays = None     # (min, avg, max) µs, or None when not regulating
        self.load_absent = False
        self.p_full = 0        # W the resistor takes at full conduction now
        self.relay_on = False
        self.uptime = 0.0      # s
        self.at = None         # uptime (s) when this summary was made; None before the first
        self.produced = 0.0    # W, from the production meter's pulse rate
        self.temperature = None  # °C of the water tank, None without a probe


class Realtime:
    def __init__(self, board, measure, sync, params, store=None):
        self.board = board
        self.measure = measure
        self.sync = sync
        self.params = params
        self.store = store
        self.ctrl = Controller()
        self.relay = Relay()
        self.energy = Energy()
        if store is not None:
            self.energy.from_dict(store.read("energy"))
        self.acc = array("i", [0] * LEN)
        self.delays = array("i", [-1] * HORIZON)
        self.firing = False
        self.windows = 0
        self.rnd = 1
        self.t_prev = None
        self.routed_sum = 0
        self.frac_sum = 0
        self.win_count = 0
        self.last = Report()
        self.sum = Summary()
        self.saved_at = 0.0
        self.pulses_seen = []    # (uptime, pulse index) at each new pulse, last minute
        self.t_summary = board.ticks_us()
        params.listeners.append(self.apply_params)
        self.apply_params(params)

    def apply_params(self, p):
        g = p.get
        self.measure.calibrate(g("V_CALIB"), g("P_CALIB"), g("PHASE_CALIB"), g("P_OFFSET"))
        self.ctrl.configure(g("P_RESISTANCE"), g("P_MARGIN"), g("GAIN_P"), g("GAIN_I"),
                            g("E_RESERVE"), g("V_CALIB"))
        self.relay.configure(g("P_DIV2_ACTIVE"), g("P_DIV2_IDLE"), g("T_DIV2_ON"),
                             g("T_DIV2_OFF"), g("T_DIV2_TC"))

    # --- the window loop (hot) ------------------------------------------------------------
    def step(self):
        """Run one window. Returns True when a once-a-second summary is due."""
        b = self.board
        m = self.measure
        s = self.sync
        c = self.ctrl
        acc = self.acc
        now = b.ticks_us()
        if s.locked:
            z = tadd(s.last_zero(now), self.start_phase())
            if tdiff(now, z) > LATE_START_US:
                z = tadd(z, s.period_q8 >> 9)
            now = z
        acc[IN_N] = SAMPLES
        acc[IN_PERIOD] = s.sample_period_q8()
        acc[IN_VMID] = m.v_mid
        acc[IN_IMID] = m.i_mid
        acc[IN_START] = now
        b.capture(acc)
        m.window(acc)
        now = b.ticks_us()
        was_locked = s.locked
        s.update(acc, m.present, now)
        dt = 0 if self.t_prev is None else tdiff(acc[T0], self.t_prev)
        self.t_prev = acc[T0]
        d = -1
        if s.locked:
            d = c.window(m.p_cw, m.p2_cw if m.p2_ok else m.p_cw, m.var_v, dt, s.period_q8 >> 9)
        elif was_locked:
            c.reset()
        if d >= 0:
            for j in range(HORIZON):
                self.delays[j] = d
            b.fire(s.last_zero(now), s.half_q8(), self.delays, HORIZON)
            self.firing = True
        elif self.firing:
            b.ssr_off()
            self.firing = False
        routed = c.routed if s.locked else 0
        self.energy.account((m.p_cw // 50 + 1) >> 1, routed, dt, self.relay.on)
        self.routed_sum += routed
        self.frac_sum += c.frac >> 8 if s.locked else 0
        self.win_count += 1
        b.wdt_feed()
        self.windows += 1
        return tdiff(now, self.t_summary) >= 1000000

    def start_phase(self):
        """Where, after the zero, the window starts (µs).

        The heater current jumps by ~10 A at each firing instant; sampled every 200 µs, that
        edge is mis-weighted by up to half a sample (±24 W a window at 2 kW), by an amount
        that depends on the delay itself, which would bias the regulation. Placing the firing
        instant exactly halfway between two current samples cancels that error (midpoint
        rule); both half-cycles of the window share the same sample phase."""
        d = self.ctrl.delay
        if d < 0:
            return AFTER_ZERO_US
        ts = self.sync.sample_period_q8() >> 8
        # When PHASE_CALIB blends each current sample with part of the previous one, the
        # edge's weight moves by that part of a sample: aim that much earlier.
        pc = self.measure.pc
        blend = (-pc * ts) >> 4 if pc < 0 else 0
        return AFTER_ZERO_US + (d - self.board.I_SKEW_US - (ts >> 1) - blend - AFTER_ZERO_US) % ts

    def next_start(self):
        """Tick at which the next window should start (for the loop to sleep until then).

        One window in four (pseudo-randomly) waits one half-cycle more, so that the window
        cadence cannot lock onto the switching pattern of another appliance."""
        now = self.board.ticks_us()
        if not self.sync.locked:
            return now
        self.rnd = (self.rnd * 75 + 74) % 65537
        gap = MIN_GAP_US + ((self.sync.period_q8 >> 9) if self.rnd & 3 == 0 else 0)
        return tadd(self.sync.next_zero(tadd(now, gap)), self.start_phase())

    # --- once a second ----------------------------------------------------------------------
    def summary(self):
        b = self.board
        now = b.ticks_us()
        seconds = tdiff(now, self.t_summary) / 1e6
        self.t_summary = now
        r = self.measure.report(self.last, self.sync, seconds)
        sm = self.sum
        n = self.win_count
        sm.routed = self.routed_sum / n if n else 0.0
        mean_frac = self.frac_sum / n / 256 if n else 0.0
        self.routed_sum = self.frac_sum = self.win_count = 0
        c = self.ctrl
        sm.load_absent = c.absent
        sm.p_full = c.p_full
        sm.delays = c.delay_stats()
        on = self.relay.second(r.p, sm.routed) if self.sync.locked else False
        if on != sm.relay_on:
            b.relay(on)
        sm.relay_on = on
        st = r.status
        if sm.routed > 0:
            st |= status.ROUTING
        if mean_frac >= 245 / 255:
            st |= status.FULL
        if on:
            st |= status.RELAY
        if r.p < 0:
            st |= status.EXPORTING
        sm.status = st
        sm.uptime = b.seconds()
        sm.at = sm.uptime
        e = self.energy
        n = e.pulses
        e.count_pulses(b.pulses())
        self._production(n, e.pulses, sm.uptime)
        sm.temperature = b.temperature()
        if e.new_day(b.local_day()) or sm.uptime - self.saved_at >= SAVE_EVERY_S:
            self.save_energy()
        return r

    def _production(self, before, now, t):
        """Production power from the pulse rate over the last minute (first to last new pulse
        in it); 0 after two minutes without a pulse."""
        sm = self.sum
        seen = self.pulses_seen
        if now != before:
            seen.append((t, now))
        while seen and t - seen[0][0] > (2 * PULSE_WINDOW_S if len(seen) == 1 else PULSE_WINDOW_S):
            seen.pop(0)
        if len(seen) >= 2 and seen[-1][0] > seen[0][0]:
            wh = (seen[-1][1] - seen[0][1]) * self.params.get("CNT_CALIB")
            sm.produced = wh * 3600 / (seen[-1][0] - seen[0][0])
        elif not seen:
            sm.produced = 0.0

    # --- commands -------------------------------------------------------------------------
    def set_ssr_mode(self, mode):
        self.ctrl.set_mode(mode)

    def set_relay_mode(self, mode):
        self.relay.set_mode(mode)

    def save_energy(self):
        if self.store is not None:
            self.store.write("energy", self.energy.to_dict())
        self.saved_at = self.board.seconds()

    def reset_energy(self):
        self.energy.reset()
        self.save_energy()

    def restart(self):
        """EcoPV's RESET: save the indices, re-initialise measurement and regulation, modes back
        to AUTO; counters and parameters are kept."""
        self.save_energy()
        self.board.ssr_off()
        self.firing = False
        self.measure.restart()
        self.sync.reset()
        self.ctrl.set_mode(AUTO)
        self.relay.set_mode(AUTO)
        self.t_prev = None
        # The next summary covers only windows after the restart.
        self.t_summary = self.board.ticks_us()
        self.routed_sum = self.frac_sum = self.win_count = 0
