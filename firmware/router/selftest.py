"""The self-test's judgement: measured figures -> checks, each with its verdict and a sentence
in plain words saying what it means and what to do. Pure logic (no I/O): the runner
(selftest.py) measures, through the router's interface and the board's probe().

A check is a dict: id (stable: the web UI and the tests key on it), ok (True, False, or None
when it could not be judged), value and unit (what was measured; None when nothing was),
expected (in words), text (the sentence). `judge(m, nominal)` makes them all, in order.

`m` holds what the runner measured (missing keys or None: not measured):
  read_us       µs of one ADC read_u16 (the board's probe)
  rate, want    the capture's real sample rate over the windows watched, and the rate the
                router asked for (sample pairs per second)
  late_us       the worst lateness of a sample against its slot in those windows
  rmt_us, rmt_how   the RMT's start latency (µs; None: not measurable) and how it was found
  mid_v, mid_i  the tracked zero (mid-point) of each ADC channel, counts
  zc            the share of watched windows that saw a zero crossing of the voltage
  hz, vrms      the mains frequency and voltage of the router's last report
  irms_off, p_off   grid current (A) and power (W) with the SSR stopped
  routed_before, p_before   W routed, and grid power, just before the SSR was stopped
  relay         (p_off_1, p_on, p_off_2): grid power (W) with the relay off, on, off again
`nominal`: the board's figures (board/config.py): mid, mid_tol, rmt_us.
"""

# One ADC read may take this long. A sample is a V read, an I read and ~20 µs of loop; at
# 30 µs a read the pair takes 80 µs of the 200 µs sample period (100 pairs a 50 Hz cycle;
# 167 µs at 60 Hz), which leaves the busy-wait its margin. The chip at 240 MHz reads in
# ~10-20 µs; more is a slowed CPU (machine.freq) or another ADC configuration.
READ_MAX_US = 30
# The capture holds the period the router asks for within this. The period follows the
# mains (100 pairs a cycle); a rate 2 % off means slots missed: reads slower than planned,
# or the capture pre-empted (Wi-Fi, flash), and the power figures are off with it.
RATE_TOL = 0.02
# The firing places each gate edge nominal rmt_us after the call. An error of 25 µs moves the
# firing instant by an eighth of a sample period: at most 10 W of a 2 kW heater (0.5 %, where
# the heater's power changes fastest with the delay, at mid-phase).
RMT_TOL_US = 25
# Mains frequencies: Europe's 50 Hz, America's 60 Hz; a grid stays within 1 Hz of its own
# (0.2 Hz in normal operation; a generator may wander further).
MAINS_HZ = (50, 60)
HZ_TOL = 1.0
# A window spans one cycle, so nearly every window sees a zero crossing of the voltage
# (one, or two when it is not aligned on the zeros; a window cut short at a step, one
# half-cycle, is not counted): fewer than 90 % is no mains, or a signal too weak or too
# disturbed to follow.
ZC_MIN = 0.9
# The voltage with the board's nominal calibration: 230 V ± 15 % (EN 50160's ± 10 %, and a
# few % for the front end's spread before the calibration wizard).
V_RANGE = (196, 264)
# Below this the router takes the mains for absent (router/measure.py's MAINS_MIN_V).
V_ABSENT = 100
# With the heater stopped a house rarely draws or exports more than 30 A (7 kW). The mains
# voltage read on the current input shows ~36 A (0.6 V rms at the pin, read at 16.5 mV per
# amp): channels swapped.
CT_MAX_A = 30
# The current input's own noise reads about 0.1 A rms on the simulated board and a few
# tenths on the chip: below this the clamp sees nothing.
CT_FLOOR_A = 0.3
# A step the relay's load (a heater, a pump: hundreds of watts) makes and the house's own
# changes within the few seconds of the test (a fridge starting, ~120 W) do not.
STEP_MIN_W = 200
# Stopping the SSR takes the heater's routed power off: the import rises by it. Judged when
# at least this much was routed; the rise must be at least half of it (the house changes
# meanwhile, and the routed figure is the controller's, not a meter's).
ROUTED_MIN_W = 300

NOT_MEASURED = "was not measured (the self-test was cut short)"


def _check(id, ok, value, unit, expected, text):
    if isinstance(value, float):
        value = round(value, 3)
    return {"id": id, "ok": ok, "value": value, "unit": unit, "expected": expected,
            "text": text}


def _read(m):
    us = m.get("read_us")
    exp = "at most %d µs" % READ_MAX_US
    if us is None:
        return _check("adc_read", None, None, "µs", exp, "The ADC read time " + NOT_MEASURED + ".")
    if us <= READ_MAX_US:
        return _check("adc_read", True, us, "µs", exp,
                      "One ADC read takes %.1f µs: the capture has time for its 100 voltage "
                      "and current pairs a cycle." % us)
    return _check("adc_read", False, us, "µs", exp,
                  "One ADC read takes %.1f µs, too slow for 100 pairs a mains cycle: the power "
                  "figures will be off. Check that the CPU runs at 240 MHz (boot.py sets it) "
                  "and that nothing else uses the ADC." % us)


def _rate(m):
    rate = m.get("rate")
    want = m.get("want")
    if rate is None or not want:
        return _check("sample_rate", None, None, "pairs/s", "the rate the router asks for",
                      "The sample rate " + NOT_MEASURED + ".")
    exp = "%d pairs/s ± %d %%" % (want + 0.5, RATE_TOL * 100)
    late = m.get("late_us") or 0
    if abs(rate - want) <= RATE_TOL * want:
        return _check("sample_rate", True, rate, "pairs/s", exp,
                      "The capture samples %d voltage and current pairs a second, as asked "
                      "(the worst sample was %d µs late)." % (rate + 0.5, late))
    return _check("sample_rate", False, rate, "pairs/s", exp,
                  "The capture samples %d pairs a second where %d were asked (the worst sample "
                  "was %d µs late): it misses its slots, so power and energy are off. A slow "
                  "ADC read (above) or a task holding the processor does this: report it with "
                  "this page." % (rate + 0.5, want + 0.5, late))


def _rmt(m, nominal):
    us = m.get("rmt_us")
    how = m.get("rmt_how") or ""
    want = nominal["rmt_us"]
    exp = "%d ± %d µs (board/config.py's RMT_LATENCY_US)" % (want, RMT_TOL_US)
    if us is None:
        return _check("rmt_latency", None, None, "µs", exp,
                      "The gate's start latency could not be measured: %s. Firing then relies "
                      "on the assumed %d µs." % (how or NOT_MEASURED, want))
    if abs(us - want) <= RMT_TOL_US:
        return _check("rmt_latency", True, us, "µs", exp,
                      "The gate pulse starts %.0f µs after it is queued (%s), close to the "
                      "%d µs the firing assumes." % (us, how, want))
    return _check("rmt_latency", False, us, "µs", exp,
                  "The gate pulse starts %.0f µs after it is queued (%s), not the %d µs the "
                  "firing assumes: the heater gets a little more or less than the router "
                  "means. Set RMT_LATENCY_US in board/config.py to %.0f and report it with "
                  "your board's model." % (us, how, want, us))


def _mid(id, name, what, counts, nominal):
    mid = nominal["mid"]
    tol = nominal["mid_tol"]
    exp = "%d ± %d counts" % (mid, tol)
    if counts is None:
        return _check(id, None, None, "counts", exp, "The %s mid-point %s." % (name, NOT_MEASURED))
    if abs(counts - mid) <= tol:
        return _check(id, True, counts, "counts", exp,
                      "The %s input rests at %.0f counts, near the middle of the ADC's "
                      "range as designed: its bias is right." % (name, counts))
    side = "low" if counts < mid else "high"
    return _check(id, False, counts, "counts", exp,
                  "The %s input rests at %.0f counts, too %s: its bias divider is not what "
                  "the board needs (%s). Check the two resistors and the capacitor of the "
                  "bias, and the 3.3 V supply (docs/hardware.md)." % (name, counts, side, what))


def _zc(m):
    zc = m.get("zc")
    hz = m.get("hz") or 0.0
    exp = "zero crossings in %d %% of windows, 50 or 60 Hz ± %.0f" % (ZC_MIN * 100, HZ_TOL)
    if zc is None:
        return _check("zero_crossings", None, None, "Hz", exp, "The zero crossings " + NOT_MEASURED + ".")
    if zc < ZC_MIN:
        return _check("zero_crossings", False, hz, "Hz", exp,
                      "The voltage input shows zero crossings in only %d %% of the windows: "
                      "the board does not see the mains. Is the voltage transformer plugged "
                      "in and the mains on? Without them the router never fires."
                      % (zc * 100 + 0.5))
    near = [f for f in MAINS_HZ if abs(hz - f) <= HZ_TOL]
    if near:
        return _check("zero_crossings", True, hz, "Hz", exp,
                      "The mains' zero crossings are there, at %.2f Hz: the router can "
                      "follow them and fire in step." % hz)
    return _check("zero_crossings", False, hz, "Hz", exp,
                  "Zero crossings are there but at %.2f Hz, which no grid runs at: the voltage "
                  "input sees something else than the mains (a disturbed signal, the current "
                  "clamp's signal if the inputs are swapped)." % hz)


def _volts(m):
    v = m.get("vrms")
    exp = "%d to %d V" % V_RANGE
    if v is None:
        return _check("mains_voltage", None, None, "V", exp, "The mains voltage " + NOT_MEASURED + ".")
    if V_RANGE[0] <= v <= V_RANGE[1]:
        return _check("mains_voltage", True, v, "V", exp,
                      "The mains reads %.1f V: the voltage input is wired and scaled right "
                      "(the calibration wizard makes it exact)." % v)
    if v < V_ABSENT and (m.get("zc") or 0) >= ZC_MIN:
        why = ("a small signal with zero crossings: most likely the current clamp on the "
               "voltage input and the transformer on the current input (swapped). Swap the "
               "two plugs (docs/hardware.md)")
    elif v < V_ABSENT:
        why = "no mains at the voltage input: plug in the transformer, check the mains"
    else:
        why = ("the wrong scale: another transformer or divider than the board's, or the "
               "wrong mains (the board is made for 230 V). Check docs/hardware.md, then run "
               "the calibration wizard")
    return _check("mains_voltage", False, v, "V", exp, "The mains reads %.1f V: %s." % (v, why))


def _mains(m):
    return (m.get("vrms") or 0) >= V_ABSENT and (m.get("zc") or 0) >= ZC_MIN


def _step(m):
    """The relay's step (W), from its two edges (off -> on, on -> off): the smaller of them,
    so a house load that starts or stops meanwhile (a kettle) does not pass for the relay's;
    0 when the edges disagree in sign (the house changed more than the relay did)."""
    r = m.get("relay")
    if not r:
        return None
    up = r[1] - r[0]
    down = r[1] - r[2]
    if (up > 0) != (down > 0):
        return 0.0
    return up if abs(up) < abs(down) else down


def _ct(m):
    a = m.get("irms_off")
    exp = "the house's own current, under %d A, with the heater stopped" % CT_MAX_A
    if a is None:
        return _check("ct_idle", None, None, "A", exp, "The current with the SSR stopped " + NOT_MEASURED + ".")
    if a > CT_MAX_A:
        return _check("ct_idle", False, a, "A", exp,
                      "With the heater stopped the current input reads %.1f A, more than a "
                      "house draws: it is most likely the mains voltage, i.e. the transformer on "
                      "the current input and the clamp on the voltage input (swapped). Swap "
                      "the two plugs (docs/hardware.md)." % a)
    if not _mains(m):
        return _check("ct_idle", None, a, "A", exp,
                      "Without the mains voltage (see above) the router measures no power, so "
                      "the current clamp cannot be judged (%.2f A)." % a)
    step = _step(m)
    if a < CT_FLOOR_A and (step is None or abs(step) < STEP_MIN_W):
        return _check("ct_idle", False, a, "A", exp,
                      "The current input reads %.2f A, its own noise, and did not move when the "
                      "relay switched: the clamp sees no current. Is it closed (clicked shut) "
                      "around the cable, on the phase wire alone, and its plug in?" % a)
    routed = m.get("routed_before") or 0
    if routed >= ROUTED_MIN_W and m.get("p_off") is not None:
        drop = m["p_before"] - m["p_off"]     # the heater's draw, gone from the import
        if drop < -routed / 2:
            return _check("ct_idle", False, a, "A", exp,
                          "Stopping the SSR (%.0f W routed) raised the grid power by %.0f W "
                          "instead of lowering it: the clamp is on backwards. Turn it round "
                          "(its arrow toward the house)." % (routed, -drop))
        if drop < routed / 2:
            return _check("ct_idle", False, a, "A", exp,
                          "Stopping the SSR (%.0f W routed) changed the grid power by only "
                          "%.0f W: the clamp is not around the cable that feeds the heater and "
                          "the house (put it on the grid's incoming phase), or the SSR did not "
                          "stop (a shorted SSR keeps the heater on)." % (routed, -drop))
        return _check("ct_idle", True, a, "A", exp,
                      "With the SSR stopped the heater's %.0f W left the grid power (-%.0f W) "
                      "and %.2f A remain, the house's own: the SSR stops and the clamp sees "
                      "the heater." % (routed, drop, a))
    return _check("ct_idle", True, a, "A", exp,
                  "With the SSR stopped %.2f A remain, the house's own draw or export: the "
                  "current input reads a plausible current." % a)


def _relay(m):
    step = _step(m)
    exp = "a step of at least %d W when the relay switches a load" % STEP_MIN_W
    if step is None:
        return _check("relay", None, None, "W", exp, "The relay " + NOT_MEASURED + ".")
    if not _mains(m):
        return _check("relay", None, step, "W", exp,
                      "The relay was switched off, on and off, but without the mains nothing "
                      "it switches can be seen.")
    if step >= STEP_MIN_W:
        return _check("relay", True, step, "W", exp,
                      "The relay was switched off, on and off: its load took %.0f W from the "
                      "grid while on. Relay, load and clamp all work." % step)
    if step <= -STEP_MIN_W:
        return _check("relay", False, step, "W", exp,
                      "Switching the relay on lowered the grid power by %.0f W: the clamp is "
                      "on backwards. Turn it round (its arrow toward the house)." % -step)
    if (m.get("irms_off") or 0) < CT_FLOOR_A:
        return _check("relay", None, step, "W", exp,
                      "The relay was switched off, on and off, but the clamp sees no current "
                      "(see the current check), so its load cannot be seen.")
    return _check("relay", None, step, "W", exp,
                  "The relay was switched off, on and off and the grid power moved by %.0f W "
                  "only: no load is on the relay, the clamp does not see it, or the house "
                  "changed meanwhile. If a load is wired to the relay, listen for its click, "
                  "check its wiring and run the test again." % step)


def judge(m, nominal):
    """Every check, in the order the report shows them."""
    return [
        _read(m),
        _rate(m),
        _rmt(m, nominal),
        _mid("adc_mid_v", "voltage", "about 1.3 V at the pin", m.get("mid_v"), nominal),
        _mid("adc_mid_i", "current", "about 1.3 V at the pin", m.get("mid_i"), nominal),
        _zc(m),
        _volts(m),
        _ct(m),
        _relay(m),
    ]


def summary(checks):
    """One sentence over them all."""
    bad = [c["id"] for c in checks if c["ok"] is False]
    unknown = [c["id"] for c in checks if c["ok"] is None]
    if bad:
        text = "%d of %d checks failed (%s): read each one's sentence." % (
            len(bad), len(checks), ", ".join(bad))
    else:
        text = "All the checks that could be judged passed."
    if unknown:
        text += " Not judged: %s." % ", ".join(unknown)
    return text
