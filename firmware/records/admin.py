"""The optional admin password: stored as a salted SHA-256, checked on HTTP Basic auth
(user `admin`). Without a password set, everything is open, as on the original.

A password record that is there but cannot be read (damaged flash) keeps the router locked:
`locked` is True and every change is refused with LOCKED, which says how to reset it. Never
open: a damaged file must not switch the password off.

Wrong passwords are counted per client address by records/guesses.py, loaded only once a
password is set (api/guard.py)."""
import binascii
import hashlib
import os

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
        self.guesses = None    # records.guesses.Guesses once a password is checked

    def set(self, password):
        """A new password ("" removes it)."""
        if not password:
            if self.store is not None and not self.store.remove("admin"):
                raise ValueError("the password could not be removed (storage fault): unchanged")
            self.rec = None
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
