"""The optional admin password: stored as a salted SHA-256, checked on HTTP Basic auth
(user `admin`). Without a password set, everything is open, as on the original."""
import binascii
import hashlib
import os

USER = "admin"


def _hash(salt, password):
    return binascii.hexlify(hashlib.sha256(salt + password.encode()).digest()).decode()


class Admin:
    def __init__(self, store=None):
        self.store = store
        d = store.read("admin") if store else None
        self.rec = d if isinstance(d, dict) and "salt" in d and "hash" in d else None

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
        self.rec = {"salt": binascii.hexlify(salt).decode(), "hash": _hash(salt, password)}
        if self.store is not None:
            self.store.write("admin", self.rec)

    def check(self, authorization):
        """True if no password is set, or the Authorization header carries it."""
        if self.rec is None:
            return True
        if not authorization or not authorization.startswith("Basic "):
            return False
        try:
            user, _, pw = binascii.a2b_base64(authorization[6:].strip()).decode().partition(":")
        except (ValueError, UnicodeError):
            return False
        salt = binascii.unhexlify(self.rec["salt"])
        return user == USER and _hash(salt, pw) == self.rec["hash"]
