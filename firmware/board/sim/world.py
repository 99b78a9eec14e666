"""Physics of the simulated house: mains, loads, PV, the SSR-fed heater and its tank.

Time is in µs (floats, on the host). The world advances one mains half-cycle at a time:
at each zero crossing it settles the half-cycle that ended (ground-truth energies, tank
temperature) and sets up the next one from the scenario (loads, PV, frequency). Within a
half-cycle, voltage and CT current are evaluated at any instant the ADC asks for, so the
samples follow the real waveforms, including the heater current chopped at the instant the
SSR actually latched.

The CT sees house loads + heater + relay load - PV (import positive).
"""
import math
from array import array

PI = math.pi
NOMINAL_V = 230.0
V_LATCH = 15.0       # the triac needs this much voltage across it to latch on a gate pulse
WATER_J_PER_K = 4186.0
RECENT = 14          # truth snapshots kept, 0.1 s apart
ZC_KEEP = 256        # zero crossings kept (2.5 s of 50 Hz mains)
SNAP = 7             # fields of a kept snapshot: t, e_grid, e_heater, e_pv, e_relay, v2, i2
COLD_WATER_C = 10.0


class Truth:
    """Ground truth, integrated over time: what a perfect meter would have measured."""

    def __init__(self):
        self.t_s = 0.0          # simulated seconds integrated
        self.e_grid = 0.0       # J, import positive
        self.e_import = 0.0     # J, half-cycles importing
        self.e_export = 0.0     # J, half-cycles exporting (positive)
        self.e_heater = 0.0     # J delivered into the SSR load
        self.e_pv = 0.0         # J produced
        self.e_relay = 0.0      # J into the relay load
        self.v2 = 0.0           # ∫ Vrms² dt
        self.i2 = 0.0           # ∫ Irms² dt (grid current)
        self.half_cycles = 0
        self.fired = 0          # half-cycles in which the heater conducted
        # Recent zero crossings (abs µs, +1 rising / -1 falling), a ring of arrays: a list of
        # tuples held ~19 kB of boxed values and churned, in the heap the firmware shares here.
        self.zc_t = array("d", [0.0] * ZC_KEEP)
        self.zc_pol = array("b", [0] * ZC_KEEP)
        self.zc_n = 0            # crossings logged since start
        # A snapshot every tenth of a second, the last RECENT of them: what "the last second"
        # means for /sim/state (a meter's reading to compare the router's report with).
        # Stored in place (no tuple per mark): in the 256 kB heap tests, a few kB of
        # snapshots held and churned were enough to starve the HTTP server.
        self.recent = array("d", [0.0] * (RECENT * SNAP))
        self.recent_k = 0
        self.recent_at = 0.0

    def log_zc(self, t, pol):
        k = self.zc_n % ZC_KEEP
        self.zc_t[k] = t
        self.zc_pol[k] = pol
        self.zc_n += 1

    def zero_crossings(self):
        """The logged zero crossings, oldest first: (abs µs, +1 rising / -1 falling)."""
        for j in range(max(0, self.zc_n - ZC_KEEP), self.zc_n):
            yield self.zc_t[j % ZC_KEEP], self.zc_pol[j % ZC_KEEP]

    def mark(self):
        if self.t_s >= self.recent_at:
            r = self.recent
            k = self.recent_k * SNAP
            r[k] = self.t_s
            r[k + 1] = self.e_grid
            r[k + 2] = self.e_heater
            r[k + 3] = self.e_pv
            r[k + 4] = self.e_relay
            r[k + 5] = self.v2
            r[k + 6] = self.i2
            self.recent_k = (self.recent_k + 1) % RECENT
            self.recent_at += 0.1

    def second_ago(self):
        """The newest snapshot (the first SNAP fields of snapshot()) at least 1 s old, or None."""
        r = self.recent
        best = None
        for k in range(0, RECENT * SNAP, SNAP):
            t = r[k]
            if 0 < t <= self.t_s - 1.0 and (best is None or t > r[best]):
                best = k
        return None if best is None else tuple(r[best:best + SNAP])

    def snapshot(self):
        return (self.t_s, self.e_grid, self.e_heater, self.e_pv, self.e_relay, self.v2, self.i2,
                self.half_cycles, self.fired)


def between(s0, s1):
    """Averages between two truth snapshots: Vrms, Irms, P_grid, P_heater, P_pv, P_relay."""
    dt = s1[0] - s0[0]
    return {
        "vrms": math.sqrt((s1[5] - s0[5]) / dt),
        "irms": math.sqrt((s1[6] - s0[6]) / dt),
        "p": (s1[1] - s0[1]) / dt,
        "p_heater": (s1[2] - s0[2]) / dt,
        "p_pv": (s1[3] - s0[3]) / dt,
        "p_relay": (s1[4] - s0[4]) / dt,
        "seconds": dt,
    }


class World:
    def __init__(self, scenario, t0_us):
        self.sc = scenario
        self.truth = Truth()
        self.t_start = t0_us
        self.pulses = []          # gate-high intervals [(t_on, t_off)] in abs µs
        self.relay_on = False
        self.tank_c = scenario.heater_t0
        self.thermostat_closed = self.tank_c < scenario.heater_t_max
        self.pv_pulses = 0        # pulse meter count on PV production
        self.on_half_cycle = None  # hook(world, p_grid, p_heater, p_surplus) for benchmarks
        self._pv_wh_acc = 0.0
        # First zero crossing a random fraction of a cycle before start (rising edge).
        f = scenario.hz_at(0)
        self.half = 5e5 / f
        self.t_zc = t0_us - self.half * 0.37
        self.pol = 1
        self._setup_half_cycle()

    # --- per half-cycle -------------------------------------------------------------------
    def _setup_half_cycle(self):
        sc = self.sc
        ts = (self.t_zc - self.t_start) * 1e-6
        st = sc.state_at(ts)
        self.state = st
        self.mains_on = st.mains_on
        self.half = 5e5 / st.hz
        self.v1 = st.v_rms * 1.41421356 if st.mains_on else 0.0
        self.harm = [(h, a * self.v1) for h, a in sc.harmonics]
        v2 = self.v1 * self.v1 / 2
        for _, a in self.harm:
            v2 += a * a / 2
        self.vrms2 = v2
        if not st.mains_on:
            self.g_res = 0.0
            self.i_sin = self.i_cos = 0.0
            self.g_heater = 0.0
            self.g_relay = 0.0
            self.p_pv = 0.0
            self._cs_key = None
            return
        # Resistive loads follow the voltage (g = P/230²); the others draw a fixed current.
        g = 0.0
        a = 0.0
        b = 0.0
        for w, pf in st.loads:
            if pf >= 0.999:
                g += w / (NOMINAL_V * NOMINAL_V)
            else:
                ipk = w / (NOMINAL_V * pf) * 1.41421356
                phi = math.acos(pf)
                a += ipk * math.cos(phi)
                b += ipk * math.sin(phi)
        self.g_res = g
        # PV inverter: constant power, current in phase with the fundamental, fed to the grid.
        self.p_pv = st.pv_w
        v1rms = self.v1 / 1.41421356
        a -= (st.pv_w / v1rms) * 1.41421356 if v1rms > 1 else 0.0
        self.i_sin = a
        self.i_cos = b
        self.g_heater = (sc.heater_w / (NOMINAL_V * NOMINAL_V)) if self.heater_powered() else 0.0
        relay = self.relay_on or st.relay_load
        self.g_relay = sc.relay_load_w / (NOMINAL_V * NOMINAL_V) if relay else 0.0
        self._cs_key = None

    def heater_powered(self):
        forced = self.state.thermostat
        if forced == "open":
            return False
        if forced == "closed":
            return True
        return self.thermostat_closed

    def _close_half_cycle(self):
        dt = self.half * 1e-6
        tr = self.truth
        v2 = self.vrms2
        p_res = self.g_res * v2
        p_relay = self.g_relay * v2
        # Fixed-current loads and PV interact with the fundamental only.
        p_fixed = self.v1 * self.i_sin / 2
        cs = self._conduction_start()
        p_heater = 0.0
        if cs is not None:
            alpha = PI * (cs - self.t_zc) / self.half
            p_heater = self.g_heater * self._tail_v2(alpha)
            tr.fired += 1
        p_grid = p_res + p_relay + p_fixed + p_heater
        tr.t_s += dt
        tr.e_grid += p_grid * dt
        if p_grid >= 0:
            tr.e_import += p_grid * dt
        else:
            tr.e_export -= p_grid * dt
        tr.e_heater += p_heater * dt
        tr.e_pv += self.p_pv * dt
        tr.e_relay += p_relay * dt
        tr.v2 += v2 * dt
        tr.i2 += self._irms2(p_res + p_relay, p_heater, cs) * dt
        tr.half_cycles += 1
        tr.mark()
        if self.on_half_cycle:
            # surplus: PV minus house loads (relay load included), what routing may take
            self.on_half_cycle(self, p_grid, p_heater, -(p_res + p_relay + p_fixed))
        # Pulse meter on PV production.
        self._pv_wh_acc += self.p_pv * dt / 3600
        cal = self.sc.pulse_wh
        while self._pv_wh_acc >= cal:
            self._pv_wh_acc -= cal
            self.pv_pulses += 1
        # Tank: heating, standing losses, thermostat with hysteresis.
        sc = self.sc
        c = sc.tank_l * WATER_J_PER_K
        self.tank_c += (p_heater * dt - sc.tank_ua * (self.tank_c - sc.ambient_c) * dt
                        - self.state.draw_w * dt) / c
        if self.tank_c < COLD_WATER_C:
            self.tank_c = COLD_WATER_C   # a draw refills with cold water, no colder
        if self.tank_c >= sc.heater_t_max:
            self.thermostat_closed = False
        elif self.tank_c <= sc.heater_t_max - sc.heater_hyst:
            self.thermostat_closed = True

    def _tail_v2(self, alpha):
        """Mean of v² over the half-cycle counting only [alpha, pi) (what a resistor fired at
        alpha takes), harmonics included: v = Σ a_h sin(hθ), integrated pairwise in closed form."""
        comps = [(1, self.v1)] + self.harm
        tot = 0.0
        for h, a in comps:
            for k, b in comps:
                d = h - k
                s_d = (PI - alpha) if d == 0 else -math.sin(d * alpha) / d
                s_s = -math.sin((h + k) * alpha) / (h + k)
                tot += a * b * (s_d - s_s) / 2
        return tot / PI

    def _irms2(self, p_res_all, p_heater, cs):
        # Mean square of the grid current over the half-cycle (cross terms of the resistive,
        # fixed and heater parts integrated on the fundamental).
        if not self.mains_on:
            return 0.0
        v2 = self.vrms2
        g = self.g_res + self.g_relay
        ia, ib = self.i_sin, self.i_cos
        m = g * g * v2 + (ia * ia + ib * ib) / 2 + g * self.v1 * ia
        if cs is not None and self.g_heater:
            gh = self.g_heater
            alpha = PI * (cs - self.t_zc) / self.half
            # ∫ over [alpha, pi] of sin², sin·cos, relative to the half-cycle
            s2 = (PI - alpha + math.sin(2 * alpha) / 2) / (2 * PI)
            sc_ = -(math.sin(alpha) ** 2) / (2 * PI)
            v1 = self.v1
            m += gh * gh * v1 * v1 * s2 + 2 * gh * v1 * ((g * v1 + ia) * s2 - ib * sc_)
        return m

    def advance_to(self, t):
        while t >= self.t_zc + self.half:
            self._close_half_cycle()
            self.t_zc += self.half
            self.pol = -self.pol
            self.truth.log_zc(self.t_zc, self.pol)
            self._prune_pulses()
            self._setup_half_cycle()

    # --- SSR --------------------------------------------------------------------------------
    def set_pulses(self, now, pulses):
        """The gate train was replaced at `now`: a pulse in progress is cut, later ones dropped."""
        kept = []
        for on, off in self.pulses:
            if on < now:
                kept.append((on, off if off < now else now))
        self.pulses = kept + pulses
        self._cs_key = None

    def gate_off(self, now):
        self.set_pulses(now, [])

    def _prune_pulses(self):
        t = self.t_zc
        if self.pulses and self.pulses[0][1] < t:
            self.pulses = [p for p in self.pulses if p[1] >= t]

    def _conduction_start(self):
        """When the triac latched in this half-cycle (abs µs), or None."""
        key = (self.t_zc, len(self.pulses), self.pulses[-1] if self.pulses else None)
        if key == self._cs_key:
            return self._cs
        cs = None
        if self.g_heater and self.v1 > V_LATCH:
            t0 = self.t_zc
            t1 = t0 + self.half
            a = math.asin(V_LATCH / self.v1) / PI * self.half
            lo = t0 + a
            hi = t1 - a
            for on, off in self.pulses:
                s = on if on > lo else lo
                e = off if off < hi else hi
                if s < e and (cs is None or s < cs):
                    cs = s
        self._cs_key = key
        self._cs = cs
        return cs

    # --- instantaneous values -------------------------------------------------------------
    def voltage(self, t):
        self.advance_to(t)
        x = PI * (t - self.t_zc) / self.half
        v = self.v1 * math.sin(x)
        for h, a in self.harm:
            v += a * math.sin(h * x)
        g = self.state.glitch
        if g and abs(x - PI / 2) < 0.05:
            v -= g
        return self.pol * v

    def current(self, t):
        v = self.voltage(t)   # also advances the world
        x = PI * (t - self.t_zc) / self.half
        i = (self.g_res + self.g_relay) * v + self.pol * (self.i_sin * math.sin(x)
                                                          - self.i_cos * math.cos(x))
        if self.g_heater:
            cs = self._conduction_start()
            if cs is not None and t >= cs:
                i += self.g_heater * v
        return i

    def set_relay(self, on):
        self.relay_on = bool(on)
