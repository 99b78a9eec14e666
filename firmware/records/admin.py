"""The optional admin password: stored as a salted SHA-256, checked on HTTP Basic auth
(user `admin`). Without a password set, everything is open, as on the original.

A password record that is there but cannot be read (damaged flash) keeps the router locked:
`locked` is True and every change is refused with LOCKED, which says how to reset it. Never
open: a damaged file must not switch the password off.

Wrong passwords are counted per client address (`Guesses`): after FREE_TRIES in a row an
address waits, 1 s doubling per further wrong one up to 60 s, before its next password is
even looked at. The table is bounded, so a guesser with many addresses costs no memory."""
import binascii
import hashlib
import os
import time

USER = "admin"
LOCKED = ("Locked: the admin password record is damaged, so changes are refused. To reset it,"
          " delete admin.json and admin.prev.json from the board's data folder (serial console:"
          " import os; os.remove('/data/admin.json'); os.remove('/data/admin.prev.json')),"
          " then restart the board")


def _hash(salt, password):
    return binascii.hexlify(hashlib.sha256(salt + password.encode()).digest()).decode()


class Admin:
    def __init__(self, store=None):
        self.store = store
        self.rec = store.read("admin", _valid, keep=True) if store else None
        self.locked = store is not None and self.rec is None and store.damaged("admin")
        self.guesses = Guesses()

    def set(self, password):
        """A new password ("" removes it)."""
        if not password:
            self.rec = None
            if self.store is not None:
                self.store.remove("admin")
            return
        if len(password) > 64:
            raise ValueError("the password is longer than 64 characters")
        salt = os.urandom(16)
        rec = {"salt": binascii.hexlify(salt).decode(), "hash": _hash(salt, password)}
        if self.store is not None and not self.store.write("admin", rec):
            raise ValueError("the password could not be saved (storage fault): unchanged")
        self.rec = rec

    def check(self, authorization):
        """True if no password is set, or the Authorization header carries it."""
        if self.locked:
            return False
        if self.rec is None:
            return True
        if not authorization or not authorization.startswith("Basic "):
            return False
        try:
            user, _, pw = binascii.a2b_base64(authorization[6:].strip()).decode().partition(":")
        except (ValueError, UnicodeError):
            return False
        salt = binascii.unhexlify(self.rec["salt"])
        return _same(_hash(salt, pw), self.rec["hash"]) and user == USER


FREE_TRIES = 5             # a typo or two, a stale password in a script: no wait yet
MAX_WAIT_MS = 60000
FORGET_MS = 900000         # an address without a wrong password for 15 min starts afresh
ADDRESSES = 16             # the table's bound; the stalest address makes room


class Guesses:
    """Wrong passwords per client address. Times are time.ticks_ms() values."""

    def __init__(self):
        self.seen = {}         # address -> [wrong passwords in a row, ticks of the last]

    def _entry(self, addr, now):
        e = self.seen.get(addr)
        # a negative age: ticks wrapped around after days; the entry is stale either way
        if e is not None and not 0 <= time.ticks_diff(now, e[1]) < FORGET_MS:
            del self.seen[addr]
            e = None
        return e

    def wait_ms(self, addr, now):
        """How long `addr` must still wait before a password of its is checked (0: now)."""
        e = self._entry(addr, now)
        if e is None or e[0] < FREE_TRIES:
            return 0
        wait = min(MAX_WAIT_MS, 1000 << min(e[0] - FREE_TRIES, 6))
        return max(0, wait - time.ticks_diff(now, e[1]))

    def wrong(self, addr, now):
        e = self._entry(addr, now)
        if e is None:
            if len(self.seen) >= ADDRESSES:
                del self.seen[max(self.seen, key=lambda a: time.ticks_diff(now, self.seen[a][1]))]
            e = self.seen[addr] = [0, now]
        e[0] += 1
        e[1] = now
        return e[0]

    def right(self, addr):
        self.seen.pop(addr, None)


def _same(a, b):
    """a == b in a time that does not depend on where they differ."""
    diff = len(a) ^ len(b)
    for x, y in zip(a, b):
        diff |= ord(x) ^ ord(y)
    return diff == 0


def _valid(d):
    try:
        return len(binascii.unhexlify(d["salt"])) == 16 and len(d["hash"]) == 64
    except (TypeError, KeyError, ValueError):
        return False
