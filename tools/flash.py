#!/usr/bin/env python3
"""Build the device image, flash MicroPython, deploy the firmware, watch its console.

A new board, from the computer it is plugged into (P is its serial port: /dev/ttyUSB0 on
Linux, /dev/cu.usbserial-* on macOS, COM3 on Windows), once `make test` or `make sim` has
set up .venv/:

    .venv/bin/python tools/flash.py flash --port P --firmware ESP32_GENERIC-SPIRAM-...-v1.28.0.bin
    .venv/bin/python tools/flash.py deploy --port P
    .venv/bin/python tools/flash.py monitor --port P

- `flash` erases the chip and writes MicroPython to it (esptool). Download the .bin first:
  https://micropython.org/download/ESP32_GENERIC-SPIRAM/ for a board with PSRAM (WROVER: the
  reference, see docs/hardware.md), https://micropython.org/download/ESP32_GENERIC/ without.
  MicroPython v1.27 or later: the firmware uses the RMT API of v1.27, and a file that says it
  is older (by its name or by the version inside it) is refused, before anything is erased.
- `deploy` builds the image (below) and copies onto the board the files that differ from
  it, then resets the board, which starts the router. Run it again after changing firmware/:
  only what changed is copied. The board's saved records (parameters, configuration,
  energy, history, in /data) are never touched.
- `monitor` is the board's serial console (`mpremote connect P repl`): the firmware's
  messages; Ctrl-C stops the firmware at a MicroPython prompt (its watchdog resets the board
  8 s later), Ctrl-D restarts it, Ctrl-] leaves.

    tools/flash.py build [--arch A] [--out DIR]  compile firmware/ into build/device/
    tools/flash.py flash --port P --firmware F   erase the flash, write MicroPython F
    tools/flash.py deploy --port P [--image DIR] [--arch A] [--no-reset]
    tools/flash.py monitor --port P              the serial console
    tools/flash.py ota HOST [--password P] [--image DIR] [--version V] [--no-reboot]
    tools/flash.py bundle FILE [--image DIR] [--version V]   the bundle alone (the admin page)

The image holds every module precompiled for the ESP32 (`mpy-cross -march=xtensawin`: viper
becomes native Xtensa code, and importing .mpy needs a fraction of the RAM that compiling .py
on the chip would), except boot.py and main.py, which MicroPython only runs as source. The
simulated board (board/sim/) is never part of it. The web UI goes in as www/ (tools/web.py),
the same gzipped files that `make sim` serves. `--arch x64` builds the same image for a
64-bit PC's MicroPython unix port (the tests run it there).

How deploy decides what to copy: it asks the board (mpremote exec) for the SHA-256 of each
file of the image and of each file the last deploy put there, as the board has them now, so
a file missing or damaged on the board is copied again whatever happened before. It then
copies (mpremote fs cp) the files whose hash differs from the image's, removes the files the
last deploy put there that the image no longer has (and the folders they leave empty), and
writes /manifest.json last: the files the deploy owns and their hashes. Files new to the
board are added to the manifest before the first copy, so an interrupted deploy is completed
by the next one, whatever image that deploys; a file deploy never wrote is never removed.
The firmware's watchdog (8 s; a stopped firmware no longer feeds it and nothing stops it) is
stretched to 10 minutes for a deploy that ends with a reset.

`--image DIR` deploys a built folder as it is (no build). `--no-reset` neither soft-resets the
board on connecting (mpremote `resume`; the running program is still interrupted, with
Ctrl-C) nor resets it at the end: the board stays at its prompt. A MicroPython without reset
needs it: the unix port the tests deploy to, behind a pseudo-terminal
(host_tests/test_flash_deploy.py).

`ota HOST` updates a board over the network (HOST: its address or NAME.local, with :PORT if
not 80): it builds the image, makes it one bundle (firmware/ota/bundle.py defines the format:
the files, each with its SHA-256 and size, the version, the total), sends it to the board's
/api/update with the admin password (which an update needs), reboots the board, which swaps
it in, and waits for the board to say that the new version's start was healthy (confirmed)
or that it was rolled back, and why. `--no-reboot` stops after the upload: the bundle waits
on the board for its next reboot. `--image DIR` sends a built folder as it is, `--version V`
names it (default: firmware/api/endpoints.py's VERSION), `--bundle FILE` keeps the bundle.
"""
import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIRMWARE = os.path.join(ROOT, "firmware")
BUILD = os.path.join(ROOT, "build", "device")
BIN = os.path.dirname(sys.executable)
AS_SOURCE = {"boot.py", "main.py"}
EXCLUDED_DIRS = {os.path.join("board", "sim"), "__pycache__"}
ARCH = "xtensawin"            # the ESP32's; `x64` for the unix port on a PC
MANIFEST = "manifest.json"    # on the board, next to boot.py: what the last deploy put there
# The oldest MicroPython the firmware runs on: esp32.RMT changed in v1.27.
MIN_MICROPYTHON = (1, 27)
DOWNLOAD = ("https://micropython.org/download/ESP32_GENERIC-SPIRAM/ for a board with PSRAM "
            "(WROVER), https://micropython.org/download/ESP32_GENERIC/ without: the .bin "
            "of v%d.%d or later" % MIN_MICROPYTHON)
TIMEOUT = 600                 # seconds any one mpremote or esptool run may take
# The firmware's watchdog during a deploy that ends with a reset (ms): long enough to copy the
# whole image at 115200 baud.
DEPLOY_WDT_MS = 600000


def tool(name):
    path = os.path.join(BIN, name)
    return path if os.path.exists(path) else name


def device_files():
    """Paths (relative to firmware/) of the modules that go onto the board."""
    for d, dirs, files in os.walk(FIRMWARE):
        rel = os.path.relpath(d, FIRMWARE)
        dirs[:] = sorted(x for x in dirs if os.path.normpath(os.path.join(rel, x)) not in EXCLUDED_DIRS
                         and x not in EXCLUDED_DIRS)
        for f in sorted(files):
            if f.endswith(".py"):
                yield os.path.normpath(os.path.join(rel, f))


def build(out=BUILD, arch=ARCH):
    """Compile the image into `out` (emptied first) for `arch`; returns its files."""
    if os.path.isdir(out):
        shutil.rmtree(out)
    built = []
    for rel in device_files():
        src = os.path.join(FIRMWARE, rel)
        if rel in AS_SOURCE:
            dst = os.path.join(out, rel)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copyfile(src, dst)
        else:
            dst = os.path.join(out, rel[:-3] + ".mpy")
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            subprocess.run([tool("mpy-cross"), "-march=" + arch, "-o", dst, rel], cwd=FIRMWARE,
                           check=True)
        built.append(os.path.relpath(dst, out))
    import web
    for name in web.build(os.path.join(out, "www")):
        built.append(os.path.join("www", name + ".gz"))
    return built


# ---- the update bundle and ota -------------------------------------------------------------

def source_version():
    with open(os.path.join(FIRMWARE, "api", "endpoints.py")) as f:
        return re.search(r'^VERSION = "([^"]+)"', f.read(), re.M).group(1)


def _firmware_module(name):
    """A module of firmware/ that also runs on the PC (the bundle's format, the update's
    state file): its definitions are the firmware's own, not a copy."""
    import importlib
    sys.path.insert(0, FIRMWARE)
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(FIRMWARE)


def _bundle_format():
    return _firmware_module("ota.bundle")


def make_bundle(image, out, version=None):
    """Write the bundle of the built folder `image` to the file `out`; returns its size."""
    fmt = _bundle_format()
    files = []
    for rel in sorted(image_files(image)):
        path = os.path.join(image, rel)
        with open(path, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        why = fmt.bad_path(rel)
        if why:
            sys.exit("ota: %s cannot go in a bundle (%s)" % (rel, why))
        files.append((rel, os.path.getsize(path), digest))
    head = fmt.head(version or source_version(), files)
    with open(out, "wb") as f:
        f.write(head)
        for rel, _, _ in files:
            with open(os.path.join(image, rel), "rb") as src:
                shutil.copyfileobj(src, f)
    return os.path.getsize(out)


def _http(host, method, path, password=None, body=None, length=None, timeout=30):
    """(status, text) of one request to the board; OSError if it does not answer."""
    import base64
    import http.client
    c = http.client.HTTPConnection(host, timeout=timeout)
    h = {}
    if password:
        h["Authorization"] = "Basic " + base64.b64encode(("admin:" + password).encode()).decode()
    if length is not None:
        h["Content-Length"] = str(length)
        h["Content-Type"] = "application/octet-stream"
    try:
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        return r.status, r.read().decode("utf-8", "replace")
    finally:
        c.close()


def ota(host, password=None, image=None, version=None, arch=ARCH, reboot=True, keep=None,
        wait=180):
    """Build (unless `image`), bundle, upload to `host`, reboot it and wait for the verdict.
    Returns 0 when the new version is confirmed (or staged, without `reboot`)."""
    import json
    import tempfile
    import time
    if image is None:
        image = BUILD if arch == ARCH else BUILD + "-" + arch
        build(image, arch)
    tmp = None
    if keep is None:
        tmp = tempfile.mkdtemp(prefix="maxpv-ota-")
        keep = os.path.join(tmp, "update.bin")
    try:
        size = make_bundle(image, keep, version)
        print("ota: bundle of %d bytes, sending it to %s" % (size, host))
        with open(keep, "rb") as f:
            try:
                status, text = _http(host, "POST", "/api/update", password, f, size, 300)
            except OSError as e:
                print("ota: the board did not take it (%s)" % e)
                return 1
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    print("ota: %d %s" % (status, text.strip()))
    if status != 200:
        return 1
    if not reboot:
        return 0
    status, text = _http(host, "GET", "/api/action?rebootesp", password)
    print("ota: reboot: %d %s" % (status, text.strip()))
    end = time.monotonic() + wait
    last = None
    while time.monotonic() < end:
        time.sleep(1)
        try:
            status, text = _http(host, "GET", "/api/get?ota", timeout=5)
            s = json.loads(text)
        except (OSError, ValueError):
            continue            # rebooting
        if s.get("state") != last:
            last = s.get("state")
            print("ota: %s" % last)
        if last == "confirmed" and s.get("version") == s.get("new"):
            print("ota: version %s runs, confirmed" % s["version"])
            return 0
        if last == "rolled_back":
            print("ota: rolled back to %s: %s" % (s.get("version"), s.get("reason")))
            return 1
    print("ota: no verdict from the board in %d s (last state: %s)" % (wait, last))
    return 1


# ---- flash ------------------------------------------------------------------------------

_BANNER = re.compile(rb"MicroPython v(\d+)\.(\d+)(?:\.(\d+))?(-preview)?[^\s\x00]*"
                     rb" on \d{4}-\d\d-\d\d")
_NAME = re.compile(r"v(\d+)\.(\d+)(?:\.(\d+))?(-preview)?")


def _version(m):
    return (int(m.group(1)), int(m.group(2)), int(m.group(3) or 0), bool(m.group(4)))


def firmware_version(path):
    """(major, minor, patch, preview, where) of the MicroPython in the .bin at `path`, read
    from the version banner built into it ("MicroPython v1.28.0 on 2026-..."), else from the
    file's name (ESP32_GENERIC-20260406-v1.28.0.bin); None if neither tells."""
    with open(path, "rb") as f:
        m = _BANNER.search(f.read())
    if m:
        return _version(m) + ("the version inside the file",)
    m = _NAME.search(os.path.basename(path))
    if m:
        return _version(m) + ("the file name",)
    return None


def older_than_minimum(version):
    """A preview of vX.Y.0 comes before vX.Y.0."""
    major, minor, patch, preview = version[:4]
    return (major, minor, patch, not preview) < MIN_MICROPYTHON + (0, True)


def check_firmware(path):
    """Why the file at `path` must not be flashed (a sentence), or None. Prints what it could
    not check."""
    if not os.path.isfile(path):
        return "no such firmware file: %s. Download it from %s." % (path, DOWNLOAD)
    with open(path, "rb") as f:
        head = f.read(0x24)
    # An ESP32 image starts with 0xE9; its extended header's chip id (offset 12) is 0 for the
    # original ESP32. The whole-flash .bin starts with the bootloader; an application image
    # (.app-bin, for 0x10000) with its app description (magic 0xABCD5432 right after the
    # first segment's header, at 0x20).
    if len(head) < 16 or head[0] != 0xE9:
        return "%s is not an ESP32 firmware image (.bin). Download it from %s." % (path, DOWNLOAD)
    chip = head[12] | head[13] << 8
    if chip != 0:
        return ("%s is for another chip than the original ESP32 (image chip id %d): this "
                "router is an ESP32 (ESP32_GENERIC). Download it from %s." % (path, chip, DOWNLOAD))
    if head[0x20:0x24] == b"\x32\x54\xcd\xab":
        return ("%s is an application image (.app-bin), not the whole-flash .bin that goes at "
                "0x1000. Download the .bin from %s." % (path, DOWNLOAD))
    v = firmware_version(path)
    if v is None:
        print("flash: could not tell which MicroPython %s is; it must be v%d.%d or later"
              % ((path,) + MIN_MICROPYTHON))
    elif older_than_minimum(v):
        return ("%s is MicroPython v%d.%d.%d%s (from %s): the firmware needs v%d.%d or later "
                "(the esp32.RMT API changed in v1.27). Download it from %s."
                % ((path,) + v[:3] + ("-preview" if v[3] else "", v[4]) + MIN_MICROPYTHON
                   + (DOWNLOAD,)))
    else:
        print("flash: MicroPython v%d.%d.%d%s (from %s)" % (v[:3] + ("-preview" if v[3] else "",
                                                              v[4])))
    return None


def flash(port, firmware, baud=460800):
    why = check_firmware(firmware)
    if why:
        sys.exit("flash: " + why)
    esptool = tool("esptool")
    subprocess.run([esptool, "--chip", "esp32", "--port", port, "erase-flash"], check=True,
                   timeout=TIMEOUT)
    # 0x1000 is where the original ESP32 expects its bootloader (0 for the S3/C3).
    subprocess.run([esptool, "--chip", "esp32", "--port", port, "--baud", str(baud),
                    "write-flash", "0x1000", firmware], check=True, timeout=TIMEOUT)
    print("flash: done; now: tools/flash.py deploy --port %s" % port)


# ---- deploy -----------------------------------------------------------------------------

# Runs on the board: stretches the firmware's watchdog (machine.WDT, armed at 8 s by
# board/esp32.py once the firmware is healthy, cannot be stopped and outlives the soft
# reset) to WDT_MS when the deploy ends with a reset (the firmware's own Ctrl-C handler gives
# it an hour, safemode.CONSOLE_WDT_MS; this also covers a firmware that died without it, and
# the reset at the end stops it); prints the SHA-256 of each of PATHS as the board has them ("F hash
# path", "-" when missing), the folders among DIRS that exist ("D dir"), the files the last
# deploy wrote ("O path", from the manifest). If PATHS holds files the manifest does not,
# the manifest is widened to them first (not complete), so that a deploy interrupted after
# copying them still knows they are its own. A deploy supersedes an update over the network:
# the update's state (firmware/otastate.py's STATE) goes first, or its journal, which the
# soft reset may have taken on (boot.py), would roll the deployed files back at the reset.
_SURVEY = """\
import os, sys, json, hashlib, binascii
if sys.platform == 'esp32':
    os.chdir('/')
def _h(p):
    s = hashlib.sha256()
    b = bytearray(1024)
    v = memoryview(b)
    try:
        with open(p, 'rb') as f:
            while True:
                n = f.readinto(b)
                if not n:
                    break
                s.update(v[:n])
    except OSError:
        return '-'
    return binascii.hexlify(s.digest()).decode()
def _survey(paths, dirs, manifest, wdt_ms, update_state):
    if wdt_ms and sys.platform == 'esp32':
        try:
            import machine
            machine.WDT(timeout=wdt_ms)
        except Exception:
            pass
    try:
        os.remove(update_state)
    except OSError:
        pass
    try:
        with open(manifest) as f:
            old = json.load(f)['files']
    except Exception:
        old = {}
    for p in old:
        print('O', p)
    for p in sorted(set(paths) | set(old)):
        print('F', _h(p), p)
    for d in dirs:
        try:
            if os.stat(d)[0] & 0x4000:
                print('D', d)
        except OSError:
            pass
    new = [p for p in paths if p not in old]
    if new:
        for p in new:
            old[p] = None
        with open(manifest + '.tmp', 'w') as f:
            json.dump({'files': old, 'complete': False}, f)
        os.rename(manifest + '.tmp', manifest)
_survey(%r, %r, %r, %r, %r)
"""

# Runs on the board after the copies: removes the files of GONE and the folders they leave
# empty, then writes the manifest (atomically: a whole one or the previous one).
_FINISH = """\
import os, json
def _finish(gone, files, manifest):
    for p in gone:
        try:
            os.remove(p)
        except OSError:
            pass
        d = p
        while '/' in d:
            d = d.rsplit('/', 1)[0]
            try:
                os.rmdir(d)
            except OSError:
                break
    with open(manifest + '.tmp', 'w') as f:
        json.dump({'files': files, 'complete': True}, f)
    os.rename(manifest + '.tmp', manifest)
    print('deployed')
_finish(%r, %r, %r)
"""


def image_files(image):
    """{path on the board ('/'-separated, relative to its root): SHA-256 hex} of a built image."""
    files = {}
    for d, dirs, names in os.walk(image):
        dirs.sort()
        for n in sorted(names):
            p = os.path.join(d, n)
            rel = os.path.relpath(p, image).replace(os.sep, "/")
            if rel in (MANIFEST, MANIFEST + ".tmp"):
                continue
            with open(p, "rb") as f:
                files[rel] = hashlib.sha256(f.read()).hexdigest()
    return files


def _mpremote(port, reset, args, cwd=None):
    """Run mpremote on `port` (`resume`: no soft reset on connecting, unless `reset`); returns
    its output. Any error ends the deploy, with mpremote's output."""
    cmd = [tool("mpremote"), "connect", port] + ([] if reset else ["resume"]) + args
    try:
        p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        sys.exit("deploy: mpremote did not finish in %d s (is the board on %s?)" % (TIMEOUT, port))
    if p.returncode != 0:
        sys.exit("deploy: mpremote failed (%d) on %s:\n%s%s" % (p.returncode, port, p.stdout,
                                                              p.stderr))
    return p.stdout


def deploy(port, image=None, arch=ARCH, reset=True):
    """Copy onto the board at `port` the files of `image` (a built folder; None: build
    firmware/ for `arch` first) that differ from it, remove those the last deploy put there
    that the image no longer has, write the manifest last. Returns (copied, removed, unchanged)
    lists of board paths."""
    if image is None:
        image = BUILD if arch == ARCH else BUILD + "-" + arch
        build(image, arch)
    files = image_files(image)
    dirs = sorted({p.rsplit("/", 1)[0] for p in files if "/" in p})
    # every folder on the way to each file, parents first
    dirs = sorted({"/".join(d.split("/")[:k]) for d in dirs for k in range(1, d.count("/") + 2)},
                  key=lambda d: (d.count("/"), d))
    survey = _mpremote(port, reset, ["exec", _SURVEY % (
        sorted(files), dirs, MANIFEST, DEPLOY_WDT_MS if reset else 0,
        _firmware_module("otastate").STATE)])
    on_board, owned, present = {}, set(), set()
    for line in survey.splitlines():
        kind, _, rest = line.partition(" ")
        if kind == "F":
            h, _, p = rest.partition(" ")
            on_board[p] = h
        elif kind == "O":
            owned.add(rest)
        elif kind == "D":
            present.add(rest)
    missing = [p for p in files if p not in on_board]
    if missing:
        sys.exit("deploy: the board did not answer for %s:\n%s" % (", ".join(missing), survey))
    copy = [p for p in sorted(files) if on_board[p] != files[p]]
    gone = sorted(p for p in owned if p not in files and on_board.get(p, "-") != "-")
    unchanged = [p for p in sorted(files) if p not in copy]
    args = []
    for d in dirs:
        if d not in present and any(p.startswith(d + "/") for p in copy):
            args += ["fs", "mkdir", ":" + d, "+"]
    for p in copy:
        args += ["fs", "cp", "-f", p, ":" + p, "+"]
    args += ["exec", _FINISH % (gone, files, MANIFEST)]
    if reset:
        args += ["+", "reset"]
    for p in copy:
        print("copy " + p)
    for p in gone:
        print("remove " + p)
    out = _mpremote(port, False, args, cwd=image)
    if "deployed" not in out:
        sys.exit("deploy: the board did not confirm:\n" + out)
    print("deploy: %d copied, %d removed, %d unchanged%s" % (
        len(copy), len(gone), len(unchanged), ", board reset" if reset else ""))
    return copy, gone, unchanged


def monitor(port):
    """The board's serial console, until Ctrl-]."""
    try:
        return subprocess.call([tool("mpremote"), "connect", port, "repl"])
    except KeyboardInterrupt:
        return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="A new board: flash, deploy, then monitor (each "
                                 "command's --help says more). MicroPython for the board: "
                                 + DOWNLOAD + ".")
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="compile firmware/ into build/device/")
    b.add_argument("--arch", default=ARCH, help="mpy-cross -march (default %(default)s, the "
                   "ESP32's; x64 for the unix port)")
    b.add_argument("--out", help="the folder to build into (default build/device, or "
                   "build/device-ARCH for another arch); emptied first")
    f = sub.add_parser("flash", help="erase the board and write MicroPython to it (esptool)",
                       description="Erase the ESP32 and write MicroPython to it with esptool. "
                       "Download the .bin from " + DOWNLOAD + "; an older one is refused.")
    f.add_argument("--port", required=True, help="the board's serial port (/dev/ttyUSB0, COM3)")
    f.add_argument("--firmware", required=True, help="the MicroPython .bin downloaded (above)")
    f.add_argument("--baud", type=int, default=460800, help="write speed (default %(default)s)")
    d = sub.add_parser("deploy", help="build and copy the changed files to the board, reset it",
                       description="Build the image and copy onto the board the files that "
                       "differ from it (by SHA-256), remove those the image no longer has, "
                       "then reset the board.")
    d.add_argument("--port", required=True, help="the board's serial port")
    d.add_argument("--image", help="deploy this built folder as it is (no build)")
    d.add_argument("--arch", default=ARCH, help="mpy-cross -march of the build "
                   "(default %(default)s)")
    d.add_argument("--no-reset", action="store_true", help="neither soft-reset the board on "
                   "connecting (mpremote resume) nor reset it at the end (e.g. the unix port)")
    m = sub.add_parser("monitor", help="the serial console (mpremote repl); Ctrl-] leaves")
    m.add_argument("--port", required=True, help="the board's serial port")
    u = sub.add_parser("bundle", help="build the image and write its update bundle to FILE "
                       "(for the admin page's update form)")
    u.add_argument("file")
    u.add_argument("--image", help="bundle this built folder as it is (no build)")
    u.add_argument("--version", help="the bundle's version (default: endpoints.VERSION)")
    u.add_argument("--arch", default=ARCH, help="mpy-cross -march (default %(default)s)")
    o = sub.add_parser("ota", help="update a board over the network, with rollback",
                       description="Build the image, send it as one bundle to the board's "
                       "/api/update (the admin password is needed), reboot it and wait until "
                       "the new version is confirmed healthy, or rolled back.")
    o.add_argument("host", help="the board's address or NAME.local (HOST:PORT if not 80)")
    o.add_argument("--password", help="the admin password (asked for when not given)")
    o.add_argument("--image", help="send this built folder as it is (no build)")
    o.add_argument("--version", help="the bundle's version (default: endpoints.VERSION)")
    o.add_argument("--arch", default=ARCH, help="mpy-cross -march (default %(default)s)")
    o.add_argument("--bundle", help="keep the bundle in this file")
    o.add_argument("--no-reboot", action="store_true", help="upload only: the board swaps it "
                   "in at its next reboot")
    a = ap.parse_args(argv)
    if a.cmd == "build":
        out = a.out or (BUILD if a.arch == ARCH else BUILD + "-" + a.arch)
        for rel in build(out, a.arch):
            print(rel)
    elif a.cmd == "flash":
        flash(a.port, a.firmware, a.baud)
    elif a.cmd == "deploy":
        deploy(a.port, a.image, a.arch, not a.no_reset)
    elif a.cmd == "bundle":
        image = a.image
        if image is None:
            image = BUILD if a.arch == ARCH else BUILD + "-" + a.arch
            build(image, a.arch)
        print("%s: %d bytes" % (a.file, make_bundle(image, a.file, a.version)))
    elif a.cmd == "ota":
        password = a.password
        if password is None and sys.stdin.isatty():
            import getpass
            password = getpass.getpass("admin password of %s: " % a.host)
        sys.exit(ota(a.host, password, a.image, a.version, a.arch, not a.no_reboot, a.bundle))
    else:
        sys.exit(monitor(a.port))


if __name__ == "__main__":
    main()
