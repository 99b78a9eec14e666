"""The router not running: safe mode itself (safemode.py decides when: the router's
stand-in, the loop that runs instead of the router's, the owner's way out), and what is done
when the firmware stops (a crash, Ctrl-C). Imported only then: a normal boot does not keep
it in memory.
"""
import sys
import safemode


def version_text(v):
    return ".".join(str(x) for x in v[:3])


def too_old(version=None):
    """Why this MicroPython cannot run the router (text), or None."""
    v = safemode.MICROPYTHON if version is None else version
    if tuple(v[:2]) < safemode.MIN_VERSION:
        return ("MicroPython %s is older than %s, the oldest this firmware runs on (esp32.RMT "
                "changed in v1.27): flash a newer one (tools/flash.py flash)"
                % (version_text(v), version_text(safemode.MIN_VERSION)))
    return None


def why(guard):
    """Why this boot is in safe mode (Guard.begin found a reason): the text the API shows."""
    if guard._safe_file():
        return ("the file %s is on the flash (remove it, or reboot from the admin page)"
                % guard.safe_file)
    old = too_old()
    if old:
        return old
    rec = guard.rec
    if rec["failed"] >= safemode.FAILS:
        last = rec["crash"] or safemode.RESET_TEXT
        return "%d starts in a row failed; the last: %s" % (rec["failed"], last)
    return None


class Halted:
    """The router's interface (realtime.py) while the router does not run: the state of a
    router that has measured nothing, SSR and relay in STOP, `running()` False (ping:
    offline); every command refused, pointing at /api/get?safemode; the flash's health as
    the store has it. Nothing of the router's machinery is built, so nothing of it can fail
    again."""

    def __init__(self, store):
        from realtime import State
        from router.status import STOP
        self.why = "the router is stopped (safe mode: /api/get?safemode says why)"
        self.store = store
        st = State()
        st.ssr_mode = st.relay_mode = STOP
        st.heater = "fault"
        st.at = None
        self.state = st

    def running(self):
        return False

    def _refuse(self, *args):
        from realtime import Refused
        raise Refused(self.why)

    set_ssr_mode = set_relay_mode = boost_on = boost_off = set_param = _refuse
    save_params = load_params = format_params = reset_energy = save_energy = _refuse
    restart = param_text = params_text = _refuse

    def storage_state(self):
        s = self.store
        self.state.storage_faults = s.fault_count
        return {"faults": s.fault_count,
                "recent": [{"record": n, "what": w} for n, w in s.faults]}

    def heater_state(self):
        return {"reason": "fault", "boost": None, "temperature": None, "over_temp": False,
                "keep_warm": False,
                "legionella": {"due": False, "running": False, "hot_min_today": 0,
                               "last_day": None},
                "grid_heat_kwh": 0.0, "note": self.why}


async def loop(fw, tick_us):
    """Safe mode's loop (in main.py's Firmware.run): the router stopped, only the other
    tasks (HTTP, Wi-Fi) run; the board's clock goes on (the simulated one is advanced by
    between_windows); until a reboot (or --seconds)."""
    import asyncio
    from router.ticks import tadd
    b = fw.board
    seconds = float(fw.opts["seconds"])
    st = fw.rt.state
    while not fw.rebooting:
        await asyncio.sleep_ms(b.between_windows(tadd(b.ticks_us(), tick_us)))
        st.uptime = b.seconds()
        if seconds and st.uptime >= seconds:
            break


def end(guard):
    """The owner ends the safe mode (a reboot from the admin page): the count is cleared, the
    `safe` file removed, and the reboot that follows is asked for. The next boot starts the
    router (unless MicroPython is too old)."""
    import os
    try:
        os.remove(guard.safe_file)
    except OSError:
        pass
    guard.rec["failed"] = 0
    guard.rec["expected"] = True
    guard._save()


def interrupted(board, guard, fw):
    """Ctrl-C (KeyboardInterrupt) stopped the firmware: the REPL is the console's. A running
    watchdog gets CONSOLE_WDT_MS (it cannot be stopped); the outputs go off; the reset that
    usually follows (a deploy's) is asked for, not a failure. A second Ctrl-C (mpremote
    sends two) may interrupt this too: then it is done again."""
    ms = safemode.CONSOLE_WDT_MS
    for _ in range(3):
        try:
            running = board is not None and board.wdt_running()
            if running:
                board.wdt_stretch(ms)
            if board is not None:
                board.ssr_off()
                board.relay(False)
            guard.resetting()
            if fw is not None and fw.safe is None:
                try:
                    fw.rt.save_energy()
                except Exception:
                    pass
            print("stopped (Ctrl-C): the router is off%s" % (
                "; the watchdog, which cannot be stopped, now resets the board in %d min "
                "(machine.WDT(timeout=MS) gives it MS more)" % (ms // 60000)
                if running else ""))
            return
        except KeyboardInterrupt:
            pass


def stopped(board, guard, fw, e, safe):
    """safemode.run's answer to `e` out of the firmware (of the safe mode if `safe`): Ctrl-C
    stops at the REPL; a crash is saved and the board reset (the simulated board's firmware
    starts again: False), or, if the safe mode failed too or Ctrl-C came in the pause, `e`
    is raised (the REPL, no watchdog). True: the firmware is to stop here."""
    if isinstance(e, KeyboardInterrupt):
        interrupted(board, guard, fw)
        return True
    if not crashed(board, guard, e, safe):
        raise e
    safemode._reset(board)
    return False


def crashed(board, guard, e, safe):
    """An exception `e` stopped the firmware: saved with its traceback in the boot record
    (one more failed start, the reset that follows counted already), the outputs off; then
    the board is to be reset (on the chip after CRASH_PAUSE_MS, in which Ctrl-C keeps the
    REPL). Returns False when the firmware is to stop here instead: Ctrl-C, or `safe` (the
    reason of a safe mode, which failed too: it stops at the REPL, without a watchdog)."""
    if safe is not None:
        if board is not None:
            board.ssr_off()
        return False
    sys.print_exception(e)
    up = None
    try:
        if board is not None:
            up = board.seconds()
            board.ssr_off()
            board.relay(False)
    except Exception:
        pass
    rec = guard.rec
    rec["failed"] += 1
    rec["expected"] = True         # the reset that follows is counted already
    rec["crash"] = crash_text(e, up)
    guard._save()
    if guard.trial:             # an update's new version: the reason of its rollback
        try:
            import otaboot
            otaboot.note("it crashed at start: %s: %s" % (type(e).__name__, e))
        except Exception:
            pass
    print("crashed: %d failed start(s) in a row (safe mode at %d); the board is reset" % (
        rec["failed"], safemode.FAILS))
    if safemode.CHIP:
        import time
        pause = safemode.CRASH_PAUSE_MS
        try:
            if board is not None and board.wdt_running():
                board.wdt_stretch(pause + 5000)
            print("reset in %d s (Ctrl-C: stay at the REPL)" % (pause // 1000))
            time.sleep_ms(pause)
        except KeyboardInterrupt:
            interrupted(board, guard, None)
            return False
    return True


def crash_text(e, up=None):
    """The exception's traceback as text (after `up`: the uptime it happened at, in s), its
    last safemode.CRASH_CHARS characters."""
    try:
        import io
        buf = io.StringIO()
        sys.print_exception(e, buf)
        # the frames of the firmware and the exception, not asyncio's own
        text = "\n".join(ln for ln in buf.getvalue().strip().split("\n")
                         if "asyncio/" not in ln and not ln.startswith("Traceback"))
    except Exception:
        text = ""
    if not text:
        text = "%s: %s" % (type(e).__name__, e)
    if up is not None:
        text = "after %.1f s: %s" % (up, text)
    if len(text) > safemode.CRASH_CHARS:
        text = "..." + text[-(safemode.CRASH_CHARS - 3):]
    return text
