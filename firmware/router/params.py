"""The 16 router parameters: one table, from which validation, `allparam`, the web forms
and the docs are derived.

Numbers, names and meanings are EcoPV's (MaxPV! clients address them by number). Where the
ESP32 front end changes a unit, the range and the number of decimals follow the new unit:
V_CALIB (volts per 12-bit count, ~0.31 nominal) and P_CALIB (VA per count², ~0.015) print
with enough decimals to hold a calibration to better than 0.1 %.

Like the original's EEPROM there are live values (in force now) and saved values (on flash):
saveparam stores the live values, loadparam brings the saved ones back, format goes back to
the defaults. Unlike the original, every change applies at once: nothing waits for a restart.
Values out of range are refused (never clamped), and a refused change changes nothing.
"""
from router.measure import V_CALIB_RANGE, P_CALIB_RANGE, PHASE_CALIB_RANGE

# (number, name, unit, default, min, max, decimals, help)
# default None: given by the board (its nominal analog front end).
TABLE = (
    (1, "V_CALIB", "V/count", None, V_CALIB_RANGE[0], V_CALIB_RANGE[1], 5,
     "Voltage calibration: volts per ADC count"),
    (2, "P_CALIB", "VA/count²", None, P_CALIB_RANGE[0], P_CALIB_RANGE[1], 6,
     "Power calibration: VA per count² (current calibration = P_CALIB / V_CALIB)"),
    (3, "PHASE_CALIB", "1/16 sample", None, PHASE_CALIB_RANGE[0], PHASE_CALIB_RANGE[1], 0,
     "Phase correction: 16 = none; each step moves the current 1/16 of a sample"),
    (4, "P_OFFSET", "W", 0, -100, 100, 0,
     "Power offset: subtracted from the measured import"),
    (5, "P_RESISTANCE", "W", 2000, 100, 10000, 0,
     "Power of the water-heater resistor at 230 V"),
    (6, "P_MARGIN", "W", 10, -2000, 2000, 0,
     "Grid import the regulation aims at (negative: export allowed)"),
    (7, "GAIN_P", "", 8, 0, 1000, 0,
     "Share of the measured error corrected at once (8 = all of it)"),
    (8, "GAIN_I", "", 45, 0, 1000, 0,
     "Trend anticipation during fast PV or load ramps (45 = nominal, 0 = off)"),
    (9, "E_RESERVE", "J", 5, 0, 200, 0,
     "Energy to export before routing starts"),
    (10, "P_DIV2_ACTIVE", "W", 1000, 0, 9999, 0,
     "Surplus that turns the secondary relay on"),
    (11, "P_DIV2_IDLE", "W", 200, 0, 9999, 0,
     "Grid import that turns the secondary relay off"),
    (12, "T_DIV2_ON", "min", 5, 0, 240, 0,
     "Minimum on time of the secondary relay"),
    (13, "T_DIV2_OFF", "min", 5, 0, 240, 0,
     "Minimum off time of the secondary relay"),
    (14, "T_DIV2_TC", "min", 1, 0, 60, 0,
     "Time constant of the power averages the relay decides on"),
    (15, "CNT_CALIB", "Wh/pulse", 1.0, 0, 1000, 3,
     "Energy per pulse of the production meter"),
    (16, "P_INSTALLPV", "Wp", 3000, 100, 30000, 0,
     "Peak power of the PV installation (informative: the load is checked by measurement)"),
)

COUNT = len(TABLE)
BY_NAME = {row[1]: row for row in TABLE}


class ParamError(ValueError):
    pass


def row(number):
    if not 1 <= number <= COUNT:
        raise ParamError("no parameter %s (1..%d)" % (number, COUNT))
    return TABLE[number - 1]


def parse(number, text):
    """Parse a value for parameter `number` from text ('.' or ',' decimal). Raises ParamError
    with a message that says what is wrong; accepts only values within the range."""
    r = row(number)
    s = str(text).strip().replace(",", ".")
    if "_" in s:
        raise ParamError("%s: '%s' is not a number" % (r[1], text))
    try:
        v = float(s)
    except ValueError:
        raise ParamError("%s: '%s' is not a number" % (r[1], text))
    if v != v or v in (float("inf"), float("-inf")):
        raise ParamError("%s: '%s' is not a number" % (r[1], text))
    if v == 0:
        v = 0.0           # not -0.0, which would print as "-0.000"
    if r[6] == 0:
        if v != int(v):
            raise ParamError("%s takes a whole number, not %s" % (r[1], s))
        v = int(v)
    if not r[4] <= v <= r[5]:
        raise ParamError("%s must be within %s..%s %s, not %s" % (r[1], fmt_value(r, r[4]),
                                                                 fmt_value(r, r[5]), r[2], s))
    return v


def fmt_value(r, v):
    if r[6] == 0:
        return "%d" % v
    return "%.*f" % (r[6], v)


class Params:
    def __init__(self, board_defaults, store=None):
        """board_defaults: {name: value} for the board-dependent defaults (calibration)."""
        self.defaults = [board_defaults[r[1]] if r[3] is None else r[3] for r in TABLE]
        self.store = store
        self.values = list(self.defaults)
        self.listeners = []
        saved = self._read_saved()
        if saved:
            self.values = saved

    # --- reading --------------------------------------------------------------------------
    def get(self, name):
        return self.values[BY_NAME[name][0] - 1]

    def text(self, number):
        return fmt_value(row(number), self.values[number - 1])

    def all_text(self):
        return ",".join(self.text(n) for n in range(1, COUNT + 1))

    # --- changing -------------------------------------------------------------------------
    def set(self, number, text):
        """Validate and apply at once (live). Raises ParamError and changes nothing if refused."""
        v = parse(number, text)
        self.values[number - 1] = v
        self._changed()
        return v

    def save(self):
        if self.store is None:
            raise ParamError("no storage")
        if not self.store.write("params", {"v": 1, "values": list(self.values)}):
            raise ParamError("the parameters could not be saved (storage fault; see the log)")

    def load(self):
        """Bring back the saved values. Without saved values nothing changes (returns False)."""
        saved = self._read_saved()
        if not saved:
            return False
        self.values = saved
        self._changed()
        return True

    def format(self):
        """Back to the defaults, live and saved; ParamError (and no change) if the flash
        would not erase the saved ones: they would come back at the next boot."""
        if self.store is not None and not self.store.remove("params"):
            raise ParamError("the saved parameters could not be erased (storage fault; see the"
                             " log): unchanged")
        self.values = list(self.defaults)
        self._changed()

    def _read_saved(self):
        """The saved values; a saved set that does not validate is refused as a whole (the
        store then sets it aside and offers the previous one)."""
        if self.store is None:
            return None
        return _parse_saved(self.store.read("params", lambda d: _parse_saved(d) is not None))

    def _changed(self):
        for f in self.listeners:
            f(self)


def _parse_saved(d):
    try:
        vals = d["values"] if d.get("v") == 1 else None
    except (AttributeError, KeyError, TypeError):
        return None
    if not isinstance(vals, list) or len(vals) != COUNT:
        return None
    out = []
    for n, v in enumerate(vals, 1):
        try:
            out.append(parse(n, repr(v)))
        except ParamError:
            return None
    return out
