#!/usr/bin/env python3
"""Write the documentation that is derived from the firmware's tables (one table, not five
copies): docs/parameters.md from router/params.py. `tools/docs.py --check` fails if the
committed docs are out of date (a test runs it)."""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "host_tests", "cpython"))   # `micropython` under CPython
sys.path.insert(0, os.path.join(ROOT, "firmware"))

from router import params  # noqa: E402
from board import config  # noqa: E402

BOARD = {"V_CALIB": config.V_CALIB, "P_CALIB": config.P_CALIB, "PHASE_CALIB": config.PHASE_CALIB}


def parameters_md():
    p = params.Params(BOARD)
    lines = [
        "# Router parameters",
        "",
        "The 16 parameters of EcoPV/MaxPV!, by number (`/api/get?param=NN`, "
        "`/api/set?param=NN&value=V`). Generated from `firmware/router/params.py` by "
        "`tools/docs.py`; do not edit by hand.",
        "",
        "Values out of range are refused (not clamped) and change nothing; a change applies at "
        "once. `saveparam` stores the live values on flash, `loadparam` brings the saved ones "
        "back, `format` returns to the defaults. Calibration defaults are the reference "
        "board's nominal values (docs/hardware.md).",
        "",
        "| # | name | unit | default | min | max | meaning |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in params.TABLE:
        n, name, unit, _, lo, hi, _, help_ = r
        lines.append("| %d | %s | %s | %s | %s | %s | %s |" % (
            n, name, unit or "-", p.text(n), params.fmt_value(r, lo), params.fmt_value(r, hi), help_))
    lines += [
        "",
        "## Differences from EcoPV",
        "",
        "- V_CALIB and P_CALIB are per 12-bit ESP32 ADC count (EcoPV: 10-bit AVR counts), "
        "hence other ranges and more decimals; their roles are the same (current calibration "
        "= P_CALIB / V_CALIB).",
        "- PHASE_CALIB moves the current by (16 - PHASE_CALIB)/16 of a sample period "
        "(12.5 µs at 50 Hz); 17 compensates the current being read one conversion after the "
        "voltage.",
        "- P_OFFSET defaults to 0: each window removes each channel's own offset.",
        "- GAIN_P and GAIN_I keep their defaults and their role as tuning knobs of a controller "
        "in physical units (firmware/router/control.py): GAIN_P / 8 is the share of the "
        "measured error corrected per window (8: all of it), GAIN_I / 45 scales the "
        "anticipation of PV and load ramps (45: nominal, 0: off).",
        "- Every parameter applies at once; EcoPV needed a restart for P_MARGIN, P_OFFSET, "
        "P_CALIB and E_RESERVE.",
        "",
    ]
    return "\n".join(lines)


DOCS = {"docs/parameters.md": parameters_md}


def main(argv):
    stale = []
    for rel, make in DOCS.items():
        path = os.path.join(ROOT, rel)
        text = make()
        old = open(path).read() if os.path.exists(path) else None
        if old != text:
            if "--check" in argv:
                stale.append(rel)
            else:
                with open(path, "w") as f:
                    f.write(text)
                print("wrote", rel)
    if stale:
        print("out of date (run tools/docs.py):", " ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
