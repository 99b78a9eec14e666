"""The MaxPV! v3.1 data list: one table for numbering, names and exact text formats
(`/api/get?data=NN`, `alldata`). Numbers 1-26 are v3.1's, in its order (day references at
23-26); extra values come after 26, never renumbering what clients read by position.

Each row: (number, name, unit, formatter(view) -> str). `view` is a View over the router.
"""

ALLDATA = 26      # v3.1's alldata: fields 1..26


def _kwh(wh):
    return "%.3f" % (wh / 1000)


def _delay(v, k):
    d = v.sum.delays
    return "N/A" if d is None else "%.2f" % (d[k] / 1000)


def _cos(v):
    r = v.last
    return "nan" if r.s <= 0 else "%.4f" % r.cosphi


def _uptime(v):
    s = int(v.sum.uptime)
    return "%d:%02d:%02d:%02d" % (s // 86400, s // 3600 % 24, s // 60 % 60, s % 60)


def _ref(v, k, produced=False):
    refs = v.energy.refs
    if refs is None:
        return ""
    return _kwh(refs[k] * v.cnt_calib() if produced else refs[k])


def _temp(v):
    t = v.sum.temperature
    return "-99" if t is None else "%.1f" % t


TABLE = (
    (1, "Vrms", "V", lambda v: "%.1f" % v.last.vrms),
    (2, "Irms", "A", lambda v: "%.3f" % v.last.irms),
    (3, "active power", "W", lambda v: "%.1f" % v.last.p),
    (4, "apparent power", "VA", lambda v: "%.1f" % v.last.s),
    (5, "routed power", "W", lambda v: "%.1f" % v.sum.routed),
    (6, "imported power", "W", lambda v: "%.1f" % (v.last.p if v.last.p > 0 else 0.0)),
    (7, "exported power", "W", lambda v: "%.1f" % (-v.last.p if v.last.p < 0 else 0.0)),
    (8, "cos phi", "", _cos),
    (9, "routed energy index", "kWh", lambda v: _kwh(v.energy.wh[0])),
    (10, "imported energy index", "kWh", lambda v: _kwh(v.energy.wh[1])),
    (11, "exported energy index", "kWh", lambda v: _kwh(v.energy.wh[2])),
    (12, "produced energy index (pulse meter)", "kWh",
     lambda v: _kwh(v.energy.pulses * v.cnt_calib())),
    (13, "produced power (pulse meter)", "W", lambda v: "%.1f" % v.sum.produced),
    (14, "SSR mode (0 STOP, 1 FORCE, 9 AUTO)", "", lambda v: "%d" % v.ssr_mode()),
    (15, "relay mode (0 STOP, 1 FORCE, 9 AUTO)", "", lambda v: "%d" % v.relay_mode()),
    (16, "SSR firing delay, min", "ms", lambda v: _delay(v, 0)),
    (17, "SSR firing delay, mean", "ms", lambda v: _delay(v, 1)),
    (18, "SSR firing delay, max", "ms", lambda v: _delay(v, 2)),
    (19, "mid-point (bias) voltage", "V", lambda v: "%.3f" % v.bias_volts()),
    (20, "status byte (bit 7..0)", "", lambda v: "{:08b}".format(v.sum.status)),
    (21, "router uptime", "D:HH:MM:SS", _uptime),
    (22, "samples per second", "", lambda v: "%d" % v.last.samples),
    (23, "day-start reference, routed energy", "kWh", lambda v: _ref(v, 0)),
    (24, "day-start reference, imported energy", "kWh", lambda v: _ref(v, 1)),
    (25, "day-start reference, exported energy", "kWh", lambda v: _ref(v, 2)),
    (26, "day-start reference, produced energy", "kWh", lambda v: _ref(v, 3, True)),
    # --- beyond v3.1
    (27, "relay on-time index", "min", lambda v: "%d" % v.energy.snapshot()[4]),
    (28, "water tank temperature", "°C", _temp),
    (29, "resistor absent (thermostat open)", "0/1", lambda v: "1" if v.sum.load_absent else "0"),
)

COUNT = len(TABLE)


def value(view, number):
    return TABLE[number - 1][3](view)


def alldata(view, extended=False):
    """v3.1's 26 fields; `extended`: every field of the table (the web UI's one read a second)."""
    return ",".join(TABLE[k][3](view) for k in range(COUNT if extended else ALLDATA))
