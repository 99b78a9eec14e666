"""Power-loss-safe records on flash (LittleFS on the ESP32, a folder on the PC), that degrade
rather than die.

A record is written to a temporary file, the current one becomes the previous generation,
then the temporary file becomes the current one: each rename is atomic on LittleFS and
POSIX, so a power cut at any point leaves the new record, or the old one (as current or as
previous), never a torn mix. Each record carries a CRC32 of its content.

Reading takes the newest good generation; a read that fails is tried again (READ_TRIES)
before the generation counts as unreadable. A generation that is there but damaged (a bad
CRC, bad JSON, or refused by the reader's own check) is moved aside as `NAME.bad-N.json`
for whoever wants to look at it, never silently overwritten, and the fault is reported.
A write that fails (flash full, unwritable, a driver error) returns False and is reported;
nothing raises out of here into the router loop. `faults` keeps the last reports (also
printed on the console); `damaged(name)` says whether a record was there but no generation
of it could be used (for the admin password, a reason to stay locked, not to open).
Removing a record removes the previous generation first, then the current one, and says
whether it worked (a cut midway leaves the record as it was).
"""
import json
import os
try:
    from binascii import crc32
except ImportError:     # pragma: no cover - every MicroPython port we use has binascii
    from zlib import crc32

ENOENT = 2
KEEP_FAULTS = 8         # reports kept (the oldest go)
MAX_SET_ASIDE = 9       # NAME.bad-1 .. bad-9; then the newest replaces bad-9
READ_TRIES = 3          # a read that fails is tried again (a flash that reads again fine)


class Store:
    def __init__(self, root, fs=None):
        self.root = root
        self.fs = fs or _Os()
        self.fs.makedirs(root)
        self.faults = []        # (name, what happened), newest last
        self.fault_count = 0
        self._damaged = set()

    def _path(self, name, kind=""):
        return "%s/%s%s.json" % (self.root, name, kind)

    def _fault(self, name, what):
        self.fault_count += 1
        self.faults.append((name, what))
        if len(self.faults) > KEEP_FAULTS:
            del self.faults[0]
        print("store: %s: %s" % (name, what))

    def write(self, name, obj):
        """Save `obj` as the current generation; True if it is on flash."""
        body = json.dumps(obj)
        text = json.dumps({"crc": crc32(body.encode()) & 0xFFFFFFFF, "body": body})
        tmp = self._path(name, ".tmp")
        try:
            self.fs.write(tmp, text)
            try:
                self.fs.rename(self._path(name), self._path(name, ".prev"))
            except OSError:
                pass            # no current generation yet
            self.fs.rename(tmp, self._path(name))
        except OSError as e:
            self._fault(name, "not saved (%s)" % _why(e))
            return False
        self._damaged.discard(name)
        return True

    def read(self, name, valid=None, keep=False):
        """The newest good generation of the record, or None. `valid(obj)` -> bool: the
        reader's own check (a record with a good CRC can still lack what it needs). `keep`:
        leave a damaged generation where it is and do not fall back past it (the admin
        password: its previous generation is the password the owner replaced, perhaps
        because it leaked, so a damaged current one stays locked at every boot until someone
        removes it; with no current one, a save cut before its last rename, the previous
        generation is still the right one)."""
        bad = False
        for kind in ("", ".prev"):
            if bad and keep:
                break
            path = self._path(name, kind)
            text = self._read(name, path)
            if text is None:
                continue
            if text is False:
                bad = True
                continue
            obj = _decode(text)
            if obj is not None and (valid is None or valid(obj)):
                if bad:
                    self._fault(name, "the previous copy is used")
                return obj
            bad = True
            if keep:
                self._fault(name, "damaged (left in place)")
            else:
                self._set_aside(name, path)
        if bad:
            self._damaged.add(name)
        return None

    def _read(self, name, path):
        """The file's text; None if it is not there; False if it could not be read (again and
        again: not mistaken for absent, nor for the older copy while a read again works)."""
        for n in range(READ_TRIES):
            try:
                text = self.fs.read(path)
            except OSError as e:
                if _errno(e) == ENOENT:
                    return None
                if n + 1 < READ_TRIES:
                    self._fault(name, "read again after a read error (%s)" % _why(e))
                    continue
                self._fault(name, "unreadable (%s)" % _why(e))
                return False
            return text

    def damaged(self, name):
        """The record was there, and no generation of it could be read."""
        return name in self._damaged

    def _set_aside(self, name, path):
        for n in range(1, MAX_SET_ASIDE + 1):
            dst = self._path(name, ".bad-%d" % n)
            if n == MAX_SET_ASIDE or not self.fs.exists(dst):
                break
        try:
            self.fs.rename(path, dst)
            self._fault(name, "damaged: set aside as %s" % dst.rsplit("/", 1)[-1])
        except OSError as e:
            self._fault(name, "damaged, and could not be set aside (%s)" % _why(e))

    def remove(self, name):
        """Both generations; True if neither is left. The previous one goes first: a cut or
        a failure midway leaves the record as it was, never brings back an older one. A
        failure is reported (False)."""
        for kind in (".prev", ""):
            try:
                self.fs.remove(self._path(name, kind))
            except OSError as e:
                if _errno(e) != ENOENT:
                    self._fault(name, "not removed (%s)" % _why(e))
                    return False
        self._damaged.discard(name)
        return True


def _decode(text):
    try:
        d = json.loads(text)
        body = d["body"]
        if crc32(body.encode()) & 0xFFFFFFFF != d["crc"]:
            return None
        return json.loads(body)
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def _errno(e):
    return e.args[0] if e.args else None


def _why(e):
    n = _errno(e)
    return {28: "flash full", 30: "read-only", 5: "I/O error", 13: "not permitted"}.get(
        n, "error %s" % n)


class _Os:
    """The real file system. Tests substitute one that cuts the power or fails mid-operation."""

    def makedirs(self, path):
        p = ""
        for part in path.split("/"):
            if not part:
                p = "/"
                continue
            p = p + part if p.endswith("/") or not p else p + "/" + part
            try:
                os.mkdir(p)
            except OSError:
                pass

    def write(self, path, text):
        with open(path, "w") as f:
            f.write(text)
            if hasattr(f, "flush"):
                f.flush()

    def read(self, path):
        with open(path) as f:
            return f.read()

    def exists(self, path):
        try:
            os.stat(path)
            return True
        except OSError:
            return False

    def rename(self, a, b):
        os.rename(a, b)

    def remove(self, path):
        os.remove(path)
