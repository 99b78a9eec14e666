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
from api import data  # noqa: E402
from services import config as esp_config  # noqa: E402
from api import web  # noqa: E402

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


# The API's endpoints: (path, key, value, what it does, example query). The test
# host_tests/test_api_docs.py runs every example against the firmware and checks that every
# key the app accepts is here.
ENDPOINTS = (
    ("/api/get", "data", "NN (01..%d)" % data.COUNT, "one value of the data list below", "data=01"),
    ("/api/get", "alldata", "", "data 01..26 in order, comma separated", "alldata"),
    ("/api/get", "extended", "", "with alldata: every data of the list below (01..%02d), not "
     "just v3.1's 26" % data.COUNT, "alldata&extended"),
    ("/api/get", "states", "", "with alldata: then ssrstate, relaystate, ping and time (what "
     "the web UI reads each second, in one request)", "alldata&extended&states"),
    ("/api/get", "param", "NN (01..16)", "one router parameter (docs/parameters.md)", "param=06"),
    ("/api/get", "allparam", "", "the 16 parameters in order, comma separated", "allparam"),
    ("/api/get", "configmaxpv", "", "the configuration, JSON (the MQTT password reads as ********)",
     "configmaxpv"),
    ("/api/get", "version", "", "firmware version", "version"),
    ("/api/get", "versionmaxpv", "", "MaxPV! API version served: 3.1", "versionmaxpv"),
    ("/api/get", "versionweb", "", "web UI version", "versionweb"),
    ("/api/get", "relaystate", "", "STOP, FORCE, ON or OFF", "relaystate"),
    ("/api/get", "ssrstate", "", "STOP, FORCE, MAX, ON or OFF", "ssrstate"),
    ("/api/get", "ping", "", "running, or offline (no fresh figures, mains not synchronised)",
     "ping"),
    ("/api/get", "time", "", "time of day HH:MM:SS (UTC until local time is configured)", "time"),
    ("/api/set", "param", "NN, with value=V ('.' or ',' as decimal point)",
     "set a parameter; refused (nothing changed) if out of range", "param=06&value=10"),
    ("/api/set", "relaymode", "with value=stop, force or auto", "secondary relay mode",
     "relaymode&value=auto"),
    ("/api/set", "ssrmode", "with value=stop, force or auto", "SSR mode", "ssrmode&value=auto"),
    ("/api/set", "configmaxpv", "with value=JSON object",
     "change some configuration keys (all or nothing); network keys apply at the next reboot",
     "configmaxpv&value=%7B%22mqtt_port%22:1883%7D"),
    ("/api/set", "adminpass", "with value=P (empty: none)",
     "admin password: then set/action need HTTP Basic auth as user admin", None),
    ("/api/action", "restart", "", "restart measurement and regulation (counters kept)", None),
    ("/api/action", "resetindex", "", "energy indices to 0 (saved)", None),
    ("/api/action", "saveindex", "", "save the energy indices now", "saveindex"),
    ("/api/action", "saveparam", "", "save the live parameters", None),
    ("/api/action", "loadparam", "", "back to the saved parameters (409 if none); also loaddparam",
     None),
    ("/api/action", "loaddparam", "", "same as loadparam (the v3.1 document's spelling)", None),
    ("/api/action", "format", "", "parameters back to their defaults (erases the saved ones)", None),
    ("/api/action", "eraseconfigesp", "", "configuration back to its defaults at the next boot", None),
    ("/api/action", "rebootesp", "", "save the counters and reboot the firmware", None),
    ("/api/history", "power", "", "CSV: 30-minute average import, -export, PV, routed (W)",
     "power"),
    ("/api/history", "relay", "", "CSV: secondary relay on-time per 30 minutes (%)", "relay"),
)


def api_md():
    lines = [
        "# HTTP API (MaxPV! v3.1)",
        "",
        "Plain-text answers exactly as MaxPV! 3.1 formats them; existing clients keep working. "
        "Generated by `tools/docs.py` from its endpoint table and the firmware's data list; do "
        "not edit by hand. The OpenAPI description is [openapi.yaml](openapi.yaml).",
        "",
        "Errors: a request that cannot be served gets a 4xx status and a body that starts with "
        "the original words (`Unknown request`, `Bad request`) and says what is wrong, and "
        "changes nothing. Unknown paths: 404. When an admin password is set, `/api/set` and "
        "`/api/action` need HTTP Basic auth (user `admin`): 401 otherwise. A change that a "
        "browser marks as cross-site is refused: 403.",
        "",
        "## Endpoints",
        "",
        "| request | value | what | example |",
        "|---|---|---|---|",
    ]
    for path, key, value, what, ex in ENDPOINTS:
        example = "`curl 'http://maxpv.local%s?%s'`" % (path, ex) if ex else ""
        lines.append("| `%s?%s` | %s | %s | %s |" % (path, key, value, what, example))
    lines += ["", "## Data list (`data=NN`, `alldata`)", "",
              "1 to 26 are v3.1's, in its order; 27 and beyond are this firmware's additions.", "",
              "| NN | value | unit |", "|---|---|---|"]
    for n, name, unit, _ in data.TABLE:
        lines.append("| %02d | %s | %s |" % (n, name, unit or "-"))
    lines += ["", "Formats: V 1 decimal, A 3, W and VA 1, cos phi 4 (`nan` when no power), "
              "energy indices kWh with 3, delays ms with 2 or `N/A` when not regulating, "
              "status as 8 binary digits (bit 7 first), uptime `D:HH:MM:SS`.", "",
              "## Configuration keys (`configmaxpv`)", "", "| key | type | default |",
              "|---|---|---|"]
    for key, kind, default, lim in esp_config.TABLE:
        rng = " %d..%d" % lim if kind == "int" else (" 0/1" if kind == "flag" else "")
        lines.append("| %s | %s%s | `%s` |" % (key, kind, rng, default))
    lines += ["", "## Other routes", "",
              "- `/`: the web UI (gzipped files of the image's `www/`, built by `tools/web.py`); "
              "the other built files by name, cached for a year (their names carry a hash).",
              "- `/DLconfig`: the configuration as a `config.json` download, as the original.",
              "- The original's page names redirect (302) to the matching view: " + ", ".join(
                  "`/%s` → `%s`" % kv for kv in sorted(web.OLD_PAGES.items())) + "."]
    return "\n".join(lines) + "\n"


def openapi_yaml():
    out = ["openapi: 3.0.3", "info:", "  title: MaxPV! v3.1 API (ESP32 MicroPython router)",
           "  version: \"3.1\"",
           "  description: Generated by tools/docs.py; docs/api.md describes every value.",
           "paths:"]
    for path in ("/api/get", "/api/set", "/api/action", "/api/history"):
        rows = [e for e in ENDPOINTS if e[0] == path]
        out += ["  %s:" % path, "    get:", "      summary: %s" % ", ".join(r[1] for r in rows),
                "      parameters:"]
        for r in rows:
            out += ["        - name: %s" % r[1], "          in: query", "          required: false",
                    "          allowEmptyValue: true",
                    "          description: \"%s\"" % (r[3] + (" (" + r[2] + ")" if r[2] else "")).replace('"', "'"),
                    "          schema:", "            type: string"]
        if path == "/api/set":
            out += ["        - name: value", "          in: query", "          required: false",
                    "          schema:", "            type: string"]
        out += ["      responses:",
                "        \"200\":", "          description: done; plain text (CSV for history)",
                "          content:",
                "            %s:" % ("text/csv" if path == "/api/history" else "text/plain"),
                "              schema:", "                type: string",
                "        \"400\":", "          description: Unknown request / Bad request, and why",
                "        \"401\":", "          description: admin password required",
                "        \"403\":", "          description: cross-site request refused"]
    return "\n".join(out) + "\n"


DOCS = {"docs/parameters.md": parameters_md, "docs/api.md": api_md,
        "docs/openapi.yaml": openapi_yaml}


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
