"""The watchdog, the boot counter and safe mode (firmware/safemode.py, main.py), under the
real MicroPython interpreter: on the simulated board, and on the chip's own path (board/esp32.py
and board/esp32_safe.py) over the fakes of host_tests/fakes, whose machine.WDT behaves as the
esp32 port's (started by the first WDT(), reconfigured by a later one, never stopped).

- the watchdog starts only once the start is healthy, never at the board's construction;
- a firmware that crashes at start three times comes up in safe mode: the API says why, the
  router is stopped (nothing fired, SSR and relay in STOP), and a reboot from the API ends it;
- a healthy start clears the count; power-ups (a power cut) neither count nor clear it;
  resets nobody asked for (the watchdog, a panic) count;
- the console's ways out: Ctrl-C stretches a running watchdog and stops at the REPL; the
  `safe` file keeps the router stopped without a watchdog;
- MicroPython older than 1.27 is refused: safe mode with that reason, on the chip without
  making the board (its RMT).
"""
import json
import os
import signal
import subprocess
import tempfile
import time

from conftest import FIRMWARE, MICROPYTHON, WWW, run_mp
from test_api import free_port, get

SIM = """
import json, main, safemode
from board.sim.board import SimBoard
D = %r
def boot(*args):
    return main.main(["main.py", "--speed", "0", "--quiet", "1", "--port", "%d", "--www", %r,
                      "--data", D] + list(args))
def record():
    from records.store import Store
    return Store(D).read("boot")
"""


def sim(tmp_path, code):
    return run_mp(SIM % (str(tmp_path), free_port(), WWW) + code)


# the chip's path: safemode.CHIP, its folders in tmp, the fakes' hardware playing a mains
CHIP = """
import json, math, time, machine, esp32, network, main, safemode
from array import array
from board import config
from records.store import Store
from records.config import Config
D = %r
safemode.CHIP = True
safemode.DATA_DIR = D
safemode.SAFE_FILE = D + "/safe"
safemode.CRASH_PAUSE_MS = 10
Config(Store(D)).update(json.dumps({"http_port": %d, "wifi_ssid": "home",
                                    "wifi_pass": "secret-pass"}))
def table(peak, phase):
    return array("H", [max(0, min(4095, int(config.MID + peak * math.sin(2 * math.pi * k / 400
                                                                         + phase))))
                       for k in range(400)])
TV = table(230 * 1.4142 / config.V_CALIB, 0.0)
TI = table(2 * 1.4142 / config.I_CALIB, math.pi)
ticks = time.ticks_us
machine.ADC.sources[config.PIN_V] = lambda: TV[(ticks() // 50) %% 400]
machine.ADC.sources[config.PIN_I] = lambda: TI[(ticks() // 50) %% 400]
esp32.RMT.record = False
esp32.RMT.clock = lambda: ticks() & 0x3FFFFFFF
connect = network.WLAN.connect
def joined(self, ssid, key=None):
    connect(self, ssid, key)
    network.got_ip()
network.WLAN.connect = joined
from board.esp32 import Esp32Board
def make(opts):                           # what main.py makes on the chip
    b = Esp32Board(data_dir=D)
    b._last_ms = time.ticks_ms()          # the unix port's ms do not count from its start
    return b
main.make_board = make
def boot(*args):
    return main.main(["main.py", "--quiet", "1", "--www", %r] + list(args))
def pads():
    P = machine.Pin.pads
    return [P[config.PIN_SSR]["mode"] == machine.Pin.OUT and P[config.PIN_SSR]["value"],
            P[config.PIN_RELAY]["value"]]
"""


def chip(tmp_path, code, **kw):
    return run_mp(CHIP % (str(tmp_path), free_port(), WWW) + code, fakes=True, **kw)


# --- the watchdog ---------------------------------------------------------------------------
def test_the_watchdog_starts_once_the_start_is_healthy_on_the_simulated_board(tmp_path):
    # 8 s once healthy; before, from the board's start, the start's long one
    r = sim(tmp_path, """
seen = []
bw = SimBoard.between_windows
def spy(self, n):
    s = self.seconds()
    if not seen or s - seen[-1][0] >= 0.25:
        seen.append([s, self.wdt_timeout_ms])
    return bw(self, n)
SimBoard.between_windows = spy
fw = boot("--seconds", "20")
b = fw.board
print(json.dumps([seen, fw.guard.state(), b.wdt_timeout_ms, b.wdt_expired, b.last_feed > b.now - 100000]))
""")
    seen, state, timeout, expired, fed = r
    n = main_healthy_s()
    early = [ms for s, ms in seen if s < n - 0.5]
    late = [ms for s, ms in seen if s > n + 1.5]
    assert early and late
    assert all(ms == safemode_start_ms() for ms in early), seen
    assert all(ms == 8000 for ms in late), seen
    assert state["healthy"] and state["watchdog"] and not state["active"]
    assert timeout == 8000 and not expired and fed      # fed by every window since


def main_healthy_s():
    import main
    return main.HEALTHY_S


def safemode_start_ms():
    import safemode
    return safemode.START_WDT_MS


def test_the_chip_guards_the_start_with_a_long_watchdog_then_8_s_once_healthy(tmp_path):
    r = chip(tmp_path, """
main.HEALTHY_S = 2
seen = []
from board.esp32 import Esp32Board
bw = Esp32Board.between_windows
def spy(self, n=None):
    s = self.seconds()
    if not seen or s - seen[-1][0] >= 0.2:
        seen.append([s, machine.WDT.timeout_ms])
    return bw(self, n)
Esp32Board.between_windows = spy
fw = boot("--seconds", "3.5")
w = machine.WDT.instances
print(json.dumps([seen, [x.timeout for x in w], [x.feeds for x in w], fw.guard.state()]))
""", timeout=60)
    seen, timeouts, feeds, state = r
    start = safemode_start_ms()
    assert all(ms == start for s, ms in seen if s < 1.5), seen     # from the first window
    assert seen[-1][1] == 8000, seen           # the router's once healthy (2 summaries here)
    assert timeouts == [start, 8000]           # the same hardware, reconfigured
    assert feeds[0] > 5 and feeds[1] > 10      # fed by each window, before and after
    assert state["watchdog"] and state["failed_starts"] == 0


# --- three crashes: safe mode, over HTTP ------------------------------------------------------
class Fw:
    def __init__(self, data, *args):
        self.port = free_port()
        self.base = "http://127.0.0.1:%d" % self.port
        self.log = tempfile.TemporaryFile()
        env = dict(os.environ, MICROPYPATH=".frozen:" + FIRMWARE)
        self.p = subprocess.Popen([MICROPYTHON, "main.py", "--port", str(self.port), "--quiet", "1",
                                   "--data", str(data), "--www", WWW, *args],
                                  cwd=FIRMWARE, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def output(self):
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def json(self, what):
        return json.loads(get(self.base, "/api/get?" + what)[1])

    def until(self, test, timeout=20):
        deadline = time.monotonic() + timeout
        while True:
            try:
                v = test()
                if v:
                    return v
            except (OSError, ValueError):
                pass
            assert time.monotonic() < deadline and self.p.poll() is None, self.output()[-3000:]
            time.sleep(0.1)

    def stop(self):
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait()


def test_three_crashes_at_start_bring_up_safe_mode_and_a_reboot_ends_it(tmp_path):
    fw = Fw(tmp_path, "--speed", "4", "--crash", "3", "--scenario", "clear_day")
    try:
        s = fw.until(lambda: fw.json("safemode"))
        assert s["active"] and s["failed_starts"] == 3 and not s["watchdog"]
        assert "3 starts in a row failed" in s["reason"]
        assert "RuntimeError: simulated crash at start (boot 3" in s["last_crash"]
        assert s["last_crash"] in s["reason"] and len(s["last_crash"]) <= 300
        assert fw.output().count("crashed:") == 3
        # the router is stopped: nothing fired, modes STOP, commands refused
        assert get(fw.base, "/api/get?ping")[1] == "offline"
        assert get(fw.base, "/api/get?ssrstate")[1] == "STOP"
        assert get(fw.base, "/api/get?relaystate")[1] == "STOP"
        code, body, _ = get(fw.base, "/api/set?ssrmode&value=force")
        assert code == 400 and "safe mode" in body
        st0 = json.loads(get(fw.base, "/sim/state")[1])
        time.sleep(1.5)                      # 6 s of the house at speed 4, in full sun
        st1 = json.loads(get(fw.base, "/sim/state")[1])
        assert st1["seconds"] > st0["seconds"] + 4
        assert st1["truth"]["heater_wh"] == st0["truth"]["heater_wh"] and not st1["relay_on"]
        # the owner ends it: the router starts, and once healthy the count is back to 0
        assert get(fw.base, "/api/action?rebootesp")[0] == 200
        fw.until(lambda: get(fw.base, "/api/get?ping")[1] == "running")
        s = fw.until(lambda: (lambda d: d["healthy"] and d)(fw.json("safemode")))
        assert not s["active"] and s["reason"] is None and s["failed_starts"] == 0
        assert s["watchdog"] and "simulated crash" in s["last_crash"]    # kept, to be read
        st2 = json.loads(get(fw.base, "/sim/state")[1])
        assert st2["truth"]["heater_wh"] > st1["truth"]["heater_wh"]      # routing again
    finally:
        fw.stop()


# --- the count --------------------------------------------------------------------------------
def test_a_healthy_start_clears_the_count_and_power_ups_neither_count_nor_clear(tmp_path):
    r = sim(tmp_path, """
res = []
fw = boot("--crash", "2", "--seconds", "12")     # two crashes, then a healthy start
res.append([fw.safe, fw.guard.healthy, record()["failed"], fw.board.resets])
fw = boot("--crash", "2", "--seconds", "12")     # again: 2 + 2 would be safe mode
res.append([fw.safe, fw.guard.healthy, record()["failed"]])
fw = boot("--crash", "2", "--seconds", "3")      # two crashes, then stopped before healthy
res.append([fw.safe, fw.guard.healthy, record()["failed"]])
for _ in range(4):                               # power-ups cut short (no reset): not counted
    fw = boot("--seconds", "3")
res.append([fw.safe, record()["failed"]])
fw = boot("--crash", "1", "--seconds", "3")      # but the row goes on: a third crash
res.append([fw.safe is not None, record()["failed"], fw.board.resets])
print(json.dumps(res))
""")
    assert r[0] == [None, True, 0, 2]
    assert r[1] == [None, True, 0]
    assert r[2] == [None, False, 2]
    assert r[3] == [None, 2]
    assert r[4] == [True, 3, 1]


def test_resets_nobody_asked_for_count_and_asked_ones_do_not(tmp_path):
    r = run_mp("""
import json, safemode
from records.store import Store
g = safemode.Guard(Store(%r), %r)
res = []
res.append(g.begin(True))          # a reset (the watchdog, a panic)
res.append(g.begin(True))
g.resetting()                      # a reboot asked for (rebootesp, Ctrl-C)
res.append(g.begin(True))
res.append(g.rec["failed"])
res.append(g.begin(True))          # the third
print(json.dumps(res))
""" % (str(tmp_path), str(tmp_path / "safe")))
    assert r[:4] == [None, None, None, 2]
    assert "3 starts in a row failed" in r[4] and "the watchdog, a panic" in r[4]


# --- the console's ways out --------------------------------------------------------------------
def test_ctrl_c_stops_at_the_repl_and_stretches_a_running_watchdog(tmp_path):
    # over the fakes: the chip's board, healthy (its watchdog running), then Ctrl-C
    r = chip(tmp_path, """
from board.esp32 import Esp32Board
main.HEALTHY_S = 1
n = [0]
bw = Esp32Board.between_windows
def spy(self, nxt=None):
    if machine.WDT.running:
        n[0] += 1
        if n[0] == 20:
            raise KeyboardInterrupt
    return bw(self, nxt)
Esp32Board.between_windows = spy
fw = boot()
print(json.dumps([machine.WDT.timeout_ms, len(machine.WDT.instances), pads(),
                  Store(D).read("boot")["expected"]]))
""", timeout=60)
    timeout_ms, made, pads, expected = r
    assert timeout_ms == 3600000 and made >= 2     # reconfigured (it cannot be stopped)
    assert pads == [0, 0]                          # gate and relay low
    assert expected                                # the deploy's reset is no failure

    # the simulated board's process, interrupted as the console does (SIGINT), healthy or
    # not: the router's watchdog or the start's, stretched either way
    for speed, healthy in (("4", True), ("1", False)):
        fw = Fw(tmp_path / speed, "--speed", speed)
        try:
            fw.until(lambda: get(fw.base, "/api/get?ping")[1] == "running")
            if healthy:
                fw.until(lambda: fw.json("safemode")["watchdog"])
            fw.p.send_signal(signal.SIGINT)
            assert fw.p.wait(timeout=10) == 0
            out = fw.output()
            assert "stopped (Ctrl-C): the router is off" in out
            assert "resets the board in 60 min" in out, out[-2000:]
        finally:
            fw.stop()


def test_the_safe_file_keeps_the_router_stopped_without_a_watchdog(tmp_path):
    r = sim(tmp_path, """
open(D + "/safe", "w").close()
fw = boot("--seconds", "15")
b = fw.board
heater = b.truth()[2]
a = [fw.safe, b.wdt_running(), heater, fw.rt.state.ssr_mode, fw.rt.running()]
fw.reboot()                                     # what /api/action?rebootesp does
import os
a.append(sorted(os.listdir(D)))
fw = boot("--seconds", "12")
a += [fw.safe, fw.board.wdt_running(), fw.board.truth()[2] > 0]
print(json.dumps(a))
""")
    reason, wdt, heater_ws, ssr, running, files, reason2, wdt2, routed = r
    assert "the file %s/safe is on the flash" % tmp_path in reason
    assert not wdt and heater_ws == 0 and ssr == 0 and not running
    assert "safe" not in files
    assert reason2 is None and wdt2 and routed


def test_the_chip_in_safe_mode_makes_no_board_and_no_watchdog(tmp_path):
    r = chip(tmp_path, """
open(D + "/safe", "w").close()
fw = boot("--seconds", "1")
print(json.dumps([type(fw.board).__name__, len(machine.WDT.instances), len(esp32.RMT.log),
                  pads(), fw.safe]))
""", timeout=60)
    name, wdts, rmt, pads, reason = r
    assert name == "Esp32Safe" and wdts == 0 and rmt == 0 and pads == [0, 0]
    assert "/safe is on the flash" in reason


# --- MicroPython's version -------------------------------------------------------------------
def test_micropython_older_than_1_27_is_refused(tmp_path):
    r = sim(tmp_path, """
safemode.MICROPYTHON = (1, 26, 1)
fw = boot("--seconds", "12")
print(json.dumps([fw.safe, fw.board.wdt_running(), fw.board.truth()[2], fw.guard.state()]))
""")
    reason, wdt, heater_ws, state = r
    assert reason.startswith("MicroPython 1.26.1 is older than 1.27") and not wdt
    assert heater_ws == 0 and state["active"] and state["reason"] == reason
    assert run_mp("import halted, json\nprint(json.dumps([halted.too_old((1, 27, 0)), "
                  "halted.too_old((1, 28, 0, '')), halted.too_old((1, 29, 0, 'preview'))]))"
                  ) == [None, None, None]


def test_on_the_chip_a_board_that_cannot_be_made_ends_in_safe_mode(tmp_path):
    # MicroPython 1.26's esp32.RMT took other arguments: making the board fails; each
    # failure is counted (the chip is reset after it), the fourth start is in safe mode
    r = chip(tmp_path, """
def old_rmt(*a, **k):
    raise TypeError("unexpected keyword argument 'resolution_hz'")
esp32.RMT = old_rmt
ends = []
for _ in range(4):
    try:
        fw = boot("--seconds", "1")
        ends.append(type(fw.board).__name__)
    except SystemExit as e:
        ends.append(str(e))
print(json.dumps([ends, machine.resets[0], fw.safe, len(machine.WDT.instances)]))
""", timeout=60)
    ends, resets, reason, wdts = r
    assert ends == ["machine.reset()"] * 3 + ["Esp32Safe"] and resets == 3
    assert "3 starts in a row failed" in reason and "resolution_hz" in reason
    assert wdts == 0


def test_the_dashboard_says_why_in_safe_mode(browser, tmp_path):
    from playwright.sync_api import expect
    fw = Fw(tmp_path, "--speed", "4", "--crash", "3")
    try:
        fw.until(lambda: fw.json("safemode")["active"])
        p = browser.page(fw.base)
        banner = p.get_by_test_id("safemode")
        expect(banner).to_be_visible()
        expect(banner).to_contain_text("Mode sans échec")
        expect(banner).to_contain_text("3 starts in a row failed")
        expect(banner).to_contain_text("simulated crash at start")
        assert p.console_errors == [], p.console_errors
    finally:
        fw.stop()
