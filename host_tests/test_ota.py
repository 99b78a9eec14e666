"""Updates over the network with rollback (firmware/otaboot.py, firmware/ota/), on the device
image under the MicroPython unix port: a temporary folder stands for the board's flash root
(the image tools/flash.py builds, and the manifest.json its deploy writes), and the firmware
runs from there (host_tests/mp/device_run.py: main.py on board/esp32.py over the fakes), so
an update really replaces the code that runs. A reset of that board (machine.reset) ends the
process; `Board` starts it again, as the chip boots again.

The new versions are the same image with a module changed: api/endpoints.py's VERSION (a
good one), main.py crashing at start, or never becoming healthy."""
import base64
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

import device_heap as dh
from conftest import FAKES, FIRMWARE, MICROPYTHON, MP_HELPERS, ROOT
from test_api import free_port

sys.path.insert(0, os.path.join(ROOT, "tools"))
import flash  # noqa: E402

PASSWORD = "s3cret-pw"
OLD, NEW = "0.1.0", "0.1.1"
HEAP = "480K"


def _compile(src_text, dst, name):
    tmp = dst + ".py"
    with open(tmp, "w") as f:
        f.write(src_text)
    subprocess.run([flash.tool("mpy-cross"), "-march=x64", "-s", name, "-o", dst, tmp],
                   check=True)
    os.remove(tmp)


def _variant(base, out, version=None, main=None):
    shutil.copytree(base, out)
    if version:
        with open(os.path.join(FIRMWARE, "api", "endpoints.py")) as f:
            text = f.read()
        assert 'VERSION = "%s"' % OLD in text
        _compile(text.replace('VERSION = "%s"' % OLD, 'VERSION = "%s"' % version),
                 os.path.join(out, "api", "endpoints.mpy"), "api/endpoints.py")
    if main:
        p = os.path.join(out, "main.py")
        with open(p) as f:
            text = f.read()
        for a, b in main:
            assert a in text, a
            text = text.replace(a, b)
        with open(p, "w") as f:
            f.write(text)
    return out


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    t = tmp_path_factory.mktemp("ota")
    v0 = dh.build(str(t / "v0"))
    assert flash.source_version() == OLD
    v1 = _variant(v0, str(t / "v1"), NEW)
    crash = _variant(v0, str(t / "crash"), NEW, [(
        "    async def run(self):\n",
        "    async def run(self):\n        raise RuntimeError('a broken build')\n")])
    sick = _variant(v0, str(t / "sick"), NEW, [("HEALTHY_S = 10 ", "HEALTHY_S = 100000 "),
                                               ("TRIAL_MS = 60000", "TRIAL_MS = 3000")])
    noboot = _variant(v1, str(t / "noboot"))
    os.remove(os.path.join(noboot, "boot.py"))      # what runs the swap: never to be lost
    bundles = {}
    for name, img in (("v1", v1), ("crash", crash), ("sick", sick), ("noboot", noboot)):
        bundles[name] = str(t / (name + ".bin"))
        flash.make_bundle(img, bundles[name], NEW)
    return {"v0": v0, "v1": v1, "bundles": bundles, "tmp": t}


def install(image, root):
    """The board's flash after tools/flash.py deploy of `image`."""
    shutil.copytree(image, root)
    with open(os.path.join(root, "manifest.json"), "w") as f:
        json.dump({"files": flash.image_files(image), "complete": True}, f)
    return root


def files_of(root):
    """{path: sha256} of the firmware's files at the root (the update's own folder and the
    manifest aside)."""
    return {p: h for p, h in flash.image_files(root).items()
            if not p.startswith("update/")}


class Board:
    """The image at `root` booting as a board: started again after each reset while
    `supervise` runs. The harness (device_run.py) runs from host_tests/mp: a swap cut midway
    may have moved the image's copy aside, as any file of the previous version."""

    def __init__(self, root, data):
        self.root, self.data = str(root), str(data)
        self.port = free_port()
        self.host = "127.0.0.1:%d" % self.port
        self.p = None
        self.boots = 0
        self.log = os.path.join(self.data + "-log.txt")
        self._stop = threading.Event()
        self._thread = None
        os.makedirs(self.data, exist_ok=True)

    def start(self):
        out = open(self.log, "ab")
        self.p = subprocess.Popen(
            [MICROPYTHON, "-X", "heapsize=" + HEAP, os.path.join(MP_HELPERS, "device_run.py"),
             self.data, str(self.port),
             'http_names="127.0.0.1"'],
            cwd=self.root, stdout=out, stderr=subprocess.STDOUT,
            env=dict(os.environ, MICROPYPATH=":".join([".frozen", FAKES, self.root])))
        out.close()
        self.boots += 1

    def supervise(self):
        def loop():
            while not self._stop.is_set():
                if self.p.poll() is not None:
                    self.start()
                time.sleep(0.05)
        self._thread = threading.Thread(target=loop, daemon=True)
        self._thread.start()

    def wait_exit(self, timeout=30):
        self.p.wait(timeout)

    def stop(self):
        self._stop.set()
        if self._thread:
            self._thread.join()
        if self.p and self.p.poll() is None:
            dh.end(self.p)

    def output(self):
        with open(self.log, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def request(self, method, path, body=None, password=None, headers=None, timeout=20):
        c = http.client.HTTPConnection(self.host, timeout=timeout)
        h = dict(headers or {})
        if password:
            h["Authorization"] = "Basic " + base64.b64encode(
                ("admin:" + password).encode()).decode()
        try:
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            return r.status, r.read().decode()
        finally:
            c.close()

    def get(self, q):
        return self.request("GET", "/api/get?" + q)

    def wait_up(self, timeout=30):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                code, body = self.get("versionmaxpv")
                if code == 200:
                    return body
            except OSError:
                pass
            if self.p.poll() is not None and not self._thread:
                break
            time.sleep(0.1)
        raise AssertionError("the board did not come up:\n" + self.output()[-3000:])

    def ota(self):
        return json.loads(self.get("ota")[1])

    def wait_state(self, states, timeout=40):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                s = self.ota()
                if s["state"] in states:
                    return s
            except (OSError, ValueError):
                pass
            time.sleep(0.2)
        raise AssertionError("no %s:\n%s" % (states, self.output()[-3000:]))

    def upload(self, data, password=PASSWORD):
        return self.request("POST", "/api/update", data, password,
                            {"Content-Type": "application/octet-stream"}, timeout=60)

    def set_password(self):
        assert self.get("ota")[0] == 200
        code, body = self.request("GET", "/api/set?adminpass&value=" + PASSWORD)
        assert code == 200, body


@pytest.fixture
def board(images, tmp_path):
    made = []

    def make(image=None):
        b = Board(install(image or images["v0"], str(tmp_path / "flash")), tmp_path / "data")
        made.append(b)
        return b
    yield make
    for b in made:
        b.stop()


def read(path):
    with open(path, "rb") as f:
        return f.read()


# --- a good update, with tools/flash.py ota --------------------------------------------------
def test_flash_ota_updates_the_board_and_the_new_version_confirms(images, board):
    b = board()
    b.start()
    assert b.wait_up() == OLD
    b.set_password()
    b.supervise()                   # the reboot after the upload: the board boots again
    p = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "flash.py"), "ota", b.host,
                        "--password", PASSWORD, "--image", images["v1"], "--version", NEW],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr + b.output()[-3000:]
    assert "version %s runs, confirmed" % NEW in p.stdout
    assert b.wait_up() == NEW                   # the code that runs is the new one
    s = b.ota()
    assert (s["state"], s["new"], s["previous"], s["reason"]) == ("confirmed", NEW, OLD, None)
    assert files_of(b.root) == flash.image_files(images["v1"])
    with open(os.path.join(b.root, "manifest.json")) as f:
        assert json.load(f) == {"files": flash.image_files(images["v1"]), "complete": True}
    assert b.boots == 2


# --- refused: nothing changes -----------------------------------------------------------------
def _broken(bundle):
    good = read(bundle)
    end = good.index(b"\nend ") + 1
    body_at = good.index(b"\n", end) + 1
    flipped = bytearray(good)
    flipped[body_at + 5000] ^= 0x01             # a byte of a file's body
    head_flipped = bytearray(good)
    head_flipped[40] ^= 0x01                    # a byte of the manifest
    # a file's hash wrong in a manifest whose own hash is right
    lines = good[:end].decode().splitlines(True)
    k = next(i for i, ln in enumerate(lines) if ln.startswith("file ") and "api/app.mpy" in ln)
    w = lines[k].split(" ")
    w[1] = "0" * 64
    lines[k] = " ".join(w)
    head = "".join(lines).encode()
    import hashlib
    wrong_hash = head + b"end " + hashlib.sha256(head).hexdigest().encode() + b"\n" + good[body_at:]
    return {"flipped": (bytes(flipped), "SHA-256 is not the manifest's"),
            "manifest flipped": (bytes(head_flipped), "manifest"),
            "wrong manifest hash": (wrong_hash, "api/app.mpy: its SHA-256 is not the manifest's"),
            "truncated": (good[:len(good) // 2], "ends in"),
            "too long": (good + b"x", "bytes after the last file"),
            "not a bundle": (b"GIF89a" + good[6:], "not a bundle")}


def test_a_bad_upload_is_refused_and_nothing_changes(images, board):
    b = board()
    b.start()
    assert b.wait_up() == OLD
    bundle = read(images["bundles"]["v1"])
    before = files_of(b.root)
    code, body = b.upload(bundle, password=None)
    assert code == 403 and "needs an admin password" in body and "adminpass" in body, body
    b.set_password()
    code, body = b.upload(bundle, password=None)
    assert code == 401, body
    code, body = b.upload(bundle, password="wrong")
    assert code == 401, body
    code, body = b.request("GET", "/api/update", password=PASSWORD)
    assert code == 405 and "POST only" in body
    code, body = b.request("POST", "/api/get?version", b"x", password=PASSWORD)
    assert code == 405
    broken = _broken(images["bundles"]["v1"])
    broken["no boot.py"] = (read(images["bundles"]["noboot"]), "the bundle has no boot.py")
    for name, (data, why) in broken.items():
        code, body = b.upload(data)
        assert code == 400 and body.startswith("Bad request: the update is refused, nothing "
                                               "changed") and why in body, (name, body)
        s = b.ota()
        assert s["state"] == "none" and s["upload"]["result"] == "refused", (name, s)
    # a connection that dies midway
    s = socket.create_connection(("127.0.0.1", b.port))
    auth = base64.b64encode(("admin:" + PASSWORD).encode()).decode()
    s.sendall(("POST /api/update HTTP/1.0\r\nAuthorization: Basic %s\r\nContent-Length: %d"
               "\r\n\r\n" % (auth, len(bundle))).encode() + bundle[:len(bundle) // 3])
    time.sleep(0.5)
    s.close()
    time.sleep(0.5)
    assert b.ota()["state"] == "none"
    assert not os.path.exists(os.path.join(b.root, "update", "state.json"))
    assert files_of(b.root) == before
    # and the next boot runs the same version, nothing swapped
    b.stop()
    b.start()
    assert b.wait_up() == OLD
    assert files_of(b.root) == before


# --- a new version that fails its health check is rolled back ---------------------------------
@pytest.mark.parametrize("which, why", [("crash", "it crashed at start: RuntimeError: a broken build"),
                                        ("sick", "its start was not healthy within 3 s")])
def test_a_new_version_that_is_not_healthy_is_rolled_back(images, board, which, why):
    b = board()
    b.start()
    assert b.wait_up() == OLD
    b.set_password()
    code, body = b.upload(read(images["bundles"][which]))
    assert code == 200 and "version %s staged" % NEW in body, body
    assert b.ota()["state"] == "staged"
    b.request("GET", "/api/action?rebootesp", password=PASSWORD)
    b.wait_exit()
    b.start()                       # the trial: it crashes, or reboots itself after 3 s
    b.wait_exit(40)
    assert "on trial" in b.output()
    b.start()
    assert b.wait_up() == OLD
    s = b.ota()
    assert (s["state"], s["new"], s["previous"], s["reason"]) == ("rolled_back", NEW, OLD, why)
    assert files_of(b.root) == flash.image_files(images["v0"])


# --- a power cut at every step of the swap ----------------------------------------------------
def _boot_swap(root, n):
    """otaboot.boot() at `root`, cut before its nth change of the flash (0: never). Returns
    ('CUT'|'DONE', the line)."""
    p = subprocess.Popen([MICROPYTHON, os.path.join(MP_HELPERS, "ota_cut.py"), str(n)],
                         cwd=root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         env=dict(os.environ, MICROPYPATH=":".join([".frozen", FAKES, root])))
    line = b""
    while True:
        line = p.stdout.readline()
        if not line or line.startswith((b"CUT", b"DONE")):
            break
    if line.startswith(b"CUT"):
        p.send_signal(signal.SIGKILL)       # the power cut: nothing more runs
    rest = p.communicate(timeout=30)[0]
    return line.decode().strip(), rest.decode()


def _which(root, images):
    """'v0' or 'v1': the version the root holds whole (else the test fails: a mix)."""
    now = files_of(root)
    for name in ("v0", "v1"):
        if now == flash.image_files(images[name]):
            return name
    raise AssertionError("neither version whole at %s" % root)


def _state(root):
    with open(os.path.join(root, "update", "state.json")) as f:
        return json.load(f)["state"]


def test_a_power_cut_at_every_step_of_the_swap_leaves_a_bootable_board(images, board, tmp_path):
    b = board()
    b.start()
    assert b.wait_up() == OLD
    b.set_password()
    code, body = b.upload(read(images["bundles"]["v1"]))
    assert code == 200, body
    b.stop()
    staged = b.root
    # the whole swap, uncut: how many changes of the flash it makes
    whole = str(tmp_path / "whole")
    shutil.copytree(staged, whole)
    line, out = _boot_swap(whole, 0)
    assert line == "DONE %s True" % line.split()[1], line + out
    steps = int(line.split()[1])
    assert _which(whole, images) == "v1" and _state(whole) == "trial"
    # its rollback (the trial not confirmed), uncut
    trial = whole
    back = str(tmp_path / "back")
    shutil.copytree(trial, back)
    line, out = _boot_swap(back, 0)
    back_steps = int(line.split()[1])
    assert _which(back, images) == "v0" and _state(back) == "rolled_back"
    assert steps > 100 and back_steps > 50, (steps, back_steps)
    seen = {}
    full_boots = {1, steps // 3, steps // 2, steps, steps + back_steps // 2}
    for n in range(1, steps + back_steps + 1):
        root = str(tmp_path / "cut")
        shutil.rmtree(root, ignore_errors=True)
        first = n <= steps
        shutil.copytree(staged if first else trial, root)
        line, out = _boot_swap(root, n if first else n - steps)
        assert line.startswith("CUT"), (n, line, out)
        # the next boot: its swap ends the job, then the firmware finds one version whole
        if n in full_boots:         # the firmware itself, serving its version
            d = Board(root, tmp_path / ("data%d" % n))
            d.start()
            try:
                version = d.wait_up()
            finally:
                d.stop()
            assert version == (NEW if first else OLD), (n, version)
            got = (_which(root, images), "trial" if first else "rolled_back")
        else:                       # its swap alone (quicker)
            line, out = _boot_swap(root, 0)
            assert line.startswith("DONE"), (n, line, out)
            got = (_which(root, images), _state(root))
        assert got == (("v1", "trial") if first else ("v0", "rolled_back")), (n, got, out)
        seen[got] = seen.get(got, 0) + 1
    # a cut anywhere in the swap: the next boot ends it (v1 on trial); anywhere in the
    # rollback of an unconfirmed trial: the next boot ends that (v0)
    assert seen == {("v1", "trial"): steps, ("v0", "rolled_back"): back_steps}


# --- the admin page's form --------------------------------------------------------------------
def test_the_admin_page_sends_an_update_with_its_progress_and_shows_the_state(images, board,
                                                                               browser):
    from playwright.sync_api import expect
    b = board()
    b.start()
    assert b.wait_up() == OLD
    b.set_password()
    base = "http://" + b.host
    page = browser.page(base)
    page.goto(base + "/#admin")
    expect(page.get_by_test_id("ota-state")).to_contain_text("Version %s en marche" % OLD)
    page.get_by_test_id("ota-send").click()
    expect(page.get_by_test_id("ota-result")).to_have_text("Choisissez d'abord un fichier.")
    assert b.ota()["upload"] is None                    # nothing was sent
    page.get_by_test_id("ota-file").set_input_files(images["bundles"]["v1"])
    page.get_by_test_id("ota-send").click()
    # refused without the password (nothing staged), then asked for, and sent again with it
    expect(page.locator("#login")).to_be_visible()
    assert b.ota()["state"] == "none"
    page.locator("#login-pass").fill(PASSWORD)
    page.locator("#login-ok").click()
    expect(page.get_by_test_id("ota-result")).to_contain_text("version %s staged" % NEW,
                                                              timeout=60000)
    assert page.get_by_test_id("ota-progress").evaluate("e => e.value") == 1
    expect(page.get_by_test_id("ota-state")).to_contain_text("dernière mise à jour : staged")
    s = b.ota()
    assert (s["state"], s["new"], s["upload"]["result"]) == ("staged", NEW, "staged")
    assert not [e for e in page.console_errors if "Failed to load resource" not in e]
    assert page.outside == []
