"""Two ways to run the firmware in tests:

- in-process under CPython (fast, for logic), with `host_tests/cpython/micropython.py`
  standing in for the `micropython` module;
- under the real MicroPython unix port (`run_mp`), for everything whose truth depends on
  the interpreter: viper, allocation, integer sizes, the actual firmware start-up.
"""
import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIRMWARE = os.path.join(ROOT, "firmware")
FAKES = os.path.join(ROOT, "host_tests", "fakes")
MP_HELPERS = os.path.join(ROOT, "host_tests", "mp")
MICROPYTHON = os.path.join(ROOT, ".venv", "bin", "micropython")
if not os.path.exists(MICROPYTHON):
    MICROPYTHON = "micropython"

sys.path.insert(0, os.path.join(ROOT, "host_tests", "cpython"))
sys.path.insert(0, FIRMWARE)
sys.path.insert(0, os.path.join(ROOT, "tools"))
import flash  # noqa: E402
import web  # noqa: E402

# The web UI as the image carries it: every firmware the tests run serves it. Built per test
# run into a folder of its own, so runs side by side do not pull files from under each other.
os.makedirs(os.path.join(ROOT, "build"), exist_ok=True)
WWW = tempfile.mkdtemp(prefix="www-test-", dir=os.path.join(ROOT, "build"))
atexit.register(shutil.rmtree, WWW, True)
web.build(WWW)


def run_mp(code, heapsize=None, fakes=False, timeout=300, first=None):
    """Run `code` under the MicroPython unix port with firmware/ on the path.

    The code reports results by printing one JSON document on its last line, which is
    returned decoded. Any error fails the calling test with the interpreter's output.
    `first`: a folder searched before firmware/ (a precompiled image).
    """
    path = [".frozen", FIRMWARE, MP_HELPERS]
    if first:
        path.insert(1, first)   # e.g. a precompiled image, ahead of the sources
    if fakes:
        path.insert(0, FAKES)   # fake machine/esp32 modules shadow the unix port's
    env = dict(os.environ, MICROPYPATH=":".join(path))
    cmd = [MICROPYTHON]
    if heapsize:
        cmd += ["-X", "heapsize=" + str(heapsize)]
    cmd += ["-c", code]
    # The current directory comes first on MicroPython's path: run from the image if any.
    p = subprocess.run(cmd, cwd=first or FIRMWARE, env=env, capture_output=True, text=True,
                       timeout=timeout)
    if p.returncode != 0:
        pytest.fail("micropython exited %d\n%s\n%s" % (p.returncode, p.stdout[-4000:], p.stderr[-4000:]))
    lines = [ln for ln in p.stdout.splitlines() if ln.strip()]
    try:
        return json.loads(lines[-1])
    except (IndexError, ValueError):
        pytest.fail("no JSON result from micropython:\n%s\n%s" % (p.stdout[-4000:], p.stderr[-4000:]))


def run_router(b, rt, seconds):
    """Drive the router's loop as main.py does (windows, once-a-second summaries) for
    `seconds` of the board's time, in this process."""
    end = b.seconds() + seconds
    while b.seconds() < end:
        if rt.step():
            rt.summary()
        b.between_windows(rt.next_start())


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium under Playwright, shared by the UI tests."""
    from browser import Browser
    b = Browser()
    yield b
    b.close()
