"""The MaxPV! data list: one table for numbering, names and exact text formats
(`/api/get?data=NN`, `alldata`), and the words of ssrstate / relaystate.

Each row: (v3.1 number, 3.60 number, name, unit, formatter(state) -> str), over the router's
State (realtime.py); a number is None where that layout has no such field. Two numberings,
chosen by the configuration key `api_layout` (LAYOUTS, derived from the table):

- "3.1" (the default): 1-26 are v3.1's, in its order (day references at 23-26); extra
  values come after 26, never renumbering what clients read by position. `alldata` is 1-26;
  `extended` (the web UI's read) adds the extras, always in this numbering.
- "3.60": the original MaxPV! 3.60's 29 fields: 1-22 as v3.1, 23 the relay on-time index,
  24 the tank temperature in whole degrees, 25-28 the day references of 9-12, 29 the relay
  minutes' day reference; 30 and beyond are this firmware's extras. `alldata` is 1-29.

Every formatter gives a value in its format from the router's first instant on: a client
that parses by position never meets an empty field.
"""
from router import status
from router.status import STOP, FORCE
from router.energy import ROUTED, IMPORTED, EXPORTED, PRODUCED, RELAY_MIN


def _kwh(wh):
    return "%.3f" % (wh / 1000)


def _delay(st, k):
    d = st.delays
    return "N/A" if d is None else "%.2f" % (d[k] / 1000)


def _uptime(st):
    s = int(st.uptime)
    return "%d:%02d:%02d:%02d" % (s // 86400, s // 3600 % 24, s // 60 % 60, s % 60)


def _temp(st, k=False):
    """-99 without a (plausible: the router keeps the original's 0 < t < 95) reading; k:
    truncated to whole degrees, as 3.60."""
    t = st.temperature
    if t is None:
        return "-99"
    return "%d" % int(t) if k else "%.1f" % t


TABLE = (
    (1, 1, "Vrms", "V", lambda st: "%.1f" % st.vrms),
    (2, 2, "Irms", "A", lambda st: "%.3f" % st.irms),
    (3, 3, "active power", "W", lambda st: "%.1f" % st.p),
    (4, 4, "apparent power", "VA", lambda st: "%.1f" % st.s),
    (5, 5, "routed power", "W", lambda st: "%.1f" % st.routed),
    (6, 6, "imported power", "W", lambda st: "%.1f" % (st.p if st.p > 0 else 0.0)),
    (7, 7, "exported power", "W", lambda st: "%.1f" % (-st.p if st.p < 0 else 0.0)),
    (8, 8, "cos phi", "", lambda st: "nan" if st.s <= 0 else "%.4f" % st.cosphi),
    (9, 9, "routed energy index", "kWh", lambda st: _kwh(st.index[ROUTED])),
    (10, 10, "imported energy index", "kWh", lambda st: _kwh(st.index[IMPORTED])),
    (11, 11, "exported energy index", "kWh", lambda st: _kwh(st.index[EXPORTED])),
    (12, 12, "produced energy index (pulse meter)", "kWh", lambda st: _kwh(st.index[PRODUCED])),
    (13, 13, "produced power (pulse meter)", "W", lambda st: "%.1f" % st.produced),
    (14, 14, "SSR mode (0 STOP, 1 FORCE, 9 AUTO)", "", lambda st: "%d" % st.ssr_mode),
    (15, 15, "relay mode (0 STOP, 1 FORCE, 9 AUTO)", "", lambda st: "%d" % st.relay_mode),
    (16, 16, "SSR firing delay, min", "ms", lambda st: _delay(st, 0)),
    (17, 17, "SSR firing delay, mean", "ms", lambda st: _delay(st, 1)),
    (18, 18, "SSR firing delay, max", "ms", lambda st: _delay(st, 2)),
    (19, 19, "mid-point (bias) voltage", "V", lambda st: "%.3f" % st.bias_v),
    (20, 20, "status byte (bit 7..0)", "", lambda st: "{:08b}".format(st.status)),
    (21, 21, "router uptime", "D:HH:MM:SS", _uptime),
    (22, 22, "samples per second", "", lambda st: "%d" % st.samples),
    (23, 25, "day-start reference, routed energy", "kWh", lambda st: _kwh(st.day_ref[ROUTED])),
    (24, 26, "day-start reference, imported energy", "kWh", lambda st: _kwh(st.day_ref[IMPORTED])),
    (25, 27, "day-start reference, exported energy", "kWh", lambda st: _kwh(st.day_ref[EXPORTED])),
    (26, 28, "day-start reference, produced energy", "kWh", lambda st: _kwh(st.day_ref[PRODUCED])),
    # --- beyond v3.1
    (27, 23, "relay on-time index", "min", lambda st: "%d" % st.index[RELAY_MIN]),
    (28, None, "water tank temperature", "°C", _temp),
    (29, 30, "resistor absent (thermostat open)", "0/1", lambda st: "1" if st.load_absent else "0"),
    (30, 31, "storage faults since boot (/api/get?storage says which)", "",
     lambda st: "%d" % st.storage_faults),
    # --- 3.60's own
    (None, 24, "water tank temperature", "°C", lambda st: _temp(st, True)),   # whole degrees
    (None, 29, "day-start reference, relay on-time", "min", lambda st: "%d" % st.day_ref[RELAY_MIN]),
)


# api_layout -> (the rows numbered in its column, in that order: numbers 1..N, checked by the
# tests; how many of them `alldata` gives). (Names are few on purpose: each new one is
# interned in RAM on the chip, docs/architecture.md "The network".)
LAYOUTS = {name: (tuple(r for n in range(1, len(TABLE) + 1) for r in TABLE if r[k] == n), top)
           for k, name, top in ((0, "3.1", 26), (1, "3.60", 29))}
COUNT = len(LAYOUTS["3.1"][0])    # v3.1 numbering: 1..COUNT


def count(api_layout="3.1"):
    """The highest data number of a layout."""
    return len(LAYOUTS[api_layout][0])


def value(st, number, api_layout="3.1"):
    """Data `number` (1..count(api_layout)) in that layout's numbering."""
    return LAYOUTS[api_layout][0][number - 1][4](st)


def alldata(st, extended=False, api_layout="3.1"):
    """The layout's alldata (3.1: 26 fields, 3.60: 29); `extended`: every field of the v3.1
    numbering instead, whatever the layout (the web UI's one read a second)."""
    rows, n = LAYOUTS["3.1" if extended else api_layout]
    return ",".join(rows[k][4](st) for k in range(len(rows) if extended else n))


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
