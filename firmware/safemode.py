"""Safe mode: the boot counter, the last crash, the MicroPython version check, and main.py's
boot loop (run). What runs in safe mode is halted.py, imported only then. docs/setup.md's
"Safe mode and the console" is the owner's and the developer's view of it.

Why. On the ESP32 the watchdog (machine.WDT) cannot be stopped once started, and it outlives
a soft reset (MicroPython v1.27/v1.28, ports/esp32/machine_wdt.c: the task-watchdog user it
adds is never removed; there is no deinit). So the router's watchdog (8 s) is started only
once the start is healthy (main.py: its first HEALTHY_S summaries done and the HTTP server
listening); before that, from the moment the board is made, a long one (START_WDT_MS, which
the loop feeds as the other) resets a start that hangs, with no reset in the way of the
console (Ctrl-C gives it an hour). A firmware that fails before it is healthy must not
reboot for ever without anyone knowing why: each
start is counted here, and after FAILS starts in a row that did not get there, the board
comes up in safe mode instead: the HTTP API, the web UI and the Wi-Fi (or its setup access
point), the router stopped (SSR and relay off, no watchdog), and the reason served by
`/api/get?safemode`.

The record `boot` (records/store.py, on the flash next to the others) holds:
- failed: starts in a row that failed: a crash main.py caught, or a start that ended by a
  reset it did not ask for (the watchdog, a panic, a reset of the chip from outside). A
  boot after a power-up (a power cut, a brown-out, or the EN button, which the classic
  ESP32 reports as a power-up) or a soft reset (Ctrl-D) is no failure: it is not counted,
  and it does not break the row either. Back to 0 once a start is healthy, or when the
  owner ends the safe mode.
- expected: the next reset was asked for (a reboot, Ctrl-C at the console) or is already
  counted (a crash): that boot does not count it again.
- crash: the last failure: the crash main.py caught (its traceback, the last CRASH_CHARS
  characters, after the uptime it happened at), or RESET_TEXT; kept after a healthy start,
  as information.
Flash wear: nothing at all for a boot after a power-up that becomes healthy (the common
case); otherwise one or two writes of a few hundred bytes per boot: a reset counted at boot
and cleared once healthy, a reboot asked for and noted at the next boot, a crash.

Safe mode starts when, at boot: the file `safe` is on the flash (the developer's or the
owner's way to keep the router stopped, e.g. while deploying: main.py says where), the
MicroPython is older than MIN_VERSION, or `failed` has reached FAILS. It ends when the owner
asks: a reboot from the admin page (/api/action?rebootesp: halted.end) clears the count and
removes the `safe` file; a power cut does not end it (nor does a crashing firmware get three more tries
from one). An old MicroPython keeps it until a newer one is flashed.

`MICROPYTHON` is the version checked, `CHIP` whether the boot loop drives the chip (and
DATA_DIR, SAFE_FILE, CRASH_PAUSE_MS its places and pause): tests set them before main.main
runs (an older version; the chip's path over host_tests/fakes).
"""
import sys

MIN_VERSION = (1, 27)       # esp32.RMT's API of v1.27 (board/esp32.py)
MICROPYTHON = sys.implementation.version
CHIP = sys.platform == "esp32"   # the boot loop's board: the chip's (a test may say so on fakes)
FAILS = 3                   # failed starts in a row that start the safe mode
CRASH_CHARS = 300           # of a crash's traceback kept (its end: the exception, the frames)
RECORD = "boot"
RESET_TEXT = "a reset the firmware did not ask for (the watchdog, a panic)"
CONSOLE_WDT_MS = 3600000    # a running watchdog after Ctrl-C: an hour at the REPL
START_WDT_MS = 120000       # until a start is healthy: its slowest steps (a Wi-Fi join that
                            # times out, a first format of the flash) take seconds, not minutes
CRASH_PAUSE_MS = 3000       # on the chip, between a crash and the reset (Ctrl-C: the REPL)
DATA_DIR = "/data"          # the chip's records
SAFE_FILE = "/safe"         # the chip's safe mode marker (`mpremote touch :safe`)


class Guard:
    """One board's boot record and what it decides. `store`: records.store.Store on the
    flash; `safe_file`: the path of the `safe` marker (os.stat / os.remove)."""

    def __init__(self, store, safe_file):
        self.store = store
        self.safe_file = safe_file
        self.rec = {"failed": 0, "expected": False, "crash": None}
        self.reason = None       # why this boot is in safe mode, or None
        self.healthy = False     # this start has become healthy (the watchdog runs)
        self.watchdog = False
        self.trial = False       # this start is a new version's trial (otaboot.py)

    def _save(self):
        return self.store.write(RECORD, self.rec)

    def begin(self, reset):
        """A start begins; `reset`: it follows a reset of the chip (not a power-up nor a
        soft reset). Counts that reset if it was neither asked for nor counted already;
        returns the reason for safe mode, or None."""
        rec = self.store.read(RECORD)
        if isinstance(rec, dict) and isinstance(rec.get("failed"), int):
            self.rec.update(rec)
        rec = self.rec
        changed = False
        if rec["expected"]:
            rec["expected"] = False
            changed = True
        elif reset and rec["failed"] < FAILS:
            rec["failed"] += 1       # the watchdog, a panic, a reset from outside
            rec["crash"] = RESET_TEXT
            changed = True
        self.healthy = self.watchdog = False
        self.reason = None
        if (rec["failed"] >= FAILS or tuple(MICROPYTHON[:2]) < MIN_VERSION
                or self._safe_file()):
            from halted import why
            self.reason = why(self)
            print("safe mode: " + self.reason)
        if changed:
            self._save()
        return self.reason

    def _safe_file(self):
        import os
        try:
            os.stat(self.safe_file)
            return True
        except OSError:
            return False

    def up(self, board):
        """This start is healthy: the router's watchdog runs on `board` (in place of the
        start's), the count goes back to 0 (the last crash is kept)."""
        board.wdt_start()
        self.healthy = True
        self.watchdog = board.wdt_running()
        if self.rec["failed"]:
            self.rec["failed"] = 0
            self._save()
        print("healthy: the watchdog runs")
        if self.trial:          # an update's new version: it stays
            self.trial = False
            import otaboot
            otaboot.confirm()

    def resetting(self):
        """A reset is asked for (a reboot, Ctrl-C at the console, which a deploy's reset
        follows): the next boot does not count it."""
        if not self.rec["expected"]:
            self.rec["expected"] = True
            self._save()

    def state(self):
        """For /api/get?safemode."""
        rec = self.rec
        return {"active": self.reason is not None, "reason": self.reason,
                "failed_starts": rec["failed"], "healthy": self.healthy,
                "watchdog": self.watchdog, "last_crash": rec["crash"]}


# --- main.py's boot loop ------------------------------------------------------------------------
def run(opts, make_board, firmware, trial=False):
    """Boot the firmware (main.py's main): count the start, then the router (a `firmware`
    (board, store, opts, guard, None)) or the safe mode (the same with the reason); a crash is
    saved and the board reset, which the simulated board does in this process (the house
    goes on): the loop. Ctrl-C stops it at the REPL. Returns the last boot's firmware.
    `trial`: this start is an update's (otaboot.boot()), for Guard.up to confirm."""
    import asyncio
    from records.store import Store
    # On the chip the board is made after the start is counted (making it can fail: its
    # hardware, this MicroPython's API); elsewhere (the simulated house, which goes on
    # across reboots, or the chip's board over fakes) first, for its folder and its flash.
    board = None if CHIP else make_board(opts)
    faults = opts["flash-faults"]
    store = Store(board.data_dir if board else DATA_DIR, board.flash(faults) if faults else None)
    guard = Guard(store, SAFE_FILE if CHIP else board.data_dir + "/safe")
    guard.trial = trial
    while True:
        reason = guard.begin(_after_reset(board))
        fw = None
        try:
            if board is None and reason is None:
                board = make_board(opts)
            elif board is None:
                from board.esp32_safe import Esp32Safe
                board = Esp32Safe(DATA_DIR)
            if reason is None:
                board.wdt_start(START_WDT_MS)   # a start that hangs is reset, then counted
            fw = firmware(board, store, opts, guard, reason)
            asyncio.run(fw.run())
        except BaseException as e:      # Ctrl-C, or a crash
            ctrl_c = isinstance(e, KeyboardInterrupt)
            if board is not None and board.wdt_running():
                # first: time for the console, or for what follows
                board.wdt_stretch(CONSOLE_WDT_MS if ctrl_c else 30000)
            fw = fw if ctrl_c else None
            try:
                from halted import stopped
            except BaseException:        # not even that (memory?): reset; the next boot counts it
                _reset(board)
                continue
            if stopped(board, guard, fw, e, reason):
                return fw
            asyncio.new_event_loop()     # (the simulated board) nothing of the last boot runs on
            continue
        if not fw.rebooting:
            return fw
        # rebootesp: on the chip a real reset; on the simulated board the firmware starts
        # again in this process (the house goes on), from what it saved.
        if reason is None:
            guard.resetting()
        board.reboot()


def _after_reset(board):
    """How this boot began, for Guard.begin: True after a reset of the chip (not a power-up,
    not a soft reset). On the simulated board each start of the process is a power-up (a
    SIGKILL, a power cut) and each reboot() a reset."""
    if CHIP:
        import machine
        return machine.reset_cause() not in (machine.PWRON_RESET, machine.SOFT_RESET,
                                             machine.DEEPSLEEP_RESET)
    return getattr(board, "resets", 0) > 0


def _reset(board):
    if board is not None:
        board.reboot()
    else:
        import machine
        machine.reset()
