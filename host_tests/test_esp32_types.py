"""The chip's code against the MicroPython ESP32 port's published API.

pyright (node_modules, pinned by package-lock.json) checks the files pyrightconfig.json
names against micropython-esp32-esp32-generic-stubs (pinned by requirements-dev.txt): every
call into machine, esp32, network, onewire, ds18x20, micropython, time, socket, select and
asyncio, with MicroPython's own stdlib in place of CPython's. pyrightconfig.json says what
is not checked and why; each `# pyright: ignore[rule]` in the firmware says why it is there.
A second test proves the check can fail: wrong calls added to a copy of board/esp32.py are
reported, one by one, and nothing else is.

Alone: .venv/bin/python -m pytest host_tests/test_esp32_types.py
"""
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYRIGHT = os.path.join(ROOT, "node_modules", ".bin", "pyright")
CONFIG = os.path.join(ROOT, "pyrightconfig.json")
# The stubs' stdlib (micropython-stdlib-stubs) is a typeshed laid out in site-packages itself
# (stdlib/VERSIONS...); the ESP32 modules (machine.pyi...) sit beside it.
SITE = sysconfig.get_path("purelib")


def pyright(*files):
    """pyright's JSON report on `files` (default: pyrightconfig.json's include)."""
    assert os.path.exists(PYRIGHT), "pyright is missing: run 'npm ci' in %s (make test does)" % ROOT
    for stub in ("machine.pyi", "esp32.pyi", os.path.join("stdlib", "VERSIONS")):
        assert os.path.exists(os.path.join(SITE, stub)), (
            "%s is missing: install requirements-dev.txt into this interpreter (make test does)"
            % os.path.join(SITE, stub))
    cmd = [PYRIGHT, "--outputjson", "--project", CONFIG, "--pythonpath", sys.executable,
           "--typeshedpath", SITE, *files]
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode in (0, 1), "pyright failed (%d):\n%s%s" % (r.returncode, r.stdout, r.stderr)
    return json.loads(r.stdout)


def diagnostics(report):
    def name(path):
        return os.path.relpath(path, ROOT) if path.startswith(ROOT + os.sep) else path
    return ["%s:%d: %s: %s [%s]" % (name(d["file"]), d["range"]["start"]["line"] + 1, d["severity"],
                                    d["message"], d.get("rule", ""))
            for d in report["generalDiagnostics"]]


def included_files():
    """The .py files pyrightconfig.json's include names (it is JSON with // comments)."""
    text = "\n".join(re.sub(r"^\s*//.*$", "", line) for line in open(CONFIG).read().split("\n"))
    files = set()
    for entry in json.loads(text)["include"]:
        path = os.path.join(ROOT, entry)
        if os.path.isdir(path):
            files.update(glob.glob(os.path.join(path, "**", "*.py"), recursive=True))
        else:
            assert os.path.isfile(path), entry
            files.add(path)
    return files


def test_chip_code_matches_the_port_api():
    report = pyright()
    assert report["summary"]["errorCount"] == 0 and report["summary"]["warningCount"] == 0, \
        "\n".join(diagnostics(report))
    # every file of the include was checked (a wrong path would check nothing, silently)
    files = included_files()
    for name in ("board/esp32.py", "board/esp32_wifi.py", "boot.py", "main.py", "net/wifi.py"):
        assert os.path.join(ROOT, "firmware", name) in files, name
    assert report["summary"]["filesAnalyzed"] == len(files), report["summary"]


# Wrong calls, each on a line of its own, appended to a copy of board/esp32.py (which imports
# machine, esp32 and time); the lines marked "ok" are right on MicroPython and must pass
# (time.ticks_add does not exist in CPython's time: MicroPython's stdlib is the one used).
WRONG = '''

def _wrong_calls(gate):
    import network
    machine.Pin(4, machine.Pin.OUT, valeu=0)                         # wrong: keyword
    esp32.RMT(0, pin=gate, bogus=1)                                  # wrong: keyword
    esp32.RMT(pin=gate).write_pulses([100, 200], 0, 1)               # wrong: arity
    machine.ADC(machine.Pin(34), atten=machine.ADC.ATTN_11DB).read_u16(1)   # wrong: arity
    time.ticks_diff(time.ticks_ms())                                 # wrong: arity
    machine.Pin(5).irq(handler=None, trigger=machine.Pin.IRQ_FALING)  # wrong: attribute
    network.WLAN(network.WLAN.IF_STA).connect("ssid", "key", b"bssid")   # wrong: arity
    esp32.RMT(pin=gate, resolution_hz=1_000_000).wait_done(timeout=0)     # ok
    time.ticks_add(time.ticks_us(), 1)                               # ok
'''


def test_a_wrong_call_is_reported():
    with tempfile.TemporaryDirectory() as tmp:
        copy = os.path.join(tmp, "esp32_wrong.py")
        shutil.copy(os.path.join(ROOT, "firmware", "board", "esp32.py"), copy)
        with open(copy, "a") as f:
            f.write(WRONG)
        lines = open(copy).read().split("\n")
        wrong = {n + 1 for n, line in enumerate(lines) if line.endswith(tuple(
            "# wrong: " + w for w in ("keyword", "arity", "attribute")))}
        assert len(wrong) == 7
        report = pyright(copy)
    found = diagnostics(report)
    print("\n".join(found))
    errors = {d["range"]["start"]["line"] + 1 for d in report["generalDiagnostics"]
              if d["severity"] == "error"}
    assert errors == wrong, "\n".join(found)
    text = "\n".join(found)
    assert 'No parameter named "valeu"' in text and 'No parameter named "bogus"' in text, text
    assert 'Cannot access attribute "IRQ_FALING"' in text, text
