"""The MaxPV! v3.1 data list: one table for numbering, names and exact text formats
(`/api/get?data=NN`, `alldata`), and the words of ssrstate / relaystate. Numbers 1-26 are
v3.1's, in its order (day references at 23-26); extra values come after 26, never
renumbering what clients read by position.

Each row: (number, name, unit, formatter(state) -> str), over the router's State
(realtime.py). Every formatter gives a value in its format from the router's first
instant on: a client that parses by position never meets an empty field.
"""
from router import status
from router.status import STOP, FORCE
from router.energy import ROUTED, IMPORTED, EXPORTED, PRODUCED, RELAY_MIN

ALLDATA = 26      # v3.1's alldata: fields 1..26


def _kwh(wh):
    return "%.3f" % (wh / 1000)


def _delay(st, k):
    d = st.delays
    return "N/A" if d is None else "%.2f" % (d[k] / 1000)


def _cos(st):
    return "nan" if st.s <= 0 else "%.4f" % st.cosphi


def _uptime(st):
    s = int(st.uptime)
    return "%d:%02d:%02d:%02d" % (s // 86400, s // 3600 % 24, s // 60 % 60, s % 60)


def _temp(st):
    t = st.temperature
    return "-99" if t is None else "%.1f" % t


TABLE = (
    (1, "Vrms", "V", lambda st: "%.1f" % st.vrms),
    (2, "Irms", "A", lambda st: "%.3f" % st.irms),
    (3, "active power", "W", lambda st: "%.1f" % st.p),
    (4, "apparent power", "VA", lambda st: "%.1f" % st.s),
    (5, "routed power", "W", lambda st: "%.1f" % st.routed),
    (6, "imported power", "W", lambda st: "%.1f" % (st.p if st.p > 0 else 0.0)),
    (7, "exported power", "W", lambda st: "%.1f" % (-st.p if st.p < 0 else 0.0)),
    (8, "cos phi", "", _cos),
    (9, "routed energy index", "kWh", lambda st: _kwh(st.index[ROUTED])),
    (10, "imported energy index", "kWh", lambda st: _kwh(st.index[IMPORTED])),
    (11, "exported energy index", "kWh", lambda st: _kwh(st.index[EXPORTED])),
    (12, "produced energy index (pulse meter)", "kWh", lambda st: _kwh(st.index[PRODUCED])),
    (13, "produced power (pulse meter)", "W", lambda st: "%.1f" % st.produced),
    (14, "SSR mode (0 STOP, 1 FORCE, 9 AUTO)", "", lambda st: "%d" % st.ssr_mode),
    (15, "relay mode (0 STOP, 1 FORCE, 9 AUTO)", "", lambda st: "%d" % st.relay_mode),
    (16, "SSR firing delay, min", "ms", lambda st: _delay(st, 0)),
    (17, "SSR firing delay, mean", "ms", lambda st: _delay(st, 1)),
    (18, "SSR firing delay, max", "ms", lambda st: _delay(st, 2)),
    (19, "mid-point (bias) voltage", "V", lambda st: "%.3f" % st.bias_v),
    (20, "status byte (bit 7..0)", "", lambda st: "{:08b}".format(st.status)),
    (21, "router uptime", "D:HH:MM:SS", _uptime),
    (22, "samples per second", "", lambda st: "%d" % st.samples),
    (23, "day-start reference, routed energy", "kWh", lambda st: _kwh(st.day_ref[ROUTED])),
    (24, "day-start reference, imported energy", "kWh", lambda st: _kwh(st.day_ref[IMPORTED])),
    (25, "day-start reference, exported energy", "kWh", lambda st: _kwh(st.day_ref[EXPORTED])),
    (26, "day-start reference, produced energy", "kWh", lambda st: _kwh(st.day_ref[PRODUCED])),
    # --- beyond v3.1
    (27, "relay on-time index", "min", lambda st: "%d" % st.index[RELAY_MIN]),
    (28, "water tank temperature", "°C", _temp),
    (29, "resistor absent (thermostat open)", "0/1", lambda st: "1" if st.load_absent else "0"),
)

COUNT = len(TABLE)


def value(st, number):
    return TABLE[number - 1][3](st)


def alldata(st, extended=False):
    """v3.1's 26 fields; `extended`: every field of the table (the web UI's one read a second)."""
    return ",".join(TABLE[k][3](st) for k in range(COUNT if extended else ALLDATA))


def _mode_word(mode, auto):
    return "STOP" if mode == STOP else ("FORCE" if mode == FORCE else auto)


def ssr_state(st):
    """STOP, FORCE, or in AUTO: MAX (routing at 100 %), ON (routing) or OFF."""
    b = st.status
    return _mode_word(st.ssr_mode, "MAX" if b & status.FULL else
                      ("ON" if b & status.ROUTING else "OFF"))


def relay_state(st):
    """STOP, FORCE, or in AUTO: ON or OFF."""
    return _mode_word(st.relay_mode, "ON" if st.relay_on else "OFF")
