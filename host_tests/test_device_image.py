"""The device image: precompiled for the ESP32, without the simulated board, and it runs."""
import os
import subprocess
import sys

from conftest import ROOT, FIRMWARE, MICROPYTHON

sys.path.insert(0, os.path.join(ROOT, "tools"))
import flash  # noqa: E402


def test_image_holds_every_device_module_and_no_sim(tmp_path):
    out = tmp_path / "device"
    files = set(flash.build(str(out)))
    assert {"boot.py", "main.py", "realtime.mpy", "board/capture.mpy", "board/config.mpy",
            "router/measure.mpy", "router/mains.mpy"} <= files
    # no simulator code: not the simulated board, not its HTTP controls
    assert not any("sim" in f.split("/")[-1] or f.startswith("board/sim") for f in files)
    for f in files:
        if f.endswith((".py", ".mpy")):
            assert b"/sim/" not in (out / f).read_bytes(), f
    # .mpy header: magic 'M', version 6, arch in the high bits of byte 2 (xtensawin = 10).
    head = (out / "board" / "capture.mpy").read_bytes()[:4]
    assert head[0] == ord("M") and head[1] == 6 and head[2] >> 2 == 10


def test_bytecode_image_imports_on_micropython(tmp_path):
    # The same build for the host's architecture imports and measures on the unix port:
    # the image is complete (nothing it needs was left behind) except the board itself.
    out = tmp_path / "img"
    for rel in flash.device_files():
        if rel.endswith(".py") and rel not in flash.AS_SOURCE:
            dst = out / (rel[:-3] + ".mpy")
            dst.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run([flash.tool("mpy-cross"), "-march=x64", "-o", str(dst), rel],
                           cwd=FIRMWARE, check=True)
    code = ("import realtime, router.measure, router.mains, board.capture, board.firing, board.config;"
            "print('ok')")
    p = subprocess.run([MICROPYTHON, "-c", code], cwd=str(out), capture_output=True, text=True,
                       env=dict(os.environ, MICROPYPATH=".frozen:" + str(out)))
    assert p.stdout.strip() == "ok", p.stderr
