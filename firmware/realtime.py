"""The router: its window loop (capture -> measure -> synchronise -> regulate -> fire ->
count), its once-a-second summary (report, status byte, relay, energy, persistence), and the
one interface that the API, main.py and every service use.

The interface (everything outside this module uses only this):
- `rt.state`: a State, the router as of its last once-a-second summary (measurement, modes,
  regulation, energy indices and day-start references, temperature, uptime). One object,
  updated in place, and refreshed at once by every command, so a reader sees a command's
  effect immediately; `rt.running()`: fresh figures from a synchronised mains (MaxPV!'s ping).
- commands: `set_ssr_mode`, `set_relay_mode`, `boost_on`, `boost_off`, `set_param`,
  `save_params`, `load_params`, `format_params`, `reset_energy`, `save_energy`, `restart`;
  a refused command raises Refused (a ValueError saying what is wrong) and changes nothing.
- reads: `param_text(n)`, `params_text()`, `heater_state()`, `storage_state()`,
  `window_figures()` (the last window as captured: the self-test's).
- the loop's own calls (main.py): `step()`, `next_start()`, `summary()`.

`step()` is the hot path (it must not allocate: host_tests/test_hot_path.py runs it under
micropython.heap_lock()); `summary()` runs once a second and may use floats.

Safety: firing is queued only from a locked mains PLL, only a few half-cycles ahead, and
every queued train ends with the gate off. So a lost mains, a disturbed signal or a stalled
loop all end in "heater off": by an explicit ssr_off() when lock is lost, and by the train
running out when nothing refreshes it. A stalled loop also stops feeding the watchdog.
"""
from array import array
from micropython import const
from router.window import LEN, SAMPLES, IN_N, IN_PERIOD, IN_VMID, IN_IMID, IN_START, T0, N
from router.ticks import tdiff, tadd
from router.measure import Report
from router.control import Controller
from router.relay import Relay
from router.energy import Energy, PRODUCED, ROUTED, RELAY_MIN
from router.heater import Heater, valid_temp
from router.relayplus import RelayPlus
from router.params import ParamError
from router import status
from router.status import AUTO, MODES

# How far ahead each window queues the firing: ~90 ms, the current half-cycle and those up
# to _HORIZON_US after its zero (9 at 50 Hz, 11 at 60 Hz). Windows are ~30 ms apart, but the
# loop's other work delays the next one: on the chip an HTTP answer holds it ~25 ms and a
# flash erase ~45 ms (bench/load.py), and with 70 ms queued a save cut the heater at full
# power for ~10 ms. It is also how long the heater may run on once the software stalls.
_HORIZON_US = const(90000)
HORIZON = const(12)    # half-cycles at most (90 ms of 66 Hz mains), the delays array's size
# Windows start just after a predicted zero crossing and span one period, so they hold two
# whole half-cycles, each fired under the command given after the previous window (or the
# first alone, when it shows a step: Measure.expect()).
AFTER_ZERO_US = const(150)
LATE_START_US = const(100)  # a window up to this late on its zero still starts (unaligned by it)
MIN_GAP_US = const(3000)   # left to the other asyncio tasks between two windows
SAVE_EVERY_S = 300         # energy indices are written to flash this often (and on demand)
RETRY_SAVE_S = 30          # after a failed write, again this soon
PULSE_WINDOW_S = 60        # production power: pulse rate over this long (0 after 2 of them)
STALE_S = 1.5              # as MaxPV!'s ping: "offline" after 1.5 s without fresh figures


class Refused(ValueError):
    """A command refused for bad input; nothing was changed. The message says why."""


class NothingSaved(Refused):
    """load_params with no saved parameters."""


class State(Report):
    """The router as every reader sees it. Report's fields are the measurement of the last
    second (vrms V, irms A, p W import +, s VA, cosphi, hz, samples per second); `status`
    is the whole status byte (router.status bits). Energy tuples are indexed by
    router.energy's ROUTED, IMPORTED, EXPORTED (Wh), PRODUCED (Wh, from the meter's pulses)
    and RELAY_MIN (minutes of relay on-time)."""

    def __init__(self):
        Report.__init__(self)
        self.bias_v = 0.0      # V at the voltage channel's zero (the board's mid-point)
        self.routed = 0.0      # W into the resistor, mean over the second
        self.produced = 0.0    # W, from the production meter's pulse rate
        self.load_absent = False  # the resistor draws nothing (thermostat open)
        self.delays = None     # (min, mean, max) firing delay in µs; None when not regulating
        self.ssr_mode = AUTO   # the owner's modes (data 14, 15)
        self.relay_mode = AUTO
        self.relay_on = False
        self.heater = "routing"  # who drives the heater (router.heater PRIORITY's reason)
        self.boost = None      # the running boost's kind (manual, timer, energy), or None
        self.relayplus = False  # RelayPlus holds its daily reference (relayplusstate)
        self.synced = False    # locked on the mains zero crossings (firing allowed)
        self.temperature = None  # °C of the water tank, None without a (plausible) probe
        self.index = (0, 0, 0, 0.0, 0)    # energy indices
        self.day_ref = (0, 0, 0, 0.0, 0)  # the same at the start of the day
        self.storage_faults = 0  # storage faults since boot (the log says which)
        self.uptime = 0.0      # s since boot
        self.at = None         # uptime (s) of the last summary; None before the first


class Realtime:
    def __init__(self, board, measure, sync, params, store=None, mv_per_lsb=0.0, local=None,
                 setting=None):
        """local: () -> local time (s since 1970-01-01 00:00 local), or None while the time of
        day is unknown; setting: (key) -> the configuration's value (records/config.py keys:
        boost, temperature limit, keep-warm, anti-legionella, RelayPlus, persist_modes)."""
        self.board = board
        self.local = local
        self.setting = setting
        self.measure = measure
        self.sync = sync
        self.params = params
        self.store = store
        self.mv_per_lsb = mv_per_lsb    # the ADC's scale, for the mid-point voltage
        self.ctrl = Controller()
        self.relay = Relay()
        self.energy = Energy()
        self.heater = Heater()
        self.relayplus = RelayPlus()
        self.ssr_mode = AUTO
        self.relay_owner = AUTO      # the relay mode set by hand (RelayPlus changes relay.mode)
        if store is not None:
            # the newest whole record (a damaged one is set aside, the previous one used)
            rec = store.read("energy", lambda d: Energy().from_dict(d))
            if self.energy.from_dict(rec):
                self.heater.grid_wh = float(rec.get("grid_heat", 0))
            self._load_modes()
        self.ctrl.set_mode(self.ssr_mode)   # the first summary arbitrates the rest
        self.acc = array("i", [0] * LEN)
        self.delays = array("i", [-1] * HORIZON)
        self.firing = False
        self.windows = 0
        self.rnd = 1
        self.t_prev = None
        self.routed_sum = 0
        self.frac_sum = 0
        self.win_count = 0
        self.state = State()
        self.saved_at = 0.0
        self.modes_unsaved = False
        self.modes_tried = 0.0
        self.pulses_seen = []    # (uptime, pulse index) at each new pulse, last minute
        self.t_summary = board.ticks_us()
        params.listeners.append(self.apply_params)
        self.apply_params(params)
        self.state.bias_v = self._bias_v()
        self._publish()

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
        # The capture may end after one half-cycle at a step (Controller.expect_w), but never
        # two windows running: a whole one in two keeps the PLL fed with zero crossings and
        # the offsets tracked, whatever a wrong model (a heater's power mis-set) does.
        tol = c.expect_tol if s.locked and m.p2_ok and acc[N] == SAMPLES else 0
        m.expect(acc, c.expect_w * 100, tol * 100)
        b.capture(acc)
        m.window(acc)
        now = b.ticks_us()
        was_locked = s.locked
        s.update(acc, m.present, now)
        dt = 0 if self.t_prev is None else tdiff(acc[T0], self.t_prev)
        self.t_prev = acc[T0]
        d = -1
        if s.locked:
            d = c.window(m.p_cw, m.p2_cw if m.p2_ok else m.p_cw, m.var_v, dt, s.period_q8 >> 9,
                         acc[N] < SAMPLES)
        elif was_locked:
            c.reset()
        if d >= 0:
            half_q8 = s.half_q8()
            n = (_HORIZON_US * 256 + half_q8 - 1) // half_q8
            if n > HORIZON:
                n = HORIZON
            for j in range(n):
                self.delays[j] = d
            b.fire(s.last_zero(now), half_q8, self.delays, n)
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
        instant halfway between two samples cancels that error (midpoint rule); both
        half-cycles of the window share the same sample phase. "Halfway" is between the
        instants the power products stand for: I is read I_SKEW_US after V and PHASE_CALIB
        moves one of them by pc/16 of a sample, so a product of V and I stands for the
        midpoint of the two corrected instants, which is where the edge must fall between
        (with the edge put halfway between the I samples instead, the router read the
        grid ~2.5 W high at a 2 kW heater's mid-range, host_tests/test_regulation.py)."""
        d = self.ctrl.delay
        if d < 0:
            return AFTER_ZERO_US
        # In 1/256 µs, as the capture spaces its samples: a period rounded to whole µs
        # (199 for 199.9) is off by ~1 µs a sample, ~35 µs over the ~37 samples to a
        # mid-cycle firing.
        ts = self.sync.sample_period_q8()
        skew = self.board.I_SKEW_US
        # I's corrected lag behind V (q8): PHASE_CALIB's shift is pc/16 of a sample
        skew_q8 = (skew << 8) + ((self.measure.pc * ts) >> 4)
        # the I sample after the edge comes half a sample plus half that lag after it
        x = ((d - skew - AFTER_ZERO_US) << 8) + (ts >> 1) + (skew_q8 >> 1)
        return AFTER_ZERO_US + ((x % ts + 128) >> 8)

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
        """The once-a-second work: report, relay, status byte, energy; refreshes `state`."""
        b = self.board
        now = b.ticks_us()
        seconds = tdiff(now, self.t_summary) / 1e6
        self.t_summary = now
        st = self.state
        self.measure.report(st, self.sync, seconds)
        n = self.win_count
        st.routed = self.routed_sum / n if n else 0.0
        mean_frac = self.frac_sum / n / 256 if n else 0.0
        self.routed_sum = self.frac_sum = self.win_count = 0
        c = self.ctrl
        st.load_absent = c.absent
        st.delays = c.delay_stats()
        st.synced = self.sync.locked
        st.bias_v = self._bias_v()
        cfg = self.setting
        local = self.local() if self.local else None
        cmd = self.relayplus.second(st.uptime, local, st.index[RELAY_MIN],
                                    cfg("RelayPlus_active"), cfg("RelayPlus_hour"),
                                    cfg("RelayPlus_min"), cfg("RelayPlus_max"))
        if cmd is not None:
            self.relay.set_mode(cmd)
            if self.relay_owner != AUTO:
                # RelayPlus is in charge again (its reference hour): a reboot must not bring
                # back the manual mode it replaced
                self.relay_owner = AUTO
                self._save_modes()
        on = self.relay.second(st.p, st.routed) if st.synced else False
        if on != st.relay_on:
            b.relay(on)
        st.relay_on = on
        bits = st.status        # the measurement's anomaly bits
        if st.routed > 0:
            bits |= status.ROUTING
        if mean_frac >= 245 / 255:
            bits |= status.FULL
        if on:
            bits |= status.RELAY
        if st.p < 0:
            bits |= status.EXPORTING
        st.status = bits
        st.uptime = b.seconds()
        st.at = st.uptime
        e = self.energy
        n = e.pulses
        e.count_pulses(b.pulses())
        self._production(n, e.pulses, st.uptime)
        st.temperature = valid_temp(b.temperature())
        # the day rolls first: a schedule at 00:00 looks at the new day's energy
        d = None if local is None else local // 86400
        new_day = d is not None and e.new_day(d)
        h = self.heater
        hot_day = h.last_hot_day
        self._drive(h.second(st.uptime, local, st.temperature,
                             e.wh[ROUTED] - e.refs[ROUTED], st.p, st.routed, st.synced,
                             self.ssr_mode, cfg))
        if h.last_hot_day != hot_day or (
                self.modes_unsaved and st.uptime - self.modes_tried >= RETRY_SAVE_S):
            self._save_modes()
        if self.store is not None:
            st.storage_faults = self.store.fault_count
        if new_day or st.uptime - self.saved_at >= SAVE_EVERY_S:
            self.save_energy()
        self._publish()
        return st

    def _bias_v(self):
        return self.measure.v_mid_q8 / 256 * self.mv_per_lsb / 1000

    def _publish(self):
        """What commands change (modes, energy indices) into `state`."""
        st = self.state
        e = self.energy
        st.ssr_mode = self.ssr_mode
        st.relay_mode = self.relay.mode
        st.heater = self.heater.reason
        st.boost = self.heater.boost
        st.relayplus = self.relayplus.on
        st.index = self._in_wh(e.snapshot())
        st.day_ref = self._in_wh(e.refs)

    def _in_wh(self, counts):
        """Energy counts (router.energy) with the production meter's pulses as Wh."""
        return (counts[0], counts[1], counts[2], self._pulses_wh(counts[PRODUCED]), counts[4])

    def _pulses_wh(self, pulses):
        return pulses * self.params.get("CNT_CALIB")

    def _production(self, before, now, t):
        """Production power from the pulse rate over the last minute (first to last new pulse
        in it); 0 after two minutes without a pulse."""
        st = self.state
        seen = self.pulses_seen
        if now != before:
            seen.append((t, now))
        while seen and t - seen[0][0] > (2 * PULSE_WINDOW_S if len(seen) == 1 else PULSE_WINDOW_S):
            seen.pop(0)
        if len(seen) >= 2 and seen[-1][0] > seen[0][0]:
            wh = self._pulses_wh(seen[-1][1] - seen[0][1])
            st.produced = wh * 3600 / (seen[-1][0] - seen[0][0])
        elif not seen:
            st.produced = 0.0

    def running(self):
        """MaxPV!'s ping: fresh figures (a summary within STALE_S) from a synchronised mains."""
        at = self.state.at
        return at is not None and self.state.synced and self.board.seconds() - at <= STALE_S

    # --- the interface's commands -------------------------------------------------------------
    def set_ssr_mode(self, mode):
        """STOP, FORCE or AUTO (router.status). As on the original, it ends a running boost."""
        if mode not in MODES:
            raise Refused("SSR mode must be 0 (STOP), 1 (FORCE) or 9 (AUTO)")
        if self.heater.boost:
            self.heater.boost_off()
            self.heater.note = "boost ended by an SSR mode command"
        self.ssr_mode = mode
        self._decide()
        self._save_modes()

    def set_relay_mode(self, mode):
        """STOP, FORCE or AUTO. As on the original, it disables RelayPlus until its next
        reference hour."""
        if mode not in MODES:
            raise Refused("relay mode must be 0 (STOP), 1 (FORCE) or 9 (AUTO)")
        self.relay.set_mode(mode)
        self.relay_owner = mode
        self.relayplus.manual()
        self._publish()
        self._save_modes()

    def boost_on(self):
        """Start a boost of boost_duration minutes at boost_ratio % (a running one starts
        again); an SSR in STOP or FORCE goes to AUTO, in which the boost ends (the original
        overrode the mode and left it in AUTO)."""
        cfg = self.setting
        why = self.heater.boost_on(self.board.seconds(), cfg("boost_duration"),
                                   cfg("boost_ratio"))
        if why:
            raise Refused("boost refused: " + why)
        self.heater.note = "manual boost started"
        if self.ssr_mode != AUTO:
            self.ssr_mode = AUTO
            self._save_modes()
        self._decide()

    def boost_off(self):
        if self.heater.boost:
            self.heater.note = "boost stopped"
        self.heater.boost_off()
        self._decide()

    def storage_state(self):
        """The flash's health for the API: faults since boot, the last reports."""
        s = self.store
        return {"faults": s.fault_count if s else 0,
                "recent": [{"record": n, "what": w} for n, w in s.faults] if s else []}

    def window_figures(self):
        """The last window as captured, for the self-test (selftest.py): (sample pairs, µs
        they spanned, the sample period asked for in 1/256 µs, the worst lateness of a sample
        in µs, zero crossings of the voltage seen, the tracked zero of V and of I in 1/256
        count). Its imports are here: a board that never runs the self-test keeps none of it."""
        from router import window as w
        a = self.acc
        m = self.measure
        return (a[w.N], tdiff(a[w.T1], a[w.T0]), a[w.IN_PERIOD], a[w.LATE],
                a[w.NRISE] + a[w.NFALL], m.v_mid_q8, m.i_mid_q8)

    def heater_state(self):
        """Who drives the heater and why, for the API (a dict; legionella's last_day is a local
        day number)."""
        h = self.heater
        now = self.board.seconds()
        st = self.state
        boost = None
        if h.boost:
            boost = {"kind": h.boost, "left_s": h.boost_left(now), "ratio": h.boost_ratio,
                     "burst_on": h.burst_on(now)}
            if h.boost == "energy":
                boost["target_wh"] = h.boost_target
                boost["left_wh"] = max(0, h.boost_target - st.index[ROUTED] +
                                       st.day_ref[ROUTED])
        return {"reason": h.reason, "boost": boost, "temperature": st.temperature,
                "over_temp": h.over, "keep_warm": h.keep_warm,
                "legionella": {"due": h.legionella, "running": h.legionella and h.leg_heat,
                               "hot_min_today": int(h.hot_s // 60), "last_day": h.last_hot_day},
                "grid_heat_kwh": round(h.grid_wh / 1000, 3), "note": h.note}

    def _decide(self):
        """Apply the heater's arbitration now (a command's effect is immediate)."""
        self._drive(self.heater.decide(self.board.seconds(), self.sync.locked, self.ssr_mode))
        self._publish()

    def _drive(self, mode):
        if mode != self.ctrl.ssr_mode:
            self.ctrl.set_mode(mode)

    def _save_modes(self):
        """The owner's modes (restored at boot with persist_modes) and the last hot day. A
        failed write (reported by the store) is tried again RETRY_SAVE_S later: the command
        took effect, only its survival of a reboot waits for the flash."""
        if self.store is not None:
            self.modes_unsaved = not self.store.write(
                "modes", {"ssr": self.ssr_mode, "relay": self.relay_owner,
                          "hot_day": self.heater.last_hot_day})
            self.modes_tried = self.board.seconds()

    def _load_modes(self):
        d = self.store.read("modes", lambda d: isinstance(d, dict) and d.get("ssr") in MODES
                            and d.get("relay") in MODES)
        if not d:
            return
        if self.setting("persist_modes"):
            self.ssr_mode = d["ssr"]
            self.relay_owner = d["relay"]
            self.relay.set_mode(d["relay"])
        day = d.get("hot_day")
        self.heater.last_hot_day = day if isinstance(day, int) else None

    def param_text(self, number):
        """Parameter `number` (1..16) as MaxPV! prints it."""
        return self.params.text(number)

    def params_text(self):
        """The 16 parameters in order, comma separated (allparam)."""
        return self.params.all_text()

    def set_param(self, number, text):
        """Set parameter `number` from text (',' or '.' as decimal point); live at once."""
        try:
            self.params.set(number, text)
        except ParamError as e:
            raise Refused(str(e))
        self._publish()       # CNT_CALIB rescales the produced energy

    def save_params(self):
        try:
            self.params.save()
        except ParamError as e:
            raise Refused(str(e))

    def load_params(self):
        """Back to the saved parameters; NothingSaved (and no change) if there are none."""
        if not self.params.load():
            raise NothingSaved("no saved parameters to load")
        self._publish()

    def format_params(self):
        """Parameters back to their defaults, live and saved."""
        try:
            self.params.format()
        except ParamError as e:
            raise Refused(str(e))
        self._publish()

    def save_energy(self):
        """Save the indices now. A failed write (reported by the store) is retried after
        RETRY_SAVE_S rather than SAVE_EVERY_S; the router goes on either way."""
        now = self.board.seconds()
        self.saved_at = now
        d = self.energy.to_dict()
        d["grid_heat"] = int(self.heater.grid_wh)
        if self.store is not None and not self.store.write("energy", d):
            self.saved_at = now - SAVE_EVERY_S + RETRY_SAVE_S

    def reset_energy(self):
        self.energy.reset()
        self.heater.grid_wh = 0.0
        self.save_energy()
        self._publish()

    def restart(self):
        """EcoPV's RESET: save the indices, re-initialise measurement and regulation, modes back
        to AUTO; counters and parameters are kept."""
        self.save_energy()
        self.board.ssr_off()
        self.firing = False
        self.measure.restart()
        self.sync.reset()
        self.heater.boost_off()
        self.ssr_mode = self.relay_owner = AUTO
        self.ctrl.set_mode(AUTO)
        self.relay.set_mode(AUTO)
        self._save_modes()
        self.t_prev = None
        # The next summary covers only windows after the restart.
        self.t_summary = self.board.ticks_us()
        self.routed_sum = self.frac_sum = self.win_count = 0
        # Until the mains is locked again: not running, not routing (ping says offline).
        st = self.state
        st.synced = False
        st.routed = 0.0
        st.delays = None
        st.status = (st.status & status.RELAY) | status.SYNC_LOST
        self._publish()
