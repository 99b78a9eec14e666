#!/usr/bin/env python3
"""Build the web UI into the folder the firmware serves (`www/` of the device image).

    python3 tools/web.py [--out build/www]      (needs the npm packages: make web installs them)

firmware/web/js/main.js is bundled with the chart library (uPlot, from npm) by esbuild, and
firmware/web/app.css with uPlot's stylesheet; both are minified and named after a hash of
their content (so the browser may cache them for good), index.html is stripped of layout
whitespace and pointed at them, then everything is gzipped. The tables the UI is generated
from (parameters, configuration keys, data list, status bits) are read from the firmware's
own modules and compiled in, so the forms cannot drift from what the API accepts.
Fails if the gzipped total is over the size budget.
"""
import argparse
import gzip
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WEB = os.path.join(ROOT, "firmware", "web")
OUT = os.path.join(ROOT, "build", "www")
ESBUILD = os.path.join(ROOT, "node_modules", ".bin", "esbuild")
BUDGET = 80 * 1024          # gzipped bytes, all files (the limit; flash is shared)
sys.path.insert(0, os.path.join(ROOT, "host_tests", "cpython"))   # `micropython` under CPython
sys.path.insert(0, os.path.join(ROOT, "firmware"))


class BuildError(Exception):
    pass


class OverBudget(BuildError):
    pass


def tables():
    """What the UI needs of the firmware's tables, as plain JSON."""
    from router import params, status
    from board import config as board
    from records import config
    from api import data, endpoints
    nominal = {"V_CALIB": board.V_CALIB, "P_CALIB": board.P_CALIB,
               "PHASE_CALIB": board.PHASE_CALIB}
    return {
        "params": [{"n": n, "name": name, "unit": unit,
                    "default": nominal[name] if default is None else default,
                    "min": lo, "max": hi, "decimals": dec, "help": help_}
                   for n, name, unit, default, lo, hi, dec, help_ in params.TABLE],
        "config": [{"key": k, "type": t, "default": d, "check": c} for k, t, d, c in config.TABLE],
        "secret": config.SECRET,
        "secrets": list(config.SECRETS),
        # the v3.1 numbering: what alldata&extended gives, whatever api_layout
        "data": [{"n": n, "name": r[2], "unit": r[3]} for n, r in enumerate(data.LAYOUTS["3.1"][0], 1)],
        "alldata": data.LAYOUTS["3.1"][1],
        "status": [{"bit": 1 << k, "name": name} for k, name in enumerate(status.BITS)],
        "version": endpoints.VERSION,
        "api": endpoints.API_VERSION,
    }


def esbuild(args):
    if not os.path.exists(ESBUILD):
        sys.exit("esbuild is missing: run 'npm ci' in %s (make sim / make test do)" % ROOT)
    # esbuild prints what is wrong; the command line (the tables) would only bury it
    if subprocess.run([ESBUILD, "--log-level=warning"] + args, cwd=ROOT).returncode:
        raise BuildError("esbuild failed on %s (see above)" % os.path.relpath(args[0], ROOT))


def hashed(path, ext):
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:10]
    name = "app.%s.%s" % (digest, ext)
    os.replace(path, os.path.join(os.path.dirname(path), name))
    return name


def minify_html(text):
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    return re.sub(r">\s+<", "><", text).strip()


def build(out=OUT):
    tmp = out + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    esbuild([os.path.join(WEB, "js", "main.js"), "--bundle", "--minify", "--format=iife",
             "--target=es2019", "--define:TABLES=" + json.dumps(tables()),
             "--outfile=" + os.path.join(tmp, "app.js")])
    esbuild([os.path.join(WEB, "app.css"), "--bundle", "--minify",
             "--outfile=" + os.path.join(tmp, "app.css")])
    js = hashed(os.path.join(tmp, "app.js"), "js")
    css = hashed(os.path.join(tmp, "app.css"), "css")
    with open(os.path.join(WEB, "index.html"), encoding="utf-8") as f:
        html = minify_html(f.read()).replace('"app.js"', '"%s"' % js).replace('"app.css"', '"%s"' % css)
    with open(os.path.join(tmp, "index.html"), "w", encoding="utf-8") as f:
        f.write(html)
    sizes = {}
    for name in sorted(os.listdir(tmp)):
        src = os.path.join(tmp, name)
        with open(src, "rb") as f:
            raw = f.read()
        # mtime 0: the same sources give the same bytes
        packed = gzip.compress(raw, compresslevel=9, mtime=0)
        with open(src + ".gz", "wb") as f:
            f.write(packed)
        os.remove(src)
        sizes[name] = (len(raw), len(packed))
    shutil.rmtree(out, ignore_errors=True)
    os.replace(tmp, out)
    total = sum(g for _, g in sizes.values())
    if total > BUDGET:
        raise OverBudget("web UI over budget: %d bytes gzipped > %d" % (total, BUDGET))
    return sizes


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=OUT)
    a = ap.parse_args(argv)
    try:
        sizes = build(a.out)
    except BuildError as e:
        sys.exit(str(e))
    for name, (raw, packed) in sizes.items():
        print("%-24s %7d bytes, %6d gzipped" % (name, raw, packed))
    print("%-24s %7d bytes, %6d gzipped (budget %d)" % (
        "total", sum(r for r, _ in sizes.values()), sum(g for _, g in sizes.values()), BUDGET))


if __name__ == "__main__":
    main()
