"""Scenarios are data: a JSON file per scenario in `scenarios/`, or a dict given by a test.

A scenario sets the house (mains, base loads, PV plant, water heater, relay load) and a
list of timed events. Keys (all optional, defaults below):

    start          "HH:MM" local time of day at simulated t = 0
    time_scale     1            the sun's path and the local clock run this much faster than
                                the electrical physics (240: a whole day in 6 minutes)
    mains          {"v_rms": 230, "hz": 50, "harmonics": [[3, 0.03], [5, 0.015]]}
    pv             {"peak_w": 3000, "sunrise": "07:00", "sunset": "19:00",
                    "clouds": {"seed": 1, "depth": 0.7, "mean_s": 30, "ramp_s": 3}}
    house          {"base_w": 250, "fridge": {"w": 120, "pf": 0.8, "on_s": 600, "off_s": 1200},
                    "loads": [{"w": 300, "pf": 0.7}]}
    heater         {"w": 2000, "tank_l": 200, "t0": 45, "t_max": 60, "hyst": 5,
                    "ua": 2.0, "ambient": 18}
    relay_load_w   1000
    pulse_wh       1.0          Wh per pulse of the PV production meter
    adc            {"noise_lsb": 2, "gain_v": 1.0, "gain_i": 1.0, "bias_v_mv": 1300,
                    "bias_i_mv": 1300, "nonlinear": 0, "seed": 1,
                    "i_lead_us": 0, "i_xtalk_a": 0}
                   i_lead_us: the CT's phase lead (current seen that many µs early);
                   i_xtalk_a: voltage picked up by the current channel, in amps at 230 V in
                   phase with the voltage (still there with the clamp open: a power offset)
    timing         {"spin_us": 3, "adc_us": 11, "process_ms": [1.5, 3.0],
                    "window_gap_ms": [1.5, 3.0], "gc_ms": 2, "gc_every": 4,
                    "rmt_latency_us": 35, "cpu_factor": 62}
                   process_ms: the router's own work after a window, before it fires;
                   window_gap_ms: the other tasks' time between windows (both drawn
                   uniformly in [lo, hi] each window; board.py explains the model);
                   cpu_factor: how much slower the chip runs the work charged to the
                   board (SimBoard.charge: host µs of real firmware work), board.py's
                   CPU_FACTOR by default
    events         [{"at": s, "for": s, <effect>}, ...]   ("for" absent: lasts to the end)
    wifi           the Wi-Fi networks around and the radio's delays (board/sim/radio.py)

Effects: "load": {"w", "pf"} (extra house load), "mains": "off", "hz": f, "v_rms": v,
"thermostat": "open"|"closed", "glitch": volts (a spike at each voltage peak),
"pv_factor": x (with optional "ramp_s"), "draw_w": hot water drawn (W of heat),
"stall_us": the capture is pre-empted this long once per window, "gap_ms": extra time
between windows, "bias_i_mv": shift of the current channel's bias, "relay_load": true (the
relay's load runs whatever the router's relay says: a disturbance the same for every
controller in the benchmarks).
"""
import math
from .rng import Rng


def _hours(hhmm):
    h, m = hhmm.split(":")
    return int(h) + int(m) / 60


def _get(d, key, default):
    if d is None:
        return default
    v = d.get(key)
    return default if v is None else v


class State:
    """What the world is doing at one instant (per half-cycle)."""

    def __init__(self):
        self.hz = 50.0
        self.v_rms = 230.0
        self.loads = []
        self.pv_w = 0.0
        self.reset()

    def reset(self):
        """Back to no event in force (the scenario then applies the events of the moment)."""
        self.mains_on = True
        self.thermostat = None
        self.glitch = 0.0
        self.draw_w = 0.0
        self.stall_us = 0
        self.gap_ms = 0.0
        self.bias_i_mv = 0.0
        self.relay_load = False


class Clouds:
    """Cloud cover as a sequence of levels joined by linear ramps (fast-cloud days)."""

    def __init__(self, cfg):
        self.rng = Rng(_get(cfg, "seed", 1))
        self.depth = _get(cfg, "depth", 0.7)
        self.mean_s = _get(cfg, "mean_s", 30)
        self.ramp_s = _get(cfg, "ramp_s", 3)
        self.segs = [(0.0, 1.0)]

    def factor(self, t):
        segs = self.segs
        while segs[-1][0] <= t:
            dur = -self.mean_s * math.log(1 - self.rng.uniform(0, 0.999))
            dur = max(dur, self.ramp_s)
            lvl = 1.0 if self.rng.uniform() < 0.5 else 1.0 - self.depth * self.rng.uniform(0.5, 1.0)
            segs.append((segs[-1][0] + dur, lvl))
        if len(segs) > 64:
            del segs[:32]
        for k in range(len(segs) - 1, 0, -1):
            t0, lvl = segs[k - 1]
            if t0 <= t:
                prev = segs[k - 2][1] if k >= 2 else lvl
                x = (t - t0) / self.ramp_s
                return lvl if x >= 1 else prev + (lvl - prev) * x
        return segs[0][1]


class Scenario:
    def __init__(self, d, name="custom"):
        self.name = name
        self.description = d.get("description", "")
        self.start_h = _hours(d.get("start", "12:00"))
        self.time_scale = d.get("time_scale", 1)
        m = d.get("mains")
        self.v_rms = _get(m, "v_rms", 230.0)
        self.hz = _get(m, "hz", 50.0)
        self.harmonics = [(int(h), float(a)) for h, a in _get(m, "harmonics", [])]
        pv = d.get("pv")
        self.pv_peak = _get(pv, "peak_w", 3000.0)
        self.sunrise = _hours(_get(pv, "sunrise", "07:00"))
        self.sunset = _hours(_get(pv, "sunset", "19:00"))
        cl = _get(pv, "clouds", None)
        self.clouds = Clouds(cl) if cl else None
        h = d.get("house")
        self.base_w = _get(h, "base_w", 250.0)
        self.fridge = _get(h, "fridge", None)
        self.fixed_loads = [(float(x["w"]), float(x.get("pf", 1.0))) for x in _get(h, "loads", [])]
        ht = d.get("heater")
        self.heater_w = _get(ht, "w", 2000.0)
        self.tank_l = _get(ht, "tank_l", 200.0)
        self.heater_t0 = _get(ht, "t0", 45.0)
        self.heater_t_max = _get(ht, "t_max", 60.0)
        self.heater_hyst = _get(ht, "hyst", 5.0)
        self.tank_ua = _get(ht, "ua", 2.0)
        self.ambient_c = _get(ht, "ambient", 18.0)
        self.relay_load_w = d.get("relay_load_w", 1000.0)
        self.pulse_wh = d.get("pulse_wh", 1.0)
        self.adc = d.get("adc") or {}
        self.timing = d.get("timing") or {}
        self.events = d.get("events", [])
        self.wifi = d.get("wifi") or {}     # the neighbourhood's networks (board/sim/radio.py)
        self.manual = {}     # set at run time through /sim/set: load_w, pv_factor, thermostat,
        #                      mains, clamp
        self._state = State()

    def hz_at(self, ts):
        return self.state_at(ts).hz

    def pv_at(self, ts):
        h = (self.start_h + ts * self.time_scale / 3600) % 24
        if h <= self.sunrise or h >= self.sunset:
            return 0.0
        x = math.sin(math.pi * (h - self.sunrise) / (self.sunset - self.sunrise))
        p = self.pv_peak * x ** 1.3
        if self.clouds:
            p *= self.clouds.factor(ts)
        return p

    def state_at(self, ts):
        st = self._state
        st.reset()
        st.hz = self.hz
        st.v_rms = self.v_rms
        loads = [(self.base_w, 1.0)] + self.fixed_loads
        fr = self.fridge
        if fr:
            period = fr["on_s"] + fr["off_s"]
            if (ts + fr.get("phase_s", 0)) % period < fr["on_s"]:
                loads.append((fr["w"], fr.get("pf", 0.8)))
        pv = self.pv_at(ts)
        for ev in self.events:
            at = ev["at"]
            if ts < at:
                continue
            dur = ev.get("for")
            if dur is not None and ts >= at + dur:
                continue
            if "load" in ev:
                ld = ev["load"]
                loads.append((float(ld["w"]), float(ld.get("pf", 1.0))))
            if ev.get("mains") == "off":
                st.mains_on = False
            if "hz" in ev:
                st.hz = ev["hz"]
            if "v_rms" in ev:
                st.v_rms = ev["v_rms"]
            if "thermostat" in ev:
                st.thermostat = ev["thermostat"]
            if "glitch" in ev:
                st.glitch = ev["glitch"]
            if "pv_factor" in ev:
                r = ev.get("ramp_s", 0)
                x = 1.0 if not r else min(1.0, (ts - at) / r)
                pv *= 1 + (ev["pv_factor"] - 1) * x
            if "draw_w" in ev:
                st.draw_w += ev["draw_w"]
            if "stall_us" in ev:
                st.stall_us = ev["stall_us"]
            if "gap_ms" in ev:
                st.gap_ms += ev["gap_ms"]
            if "bias_i_mv" in ev:
                st.bias_i_mv = ev["bias_i_mv"]
            if ev.get("relay_load"):
                st.relay_load = True
        m = self.manual
        if m:
            if m.get("load_w"):
                loads.append((float(m["load_w"]), 1.0))
            if "pv_factor" in m:
                pv *= m["pv_factor"]
            if m.get("thermostat") in ("open", "closed"):
                st.thermostat = m["thermostat"]
            if m.get("mains") == "off":
                st.mains_on = False
        st.loads = loads
        st.pv_w = pv
        return st


def load(name_or_path):
    """A scenario by name (file in scenarios/) or by path."""
    import json
    path = name_or_path
    if "/" not in path and not path.endswith(".json"):
        path = __file__.rsplit("/", 1)[0] + "/scenarios/" + path + ".json"
    with open(path) as f:
        d = json.load(f)
    name = path.rsplit("/", 1)[-1]
    return Scenario(d, name[:-5] if name.endswith(".json") else name)
