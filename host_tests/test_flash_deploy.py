"""tools/flash.py's deploy, monitor and flash, proven against a board.

The board is the MicroPython unix port behind a pseudo-terminal (socat), driven by the real
mpremote, as a serial ESP32 is: its REPL on the pty's other end, raw REPL and raw-paste
included, and its flash is the interpreter's current folder. The unix port has no soft reset,
so deploy runs with --no-reset (mpremote `resume`). The image is the device image built for
this PC (`build --arch x64`), so that the firmware can then start from the deployed files,
on board/esp32.py over the hardware fakes (host_tests/mp/device_run.py).

flash is checked up to esptool (replaced by a recorder): which files it refuses, and why.
"""
import hashlib
import json
import os
import pty
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from conftest import FAKES, MICROPYTHON, MP_HELPERS, ROOT

sys.path.insert(0, os.path.join(ROOT, "tools"))
import flash  # noqa: E402

FLASH_PY = os.path.join(ROOT, "tools", "flash.py")
SOCAT = shutil.which("socat")
SUMMARY = re.compile(r"^deploy: (\d+) copied, (\d+) removed, (\d+) unchanged", re.M)


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    """The device image, built by the command line for the unix port."""
    out = tmp_path_factory.mktemp("image") / "x64"
    p = subprocess.run([sys.executable, FLASH_PY, "build", "--arch", "x64", "--out", str(out)],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert {"boot.py", "main.py", "realtime.mpy", "router/measure.mpy",
            "www/index.html.gz"} <= set(p.stdout.split())
    # x64 (arch 2 in the .mpy header's byte 2) where there is native code
    assert (out / "board" / "capture.mpy").read_bytes()[2] >> 2 == 2
    return out


class Board:
    """MicroPython's unix port on a pseudo-terminal: `port` is the pty to give mpremote,
    `flash` the folder that is its file system."""

    def __init__(self, root):
        assert SOCAT, "socat is missing (make test installs it: apt-get install socat)"
        self.flash = root / "flash"
        self.flash.mkdir()
        link = root / "tty"
        # raw, no echo, on both ends: the bytes mpremote writes reach the REPL as they are
        self.p = subprocess.Popen(
            [SOCAT, "PTY,link=%s,raw,echo=0" % link,
             "EXEC:%s -i,pty,raw,echo=0,stderr" % MICROPYTHON],
            cwd=str(self.flash), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            start_new_session=True)
        end = time.monotonic() + 10
        while not link.exists():
            assert self.p.poll() is None, self.p.stderr.read()
            assert time.monotonic() < end, "socat made no pty"
            time.sleep(0.02)
        # the pty's own name: mpremote reads a /dev/pts/N blocking, a link byte by byte
        # with a poll every 10 ms (ten times slower)
        self.port = os.path.realpath(str(link))

    def files(self):
        """{path: bytes} of every file on the board but the manifest."""
        out = {}
        for d, _, names in os.walk(self.flash):
            for n in names:
                p = os.path.join(d, n)
                rel = os.path.relpath(p, self.flash).replace(os.sep, "/")
                if rel != flash.MANIFEST:
                    with open(p, "rb") as f:
                        out[rel] = f.read()
        return out

    def mtimes(self):
        return {rel: os.stat(os.path.join(self.flash, rel)).st_mtime_ns for rel in self.files()}

    def manifest(self):
        with open(self.flash / flash.MANIFEST) as f:
            return json.load(f)

    def close(self):
        try:
            os.killpg(self.p.pid, signal.SIGTERM)     # socat and the micropython it started
        except ProcessLookupError:
            pass
        try:
            self.p.wait(5)
        except subprocess.TimeoutExpired:
            os.killpg(self.p.pid, signal.SIGKILL)
            self.p.wait(5)
        self.p.stderr.close()


@pytest.fixture
def board(tmp_path):
    b = Board(tmp_path)
    yield b
    b.close()


def deploy(board, image, ok=True):
    """tools/flash.py deploy, as the owner runs it; returns (copied, removed, unchanged, output)."""
    p = subprocess.run([sys.executable, FLASH_PY, "deploy", "--port", board.port, "--image",
                        str(image), "--no-reset"], capture_output=True, text=True, timeout=60)
    if not ok:
        assert p.returncode != 0, p.stdout
        return p.stdout + p.stderr
    assert p.returncode == 0, p.stdout + p.stderr
    m = SUMMARY.search(p.stdout)
    assert m, p.stdout
    return int(m.group(1)), int(m.group(2)), int(m.group(3)), p.stdout


def image_files(image):
    return {rel: (image / rel).read_bytes() for rel in flash.image_files(str(image))}


def copy_of(image, tmp_path, name):
    dst = tmp_path / name
    shutil.copytree(image, dst)
    return dst


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def boots(board):
    """The firmware starts from the board's files, as on the chip (sys.path '', .frozen,
    /lib; its records in /data), on board/esp32.py over the fakes, and serves the API and
    the web UI."""
    port = free_port()
    env = dict(os.environ, MICROPYPATH=":".join([".frozen", FAKES, str(board.flash),
                                                 str(board.flash / "lib")]))
    log = board.flash.parent / "boot.log"
    with open(log, "wb") as out:
        p = subprocess.Popen([MICROPYTHON, "-X", "heapsize=1M",
                              os.path.join(MP_HELPERS, "device_run.py"), "data", str(port)],
                             cwd=str(board.flash), env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            end = time.monotonic() + 30
            while True:
                assert p.poll() is None, log.read_text()
                try:
                    with urllib.request.urlopen("http://127.0.0.1:%d/api/get?alldata" % port,
                                                timeout=2) as r:
                        alldata = r.read().decode()
                    with urllib.request.urlopen("http://127.0.0.1:%d/" % port, timeout=2) as r:
                        page = r.status
                    break
                except OSError:
                    assert time.monotonic() < end, log.read_text()
                    time.sleep(0.1)
        finally:
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
    assert len(alldata.split(",")) > 20 and page == 200, (alldata, page)
    return True


def test_deploy_copies_the_image_then_only_what_changed(image, board, tmp_path):
    files = image_files(image)
    copied, removed, unchanged, out = deploy(board, image)
    assert (copied, removed, unchanged) == (len(files), 0, 0), out
    assert board.files() == files
    m = board.manifest()
    assert m["complete"]
    assert m["files"] == {k: hashlib.sha256(v).hexdigest() for k, v in files.items()}
    assert boots(board)
    saved = {k: v for k, v in board.files().items() if k.startswith("data/")}
    assert saved, "the firmware saved nothing in data/"

    # Nothing changed: nothing is copied, not a file is rewritten.
    before = board.mtimes()
    assert deploy(board, image)[:3] == (0, 0, len(files))
    assert board.mtimes() == before

    # One firmware file changed, one added in a new folder: those two are copied, only they.
    changed = copy_of(image, tmp_path, "changed")
    with open(changed / "main.py", "a") as f:
        f.write("# changed\n")
    (changed / "extra").mkdir()
    (changed / "extra" / "old.txt").write_text("soon gone")
    copied, removed, unchanged, out = deploy(board, changed)
    assert (copied, removed, unchanged) == (2, 0, len(files) - 1), out
    assert re.findall(r"^copy (.*)$", out, re.M) == ["extra/old.txt", "main.py"]
    now = board.mtimes()
    assert {k for k in before if now[k] != before[k]} == {"main.py"}
    assert board.files() == dict(image_files(changed), **saved)

    # Back to the image: main.py again, extra/old.txt removed with its folder; the records
    # the firmware saved (never part of an image) are left as they are. An update over the
    # network that was on its trial is superseded: its state goes, so the reset that ends
    # the deploy cannot roll the deployed files back.
    (board.flash / "update").mkdir()
    (board.flash / "update" / "state.json").write_text('{"state": "trial", "version": "x"}')
    copied, removed, unchanged, out = deploy(board, image)
    assert not (board.flash / "update" / "state.json").exists()
    assert (copied, removed, unchanged) == (1, 1, len(files) - 1), out
    assert "remove extra/old.txt" in out
    assert not (board.flash / "extra").exists()
    assert board.files() == dict(files, **saved)
    assert boots(board)


def test_deploy_restores_a_missing_or_damaged_file(image, board):
    files = image_files(image)
    deploy(board, image)
    # a file deleted on the board, another cut short (as an interrupted copy leaves it):
    # the manifest still has their right hashes, the board's own hashes decide
    (board.flash / "router" / "measure.mpy").unlink()
    damaged = board.flash / "realtime.mpy"
    damaged.write_bytes(damaged.read_bytes()[:100])
    copied, removed, unchanged, out = deploy(board, image)
    assert (copied, removed) == (2, 0), out
    assert re.findall(r"^copy (.*)$", out, re.M) == ["realtime.mpy", "router/measure.mpy"]
    assert board.files() == files
    # and deleting a file from the image removes it from the board
    smaller = copy_of(image, board.flash.parent, "smaller")
    (smaller / "net" / "sntp.mpy").unlink()
    assert deploy(board, smaller)[:2] == (0, 1)
    assert not (board.flash / "net" / "sntp.mpy").exists()
    assert deploy(board, image)[:2] == (1, 0)
    assert board.files() == files


def test_an_interrupted_deploy_is_completed_by_the_next(image, board, tmp_path):
    files = image_files(image)
    first = copy_of(image, tmp_path, "first")
    (first / "extra").mkdir()
    (first / "extra" / "old.txt").write_text("copied before the failure")
    # The last file of the copy order cannot be written (a folder stands in its way): the
    # deploy stops after copying all the others, without writing its final manifest.
    last = sorted(files)[-1]
    (board.flash / last / os.path.basename(last)).mkdir(parents=True)
    out = deploy(board, first, ok=False)
    assert "mpremote failed" in out
    on_board = board.files()
    assert on_board["extra/old.txt"] == b"copied before the failure" and "main.py" in on_board
    assert not board.manifest()["complete"]
    shutil.rmtree(board.flash / last)
    # The next deploy (of another image) copies what is missing, and removes extra/old.txt,
    # which the interrupted deploy had copied: it was listed before it was copied.
    copied, removed, unchanged, out = deploy(board, image)
    assert (copied, removed, unchanged) == (1, 1, len(files) - 1), out
    assert board.files() == files and board.manifest()["complete"]


def test_monitor_is_the_serial_console(board):
    master, slave = pty.openpty()     # mpremote's console wants a terminal
    p = subprocess.Popen([sys.executable, FLASH_PY, "monitor", "--port", board.port],
                         stdin=slave, stdout=slave, stderr=slave, close_fds=True)
    os.close(slave)

    def read_until(what, timeout=15):
        seen = b""
        end = time.monotonic() + timeout
        while what not in seen and time.monotonic() < end:
            if select.select([master], [], [], 0.1)[0]:
                try:
                    seen += os.read(master, 4096)
                except OSError:
                    break
        return seen

    try:
        assert b"to exit this shell" in read_until(b"to exit this shell")
        os.write(master, b"print(6 * 7)\r")
        assert b"42" in read_until(b"42")
        os.write(master, b"\x1d")            # Ctrl-]: leave
        assert p.wait(10) == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(5)
        os.close(master)


# ---- flash ------------------------------------------------------------------------------

def fake_bin(path, chip=0, banner=None, app=False):
    """A file shaped like MicroPython's whole-flash ESP32 .bin (written at 0x1000), or its
    application image (.app-bin, for 0x10000)."""
    b = bytearray(0x8000)
    b[0] = 0xE9                          # image magic
    b[12] = chip                         # extended header: chip id (0: ESP32)
    b[0x7000:0x7002] = b"\xaa\x50"       # the partition table, at flash 0x8000
    if app:
        b[0x20:0x24] = b"\x32\x54\xcd\xab"  # esp_app_desc_t's magic: an application image
        b[0x7000:0x7002] = b"\0\0"
    if banner:
        b += b"\x00" + banner + b"\x00"
    path.write_bytes(bytes(b))
    return str(path)


@pytest.fixture
def esptool(monkeypatch):
    """Records the esptool runs instead of making them."""
    runs = []

    def run(cmd, **kw):
        runs.append(cmd)
        return subprocess.CompletedProcess(cmd, 0)
    monkeypatch.setattr(flash.subprocess, "run", run)
    return runs


def refused(path, capsys):
    with pytest.raises(SystemExit) as e:
        flash.main(["flash", "--port", "/dev/ttyUSB0", "--firmware", path])
    return str(e.value.code)


@pytest.mark.parametrize("name, banner, why", [
    ("ESP32_GENERIC-20250911-v1.26.0.bin", None, "v1.26.0 (from the file name)"),
    ("ESP32_GENERIC-SPIRAM-20251209-v1.27.0-preview.213.g1f0aa2ba6c.bin", None,
     "v1.27.0-preview (from the file name)"),
    ("firmware.bin", b"MicroPython v1.25.0 on 2025-04-15; Generic ESP32 module with ESP32",
     "v1.25.0 (from the version inside the file)"),
    # the version inside the file wins over its name
    ("ESP32_GENERIC-v1.28.0.bin", b"MicroPython v1.26.1 on 2025-09-11",
     "v1.26.1 (from the version"),
])
def test_flash_refuses_a_micropython_older_than_1_27(tmp_path, esptool, capsys, name, banner, why):
    msg = refused(fake_bin(tmp_path / name, banner=banner), capsys)
    assert why in msg and "v1.27 or later" in msg and "RMT" in msg, msg
    assert "micropython.org/download/ESP32_GENERIC/" in msg
    assert "micropython.org/download/ESP32_GENERIC-SPIRAM/" in msg
    assert esptool == []                 # refused before anything was erased


def test_flash_refuses_what_is_not_the_esp32s_whole_flash_image(tmp_path, esptool, capsys):
    assert "no such firmware file" in refused(str(tmp_path / "missing.bin"), capsys)
    (tmp_path / "x.uf2").write_bytes(b"UF2\n" * 100)
    assert "not an ESP32 firmware image" in refused(str(tmp_path / "x.uf2"), capsys)
    assert "another chip" in refused(fake_bin(tmp_path / "ESP32_GENERIC_S3-v1.28.0.bin", chip=9),
                                     capsys)
    assert "application image" in refused(
        fake_bin(tmp_path / "ESP32_GENERIC-v1.28.0.app-bin", app=True), capsys)
    assert esptool == []


@pytest.mark.parametrize("name, banner", [
    ("ESP32_GENERIC-SPIRAM-20251209-v1.27.0.bin", None),
    ("ESP32_GENERIC-20260406-v1.28.0-preview.12.gabcdef.bin", None),
    ("micropython.bin", b"MicroPython v1.28.0 on 2026-04-06; Generic ESP32 module with ESP32"),
    ("micropython.bin", None),           # cannot be told: said, and flashed
])
def test_flash_erases_then_writes_at_0x1000(tmp_path, esptool, capsys, name, banner):
    path = fake_bin(tmp_path / name, banner=banner)
    flash.main(["flash", "--port", "/dev/ttyUSB0", "--firmware", path])
    assert [c[1:] for c in esptool] == [
        ["--chip", "esp32", "--port", "/dev/ttyUSB0", "erase-flash"],
        ["--chip", "esp32", "--port", "/dev/ttyUSB0", "--baud", "460800", "write-flash", "0x1000",
         path]]
    said = capsys.readouterr().out
    assert ("could not tell" in said) == (name == "micropython.bin" and banner is None), said


def test_help_says_where_micropython_comes_from():
    p = subprocess.run([sys.executable, FLASH_PY, "flash", "--help"], capture_output=True,
                       text=True, timeout=30)
    assert p.returncode == 0
    text = " ".join(p.stdout.split())
    assert "micropython.org/download/ESP32_GENERIC/" in text
    assert "micropython.org/download/ESP32_GENERIC-SPIRAM/" in text


def test_deploy_to_a_chip_soft_resets_first_and_resets_at_the_end(image, monkeypatch, capsys):
    # What deploy asks mpremote for without --no-reset (the unix port cannot take it): the
    # first connection soft-resets the board (mpremote's default), with the watchdog
    # stretched; the second resumes, copies, writes the manifest and resets.
    runs = []

    def run(cmd, **kw):
        runs.append(cmd)
        out = "".join("F - %s\n" % p for p in flash.image_files(str(image))) if len(runs) == 1 \
            else "deployed\n"
        return subprocess.CompletedProcess(cmd, 0, out, "")
    monkeypatch.setattr(flash.subprocess, "run", run)
    copied, removed, unchanged = flash.deploy("/dev/ttyUSB0", str(image))
    assert len(copied) == len(flash.image_files(str(image))) and not removed and not unchanged
    survey, rest = runs
    assert survey[1:4] == ["connect", "/dev/ttyUSB0", "exec"]
    assert ", %d, 'update/state.json')" % flash.DEPLOY_WDT_MS in survey[4]
    assert rest[1:4] == ["connect", "/dev/ttyUSB0", "resume"] and rest[-2:] == ["+", "reset"]
    assert rest.count("cp") == len(copied) and "board reset" in capsys.readouterr().out
