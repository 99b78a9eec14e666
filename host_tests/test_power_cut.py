"""Power cuts during every kind of save, on a flash that fails (issue #12).

The real firmware (main.py under the MicroPython unix port, on the simulated board) is
killed with SIGKILL at random moments while it saves, POWER_CUTS times in all (200), on a
flash that works or fails as board/sim/flash.py makes it (EIO on writes and renames, ENOSPC,
EIO on reads, unwritable), then booted again. Each boot must: answer the API; hold every
parameter, configuration value, mode and password that was confirmed saved before the cut
(or the one that was being saved at the cut, never an older one, never one whose save was
refused); hold energy indices no lower than the last confirmed save; and, if a password was
set, still require it (or be locked), never open. The power history's saves are cut the
same way through host_tests/mp/powercut_history.py (the firmware saves history only at each
half-hour of the clock). A separate run shows what an unplanned cut costs the energy
counting: at most realtime.SAVE_EVERY_S of it (README.md's "What survives a power cut"
says so).

POWER_CUT_SEED fixes the random sequence (the seed is printed: `pytest -s`); the kill
moments depend on the machine's speed, so a run repeats only approximately.
"""
import base64
import http.client
import json
import os
import random
import re
import subprocess
import tempfile
import threading
import time
import urllib.parse

import pytest

from conftest import FIRMWARE, MICROPYTHON, MP_HELPERS, ROOT, WWW
from test_api import free_port, get, selftest_done

KILLS = int(os.environ.get("POWER_CUTS", "200"))
SEED = int(os.environ.get("POWER_CUT_SEED") or random.SystemRandom().randrange(1 << 30))
LANES = int(os.environ.get("POWER_CUT_LANES", "2"))   # firmwares side by side (CI has 2 cores)

# name -> board/sim/flash.py SPEC (each boot adds delay, seed and trace)
PROFILES = {
    "sound": "",
    "write errors": "write:0.15",
    "full": "full:0.25",
    "read errors": "read:0.1",
    "unwritable": "ro:1",
    "all of them": "write:0.08,full:0.08,read:0.05",
}
KINDS = ("parameters", "configuration", "password", "modes", "energy", "history")
PARAMS = {5: (100, 10000), 6: (-2000, 2000), 10: (0, 9999), 11: (0, 9999), 12: (0, 240),
          16: (100, 30000)}
CONFIG = {"mqtt_port": lambda r: r.randint(1, 65535),
          "boost_duration": lambda r: r.randint(1, 1440),
          "mqtt_topic": lambda r: "t%d/x%d" % (r.randint(0, 999), r.randint(0, 99))}
MODE_WORDS = {"0": "stop", "1": "force", "9": "auto"}
REFUSED_SAVE = "storage fault"


class Cut(Exception):
    """The firmware went away (we cut its power) in the middle of an exchange."""


def _wh(text):
    return round(float(text) * 1000)


class Lane:
    """One data folder, booted and cut again and again; what must survive, as the API
    confirmed it. Each kept value is a list of what a boot may show: the confirmed value,
    and the one whose save the cut interrupted."""

    def __init__(self, n, tmp, stats):
        self.n = n
        self.rng = random.Random(SEED * 10 + n)
        self.data = os.path.join(tmp, "lane%d" % n)
        self.hdata = os.path.join(tmp, "lane%d-history" % n)
        self.trace = os.path.join(tmp, "trace%d" % n)
        self.stats = stats
        self.p = None
        self.params = None       # allowed allparam texts (None: not known yet)
        self.defaults = None     # allparam with nothing saved
        self.config = None       # allowed {key: value} of the CONFIG keys
        self.config_defaults = None
        self.password = [None]   # allowed passwords (None: none)
        self.modes = None        # allowed (ssr, relay)
        self.floor = (0, 0)      # routed, imported Wh: at least this much was saved
        self.history = [0]       # allowed last history epochs
        self.auth = None         # the password the firmware now wants
        self.last_wh = None      # energy indices last read before a cut
        self.events = []         # the last requests, for a failure's message
        self.previous = None
        self.last_of = {}        # kind -> the last cycle of that kind, as self.previous
        selftest_done(self.data)        # the saves, not a first start's self-test, move the modes

    # --- the firmware --------------------------------------------------------------------
    def boot(self, spec):
        self.port = free_port()
        self.base = "http://127.0.0.1:%d" % self.port
        self.log = tempfile.TemporaryFile()
        self.p = subprocess.Popen(
            [MICROPYTHON, "main.py", "--scenario", "clear_day", "--speed", "4", "--port",
             str(self.port), "--quiet", "1", "--data", self.data, "--www", WWW,
             "--flash-faults", spec],
            cwd=FIRMWARE, env=dict(os.environ, MICROPYPATH=".frozen:" + FIRMWARE),
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while True:
            try:
                if get(self.base, "/api/get?ping")[1] == "running":
                    return
            except OSError:
                pass
            assert self.p.poll() is None and time.monotonic() < deadline, \
                "did not boot after a power cut (seed %d):\n%s" % (SEED, self.output())
            time.sleep(0.02)

    def output(self):
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-4000:]

    def cut(self):
        self.p.kill()

    def ended(self):
        self.p.wait()
        assert self.p.returncode == -9, "the firmware ended by itself (%s):\n%s" % (
            self.p.returncode, self.output())

    def call(self, path, auth=True):
        self.events = self.events[-11:] + [path]
        headers = {}
        if auth and self.auth:
            headers["Authorization"] = "Basic " + base64.b64encode(
                ("admin:" + self.auth).encode()).decode()
        try:
            return get(self.base, path, headers)[:2]
        except (OSError, http.client.HTTPException):
            try:
                self.p.wait(timeout=3)      # the cut, or a real failure (then raised)
            except subprocess.TimeoutExpired:
                raise
            raise Cut()

    def read(self, path):
        code, body = self.call(path)
        assert code == 200, (path, code, body)
        return body

    def parse(self, path, parse):
        """A read's answer through `parse`; an answer cut short (unparseable) is the cut."""
        body = self.read(path)
        try:
            return parse(body)
        except ValueError:
            self.p.wait(timeout=3)      # the cut, or the failure raised
            raise Cut()

    # --- what a boot holds ---------------------------------------------------------------
    def check(self, profile):
        """The boot holds what was confirmed saved; then that becomes what is confirmed."""
        storage = json.loads(self.read("/api/get?storage"))
        unreadable = {f["record"] for f in storage["recent"] if "unreadable" in f["what"]}
        ctx = "seed %d, lane %d, flash %s, boot faults %s, last requests %s" % (
            SEED, self.n, profile, storage["recent"], self.events[:-1])
        ctx += "; the cycle before (kind, flash, its flash's last operations): %s" % (
            self.previous,)

        def keep(name, record, seen, allowed):
            if allowed is None or seen in allowed:
                return [seen]
            # a record the flash would not read (after the store's retries): the previous
            # generation is used, and that is reported, not silent; the record is still on
            # the flash, untouched, and a later boot may read it again
            assert record in unreadable, "%s: %r, expected one of %r (%s; the last cycle " \
                "of %s: %s)" % (name, seen, allowed, ctx, name, self.last_of.get(name))
            self.stats["older copy used (unreadable, reported)"] += 1
            return [seen] + allowed

        params = self.read("/api/get?allparam")
        if self.defaults is None:
            self.defaults = params
        self.params = keep("parameters", "params", params, self.params)
        cfg = json.loads(self.read("/api/get?configmaxpv"))
        cfg = {k: cfg[k] for k in CONFIG}
        if self.config_defaults is None:
            self.config_defaults = cfg
        self.config = keep("configuration", "config", cfg, self.config)
        modes = (self.read("/api/get?data=14"), self.read("/api/get?data=15"))
        self.modes = keep("modes", "modes", modes, self.modes)
        wh = (_wh(self.read("/api/get?data=9")), _wh(self.read("/api/get?data=10")))
        if not (wh[0] >= self.floor[0] and wh[1] >= self.floor[1]):
            assert "energy" in unreadable, "energy %r below the saved %r (%s)" % (
                wh, self.floor, ctx)
            self.stats["older copy used (unreadable, reported)"] += 1
            self.floor = wh
        if self.last_wh is not None:
            self.stats["energy lost"].append(max(a - b for a, b in zip(self.last_wh, wh)))
            self.last_wh = None
        self.check_password(ctx)

    def check_password(self, ctx):
        """Never open if a password may be set: a write without it is refused."""
        probe = "/api/set?param=05&value=" + self.params[0].split(",")[4]   # a live no-op
        code, body = self.call(probe, auth=False)
        self.locked = code == 403 and body.startswith("Locked")
        if code == 200:
            assert None in self.password, "OPEN with a password set %r (%s)" % (
                self.password, ctx)
            self.password = [None]
            self.auth = None
            return
        assert code in (401, 403), (code, body, ctx, self.output())
        assert [p for p in self.password if p], "a password wanted, none set (%s): %s" % (
            ctx, body)
        if self.locked:          # a password record the flash would not read
            self.stats["locked (password unreadable)"] += 1
            self.auth = None
            return
        for pw in self.password:
            if pw:
                self.auth = pw
                if self.call(probe)[0] == 200:
                    self.password = [pw]
                    return
        pytest.fail("none of the passwords %r opens (%s)" % (self.password, ctx))

    # --- saving until the power goes -----------------------------------------------------
    def save(self, kind):
        r = self.rng
        if kind == "parameters":
            if r.random() < 0.2:
                return self.removal(self.params, "/api/action?format", [self.defaults])
            n = r.choice(list(PARAMS))
            self.read("/api/set?param=%02d&value=%d" % (n, r.randint(*PARAMS[n])))
            return self.confirm(self.params, "/api/action?saveparam",
                                self.read("/api/get?allparam"))
        if kind == "configuration":
            if r.random() < 0.2:
                # the configuration's next boot is the defaults; this boot keeps its values,
                # and saves all of them again at its next change
                return self.removal(self.config, "/api/action?eraseconfigesp",
                                    [self.config_defaults])
            change = {k: f(r) for k, f in CONFIG.items() if r.random() < 0.6} or {
                "mqtt_port": r.randint(1, 65535)}
            new = dict(self.live_config)
            new.update(change)
            if self.confirm(self.config, "/api/set?configmaxpv&value=" +
                            urllib.parse.quote(json.dumps(change)), new):
                self.live_config = new
            return
        if kind == "password":
            if r.random() < 0.15:
                if self.removal(self.password, "/api/set?adminpass&value=", [None]):
                    self.auth = None
                return
            pw = "pw%d" % r.randint(0, 10 ** 6)
            if self.confirm(self.password, "/api/set?adminpass&value=" + pw, pw):
                self.auth = pw
            return
        if kind == "modes":
            ssr, relay = self.live_modes
            if r.random() < 0.5:
                ssr = r.choice("019")
                path = "/api/set?ssrmode&value=" + MODE_WORDS[ssr]
            else:
                relay = r.choice("019")
                path = "/api/set?relaymode&value=" + MODE_WORDS[relay]
            self.live_modes = (ssr, relay)       # live at once, saved or not
            self.confirm_quiet(self.modes, path, self.live_modes)
            return
        if kind == "energy":
            wh = (self.parse("/api/get?data=9", _wh), self.parse("/api/get?data=10", _wh))
            self.last_wh = wh
            if self.confirm_quiet(None, "/api/action?saveindex", wh):
                self.floor = wh
            return
        raise AssertionError(kind)

    def confirm(self, allowed, path, value):
        """A save the API answers for: OK (confirmed), refused (a storage fault: nothing
        changed), or cut (either)."""
        try:
            code, body = self.call(path)
        except Cut:
            allowed.append(value)
            raise
        if code == 200:
            allowed[:] = [value]
            return True
        if REFUSED_SAVE not in body:
            # refused (nothing changed) and its answer cut short: the cut came then
            assert code == 400 and self.p.wait(timeout=3) is not None, (path, code, body)
            raise Cut()
        self.stats["saves refused (storage fault reported)"] += 1
        return False

    def removal(self, allowed, path, gone):
        return self.confirm(allowed, path, gone[0])

    def confirm_quiet(self, allowed, path, value):
        """A save the API does not answer for (modes, energy): confirmed when the store's
        fault count did not move."""
        before = self.parse("/api/get?storage", json.loads)["faults"]    # (data 30 lags 1 s)
        try:
            self.read(path)
            after = self.parse("/api/get?storage", json.loads)["faults"]
        except Cut:
            if allowed is not None:
                allowed.append(value)
            raise
        if after != before:
            self.stats["quiet saves failed (storage fault reported)"] += 1
            return False
        if allowed is not None:
            allowed[:] = [value]
        return True

    # --- one power cycle -----------------------------------------------------------------
    def cycle(self, kind, profile):
        seed = self.rng.randrange(1 << 30)
        spec = ",".join(x for x in (PROFILES[profile], "delay:1", "seed:%d" % seed,
                                    "trace:" + self.trace) if x)
        open(self.trace, "w").close()
        if kind == "history":
            return self.history_cycle(spec, profile)
        t0 = time.monotonic()
        self.boot(spec)
        self.stats["boot s"].append(time.monotonic() - t0)
        self.check(profile)
        self.live_config = dict(self.config[0])
        self.live_modes = self.modes[0]
        killer = threading.Timer(self.rng.uniform(0.02, 0.4), self.cut)
        killer.start()
        try:
            while True:
                if self.locked:
                    time.sleep(0.01)
                    self.call("/api/get?ping")
                else:
                    self.save(kind)
        except Cut:
            pass
        killer.join()
        self.ended()
        self.where(kind)
        self.previous = (kind, profile, self.tail(), self.events[-12:])
        self.last_of[kind] = self.previous

    def tail(self):
        with open(self.trace) as f:
            return [ln.replace(self.data + "/", "") for ln in f.read().splitlines()[-12:]]

    def where(self, kind):
        """Where in a save the cut landed (the flash's trace)."""
        with open(self.trace) as f:
            ops = [ln.split() for ln in f if ln.strip()]
        point = "between saves"
        for k in range(len(ops) - 1, -1, -1):
            if ops[k][0] == ">":
                done = k + 1 < len(ops) and ops[k + 1][0] in "<!"
                what = ops[k][1] + " " + ("tmp" if ".tmp." in ops[k][2] else
                                          "current" if ".prev" not in ops[k][2] else "prev")
                point = ("after " if done else "during ") + what
                if point == "after rename tmp":
                    point = "after a whole save"
                break
        for op in ops:
            if op[0] == "!" and op[1] in ("5", "28", "30"):
                key = "faults injected: " + {"5": "EIO", "28": "ENOSPC", "30": "EROFS"}[op[1]]
                self.stats[key] = self.stats.get(key, 0) + 1
        self.stats["cuts"][(kind, point)] = self.stats["cuts"].get((kind, point), 0) + 1

    def history_cycle(self, spec, profile):
        script = os.path.join(MP_HELPERS, "powercut_history.py")
        env = dict(os.environ, MICROPYPATH=".frozen:" + FIRMWARE)
        path = self.hdata + ".out"
        with open(path, "wb") as out:
            p = subprocess.Popen([MICROPYTHON, script, self.hdata, spec], cwd=FIRMWARE,
                                 env=env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while True:           # booted: then saves until the cut
            with open(path, "rb") as f:     # its own offset (not the writer's)
                if b"boot " in f.read() or p.poll() is not None or time.monotonic() > deadline:
                    break
            time.sleep(0.005)
        time.sleep(self.rng.uniform(0.01, 0.2))
        p.kill()
        p.wait()
        with open(path, "rb") as f:
            lines = [ln for ln in f.read().decode().splitlines() if not ln.startswith("store:")]
        assert p.returncode == -9 and lines and lines[0].startswith("boot "), (
            p.returncode, lines[-20:])
        _, last, count, faults = lines[0].split(" ", 3)
        if int(last) not in self.history:
            assert "unreadable" in faults, "history: last sample %s, expected one of %r " \
                "(seed %d, flash %s, boot faults %s)" % (last, self.history, SEED, profile,
                                                         faults)
            self.stats["older copy used (unreadable, reported)"] += 1
        allowed = [int(last)]
        for ln in lines[1:]:
            w = ln.split()
            if w[0] == "T":
                allowed.append(int(w[1]))
            elif w[0] == "W" and w[2] == "1":
                allowed = [int(w[1])]
            elif w[0] == "W":
                allowed.pop()        # refused: never to be seen (the next save has it)
        self.history = allowed
        self.where("history")


def test_power_cuts_during_every_kind_of_save_on_a_failing_flash(tmp_path):
    print("\npower cuts: %d, POWER_CUT_SEED=%d" % (KILLS, SEED))
    stats = {"cuts": {}, "boot s": [], "energy lost": []}
    counters = ("saves refused (storage fault reported)",
                "quiet saves failed (storage fault reported)",
                "older copy used (unreadable, reported)", "locked (password unreadable)")
    for c in counters:
        stats[c] = 0
    lanes = [Lane(n, str(tmp_path), stats) for n in range(LANES)]
    plan = random.Random(SEED)
    # every kind on every flash twice, then at random; in a random order
    todo = [(kind, profile) for kind in KINDS for profile in PROFILES] * 2
    todo = todo[:KILLS] + [(plan.choice(KINDS), plan.choice(list(PROFILES)))
                           for _ in range(KILLS - len(todo))]
    plan.shuffle(todo)
    jobs = [todo[n::LANES] for n in range(LANES)]
    errors = []

    def run(lane, todo):
        try:
            for kind, profile in todo:
                lane.cycle(kind, profile)
        except BaseException as e:      # noqa: B902 - reported by the test's thread
            errors.append(e)
        finally:
            if lane.p is not None and lane.p.poll() is None:
                lane.p.kill()

    t0 = time.monotonic()
    threads = [threading.Thread(target=run, args=(lane, todo)) for lane, todo in zip(lanes, jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    done = sum(stats["cuts"].values())
    print("%d cuts in %.0f s (boot %.2f s at most)" % (done, time.monotonic() - t0,
                                                      max(stats["boot s"])))
    for (kind, point), n in sorted(stats["cuts"].items()):
        print("  %-13s %-22s %3d" % (kind, point, n))
    for c in counters + tuple(k for k in sorted(stats) if k.startswith("faults injected")):
        print("  %s: %d" % (c, stats[c]))
    print("  energy counted after the last save read, lost at a cut: at most %d Wh" % max(
        stats["energy lost"] or [0]))
    assert done == KILLS
    # the cuts landed inside saves, not only between them
    inside = sum(n for (kind, point), n in stats["cuts"].items() if point != "between saves")
    assert inside >= KILLS // 3, stats["cuts"]


# --- what the cuts found, each on its own --------------------------------------------------
class Glitchy:
    """board/sim/flash.py's flash whose every other read fails (EIO): a flash that reads
    again fine."""

    def __new__(cls, spec=""):
        from board.sim.flash import FaultyFlash

        class _Glitchy(FaultyFlash):
            n = 0

            def read(self, path):
                self.n += 1
                if self.n % 2 and self.exists(path):
                    raise OSError(5)
                return FaultyFlash.read(self, path)

        return _Glitchy(spec)


def test_a_read_error_is_read_again_not_taken_for_the_older_copy(tmp_path):
    from records.store import Store
    s = Store(str(tmp_path), Glitchy())
    s.write("params", {"v": 1})
    s.write("params", {"v": 2})
    assert Store(str(tmp_path), Glitchy()).read("params") == {"v": 2}


def test_a_removal_cut_midway_leaves_the_record_as_it_was_not_an_older_one(tmp_path):
    from board.sim.flash import FaultyFlash
    from records.store import Store

    class CutAfterOneRemove(FaultyFlash):
        def remove(self, path):
            FaultyFlash.remove(self, path)
            raise SystemExit("power cut")

    s = Store(str(tmp_path))
    s.write("config", {"mqtt_port": 1})
    s.write("config", {"mqtt_port": 2})
    with pytest.raises(SystemExit):
        Store(str(tmp_path), CutAfterOneRemove("")).remove("config")
    assert Store(str(tmp_path)).read("config") in ({"mqtt_port": 2}, None)


def test_a_removal_the_flash_refuses_is_reported_not_confirmed(tmp_path):
    from board.sim.flash import FaultyFlash
    from records.config import Config, ConfigError
    from records.store import Store
    Config(Store(str(tmp_path))).update(json.dumps({"mqtt_port": 1884}))
    s = Store(str(tmp_path), FaultyFlash("ro:1"))
    assert s.remove("config") is False and s.faults[-1] == ("config", "not removed (read-only)")
    with pytest.raises(ConfigError, match="could not be erased"):
        Config(s).erase()
    assert Config(Store(str(tmp_path))).get("mqtt_port") == 1884


@pytest.mark.parametrize("what", ["parameters", "password"])
def test_a_refused_removal_of_parameters_or_password_is_not_confirmed(tmp_path, what):
    from board.sim.flash import FaultyFlash
    from records.admin import Admin
    from records.store import Store
    from router.params import Params
    defaults = {"V_CALIB": 0.3, "P_CALIB": 0.015, "PHASE_CALIB": 17}
    if what == "parameters":
        p = Params(defaults, Store(str(tmp_path)))
        p.set(5, "3000")
        p.save()
        with pytest.raises(ValueError):
            Params(defaults, Store(str(tmp_path), FaultyFlash("ro:1"))).format()
    else:
        Admin(Store(str(tmp_path))).set("secret")
        with pytest.raises(ValueError):
            Admin(Store(str(tmp_path), FaultyFlash("ro:1"))).set("")


def _uptime_s(text):
    d, h, m, sec = (int(x) for x in text.split(":"))
    return ((d * 24 + h) * 60 + m) * 60 + sec


def test_an_unplanned_cut_loses_at_most_the_save_interval_of_energy_counting(tmp_path):
    """The energy indices are saved every realtime.SAVE_EVERY_S (5 minutes) of uptime: the
    firmware (as fast as it runs) is cut 5..40 s after its first periodic save, and boots
    with at least what it had counted SAVE_EVERY_S before the cut."""
    import realtime
    from test_api import Firmware
    every = realtime.SAVE_EVERY_S
    cut_at = every + random.Random(SEED).uniform(5, 40)
    fw = Firmware(tmp_path, scenario="clear_day", speed="0")
    seen = []                       # (uptime s, routed Wh, imported Wh)
    try:
        while not seen or seen[-1][0] < cut_at:
            seen.append((_uptime_s(get(fw.base, "/api/get?data=21")[1]),
                         _wh(get(fw.base, "/api/get?data=9")[1]),
                         _wh(get(fw.base, "/api/get?data=10")[1])))
            time.sleep(0.05)
    finally:
        fw.stop()                   # SIGKILL
    fw = Firmware(tmp_path, scenario="clear_day", speed="0")
    try:
        booted = (_wh(get(fw.base, "/api/get?data=9")[1]), _wh(get(fw.base, "/api/get?data=10")[1]))
    finally:
        fw.stop()
    cut = seen[-1]
    # 2 s: the uptime's whole seconds and the once-a-second summary that saves
    floor = max(s for s in seen if s[0] <= cut[0] - every - 2)
    lost = (cut[1] - booted[0], cut[2] - booted[1])
    print("\ncut at %d s of uptime: routed %d Wh, imported %d Wh counted; booted with %r: "
          "lost %r Wh, %d s of counting at most" % (cut[0], cut[1], cut[2], booted, lost,
                                                     every))
    assert floor[1] > 0, seen[:5]           # there was something to lose
    assert booted[0] >= floor[1] and booted[1] >= floor[2], (floor, booted)
    assert booted[0] <= cut[1] and booted[1] <= cut[2]


def test_the_user_docs_say_what_a_power_cut_loses():
    import realtime
    text = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    text = text[text.index("## What survives a power cut"):]
    text = text[:text.index("\n## ", 10)]
    assert realtime.SAVE_EVERY_S == 300 and "5 minutes" in text
    assert realtime.RETRY_SAVE_S == 30 and "30 s" in text
    assert ".bad-" in text and "/api/get?storage" in text and "3 tries" in text
    import records.store
    assert records.store.READ_TRIES == 3
