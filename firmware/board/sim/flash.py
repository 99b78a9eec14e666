"""The simulated board's flash, with faults: the hardware boundary records/store.py writes
through (its `fs`), for the power-cut tests (host_tests/test_power_cut.py) and for trying
the firmware on a bad flash (main.py --flash-faults SPEC).

SPEC is comma-separated `key:value`:
    write:P   each write, rename or remove fails with EIO (a driver error) with probability P;
              a failed write leaves a torn file behind (half of it written)
    full:P    each write fails with ENOSPC (flash full) with probability P, torn likewise
    read:P    each read of a file that is there fails with EIO with probability P
    ro:1      the flash is unwritable: every write, rename and remove fails with EROFS
    delay:MS  each write, rename and remove takes MS milliseconds (a flash is not instant:
              a power cut lands between the steps of a save, not only in Python code)
    seed:N    the faults' random sequence (default 1)
    trace:PATH  append each operation to PATH before it starts ("> op path") and once it
              is done ("<"): where a power cut landed
The files are a folder of the computer, as without faults.
"""
import os
import time

from records.store import _Os

EIO = 5
ENOENT = 2
ENOSPC = 28
EROFS = 30


def _sleep_ms(ms):
    if hasattr(time, "sleep_ms"):
        time.sleep_ms(ms)
    else:                   # CPython
        time.sleep(ms / 1000)


def _write(path, text):
    with open(path, "w") as f:
        f.write(text)


class FaultyFlash(_Os):
    """records/store.py's file system (folders and existence as it has them), with the faults
    of SPEC on writes, renames, removes and reads."""

    def __init__(self, spec):
        self.p_write = self.p_full = self.p_read = 0.0
        self.ro = False
        self.delay_ms = 0
        self.trace = None
        seed = 1
        for item in spec.split(","):
            if not item:
                continue
            key, _, value = item.partition(":")
            if key == "write":
                self.p_write = float(value)
            elif key == "full":
                self.p_full = float(value)
            elif key == "read":
                self.p_read = float(value)
            elif key == "ro":
                self.ro = value not in ("", "0")
            elif key == "delay":
                self.delay_ms = int(value)
            elif key == "seed":
                seed = int(value)
            elif key == "trace":
                self.trace = open(value, "a")
            else:
                raise ValueError("--flash-faults: unknown key '%s'" % key)
        self._x = (seed * 2654435761 + 12345) & 0x7FFFFFFF or 1
        self.injected = 0           # faults injected so far

    def _random(self):
        """0 <= r < 1 (a 31-bit LCG: the same on every interpreter, no random module)."""
        self._x = (self._x * 1103515245 + 12345) & 0x7FFFFFFF
        return self._x / 2147483648

    def _fail(self, p):
        return p > 0 and self._random() < p

    def _log(self, text):
        if self.trace is not None:
            self.trace.write(text + "\n")
            self.trace.flush()

    def _mutate(self, op, path):
        """The checks before a change of the flash (raises the injected fault)."""
        self._log("> %s %s" % (op, path))
        if self.delay_ms:
            _sleep_ms(self.delay_ms)
        if self.ro:
            self._inject(EROFS)
        if self._fail(self.p_write):
            return EIO
        if op == "write" and self._fail(self.p_full):
            return ENOSPC
        return 0

    def _done(self, op, *args):
        """Do the operation (its own errors traced too)."""
        try:
            op(*args)
        except OSError as e:
            self._log("! %s" % (e.args[0] if e.args else "?"))
            raise
        self._log("<")

    def _inject(self, errno):
        self.injected += 1
        self._log("! %d" % errno)
        raise OSError(errno)

    # --- records/store.py's file system interface: what can fail -----------------------------
    def write(self, path, text):
        err = self._mutate("write", path)
        if err:
            with open(path, "w") as f:          # a torn file: what was written when it failed
                f.write(text[:len(text) // 2])
            self._inject(err)
        self._done(_write, path, text)

    def read(self, path):
        if not self.exists(path):
            raise OSError(ENOENT)
        if self._fail(self.p_read):
            self._inject(EIO)
        with open(path) as f:
            return f.read()

    def rename(self, a, b):
        if self._mutate("rename", a):
            self._inject(EIO)
        self._done(os.rename, a, b)

    def remove(self, path):
        if self._mutate("remove", path):
            self._inject(EIO)
        self._done(os.remove, path)
