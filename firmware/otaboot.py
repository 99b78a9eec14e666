"""The update swap at boot: a bundle staged over the network (ota/upload.py) replaces the
firmware's files, or a new version that did not confirm its health is replaced by the one
before it. boot.py runs `boot()` (main.py, one of the files swapped, is compiled only after
it) when otastate.py says there is work to do, and then drops this module; main.py asks
otastate.py whether this start is a trial. docs/setup.md ("Updates over the
network") is the owner's view.

Why it is shaped this way. The firmware's files are the flash root's (boot.py, main.py and
the .mpy folders that tools/flash.py deploy copies there, listed in its manifest.json), and
a power cut can land between any two flash operations. So every step is one atomic
operation (a rename, or a file written whole under a temporary name and renamed), the state
file says which phase is running, and each phase, started again from its beginning after a
cut, skips what it finds done. What runs before the swap ends (CRITICAL: main.py, boot.py,
this module, otastate.py) is copied to the previous version's folder and replaced by a rename over it,
never moved away, so that a boot always finds it.

update/state.json, its `state`:
  staged       a complete, verified bundle waits in update/new (ota/upload.py writes this last)
  backup       the previous version's files go to update/old (the root's manifest.json kept
               as update/old.json first)
  install      the staged files are renamed into place; then manifest.json is the new one's
  trial        the new version runs its first start: it must become healthy (main.py, the
               start's healthy point) within TRIAL_MS; found again at a boot, it did not
  confirmed    it did (update/old keeps the previous version until the next upload)
  rollback     the previous version's files go back (the new one's are removed)
  rolled_back  done; `why` says what the new version did
`version` and `from` name the new and the previous version throughout.
"""
import os
import sys
from otastate import STATE, IDLE, read

DIR = "update"
NEW = DIR + "/new"                # the staged files, under their paths
OLD = DIR + "/old"                # the previous version's files
LIST = DIR + "/new.txt"           # the staged bundle's manifest (ota/bundle.py's head)
OLD_LIST = DIR + "/old.json"      # the previous version's manifest.json
MANIFEST = "manifest.json"        # tools/flash.py deploy's: the files of the running version
CRITICAL = ("boot.py", "main.py", "otaboot.py", "otaboot.mpy", "otastate.py", "otastate.mpy")
TRIAL_WDT_MS = 75000              # on the chip, a trial start that hangs is reset by then
COPY = 1024                       # bytes a copy moves at a time (nothing else runs at boot)
CUT = None                        # tests: called (op, path) before each change of the flash


def _exists(p):
    try:
        os.stat(p)
        return True
    except OSError:
        return False


def _mkdirs(path):
    """The folders on the way to the file `path`."""
    d = ""
    for part in path.split("/")[:-1]:
        d = d + "/" + part if d else part
        if not _exists(d):
            _op("mkdir", d)
            os.mkdir(d)


def _op(what, path):
    if CUT:
        CUT(what, path)


def _rename(a, b):
    _mkdirs(b)
    _op("rename", a)
    os.rename(a, b)


def _remove(p):
    if _exists(p):
        _op("remove", p)
        os.remove(p)


def _write(path, text):
    """`text` at `path` whole or not at all: a cut leaves only the temporary file."""
    tmp = path + ".tmp"
    _op("write", tmp)
    with open(tmp, "w") as f:
        f.write(text)
    _rename(tmp, path)


def _copy(a, b):
    tmp = b + ".tmp"
    _mkdirs(tmp)
    _op("write", tmp)
    with open(a, "rb") as src, open(tmp, "wb") as dst:
        while True:
            chunk = src.read(COPY)
            if not chunk:
                break
            dst.write(chunk)
    _rename(tmp, b)


def _save(s, state):
    import json
    s["state"] = state
    _write(STATE, json.dumps(s))


def _new_files():
    """[(sha256 hex, path)] of the staged bundle, in its order."""
    out = []
    with open(LIST) as f:
        for line in f:
            w = line.split()
            if len(w) == 4 and w[0] == "file":
                out.append((w[1], w[3]))
    return out


def _old_files():
    import json
    with open(OLD_LIST) as f:
        return json.load(f)["files"]


def boot():
    """Runs the phase the state file names, to its end. True: this start is the new
    version's trial (main.py's healthy point confirms it)."""
    s = read()
    if s is None or s["state"] in IDLE:
        return False
    try:
        st = s["state"]
        if st == "trial":
            _rollback(s, s.get("why") or "it did not confirm its health: a reset before "
                      "(watchdog, panic, power cut) or a start that never became healthy")
            return False
        if st == "rollback":
            _rollback(s, s.get("why"))
            return False
        if st == "staged":
            print("update: installing %s" % s.get("version"))
            try:
                _remove(OLD_LIST)       # an earlier update's: never to be rolled back to
                _clear(OLD)
                import json
                with open(MANIFEST) as f:
                    m = json.load(f)
                _write(OLD_LIST, json.dumps(m))
            except Exception as e:
                # nothing of the running version has moved yet: it stays as it is
                sys.print_exception(e)
                s["why"] = "the swap could not start: %s %s" % (type(e).__name__, e)
                print("update: %s not installed: %s" % (s.get("version"), s["why"]))
                _save(s, "rolled_back")
                return False
            _save(s, "backup")
            st = "backup"
        if st == "backup":
            _backup()
            _save(s, "install")
            st = "install"
        if st == "install":
            _install()
            _save(s, "trial")
            if sys.platform == "esp32":
                # until the start is healthy nothing feeds it; then board.wdt_start()'s own
                # machine.WDT reconfigures it to the firmware's timeout
                import machine
                machine.WDT(timeout=TRIAL_WDT_MS)
            print("update: %s installed, on trial until its start is healthy" % s.get("version"))
            return True
    except Exception as e:      # the flash failing under the swap: back to what ran
        sys.print_exception(e)
        try:
            _rollback(s, "the swap failed: %s %s" % (type(e).__name__, e))
        except Exception as e2:
            sys.print_exception(e2)
    return False


def _clear(folder):
    """Every file under `folder` (the folders stay)."""
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for n in names:
        p = folder + "/" + n
        if os.stat(p)[0] & 0x4000:
            _clear(p)
        else:
            _remove(p)


def _backup():
    old = _old_files()
    for p in sorted(old):
        dst = OLD + "/" + p
        if _exists(dst) or not _exists(p):
            continue            # kept already (a cut after it), or not on the board
        if p in CRITICAL:
            _copy(p, dst)
        else:
            _rename(p, dst)


def _sha(p):
    import hashlib
    import binascii
    h = hashlib.sha256()
    try:
        with open(p, "rb") as f:
            while True:
                chunk = f.read(COPY)
                if not chunk:
                    break
                h.update(chunk)
    except OSError:
        return None
    return binascii.hexlify(h.digest()).decode()


def _install():
    import json
    new = _new_files()
    for h, p in new:
        if _exists(NEW + "/" + p):
            _rename(NEW + "/" + p, p)
        elif _sha(p) != h:      # else renamed already by an install a cut stopped: checked
            raise OSError("%s is neither staged nor installed" % p)
    names = [p for _, p in new]
    for p in CRITICAL:
        # the previous version's (copied): the new one has none (the source or the compiled
        # form of a module); boot.py and main.py stay whatever happens (every bundle has
        # them: ota/bundle.py's MUST)
        if p not in names and p not in ("boot.py", "main.py") and _exists(OLD + "/" + p):
            _remove(p)
    _write(MANIFEST, json.dumps({"files": {p: h for h, p in new}, "complete": True}))


def _rollback(s, why):
    import json
    if s["state"] != "rollback":
        s["why"] = why
        print("update: %s is rolled back: %s" % (s.get("version"), why))
        _save(s, "rollback")
    old = _old_files()
    for p in sorted(old):
        if _exists(OLD + "/" + p):
            _rename(OLD + "/" + p, p)
    for _, p in _new_files():
        if p not in old:
            _remove(p)
    _write(MANIFEST, json.dumps({"files": old, "complete": True}))
    _save(s, "rolled_back")


def confirm():
    """The new version's start is healthy (safemode.Guard.up): it stays."""
    s = read()
    if s is not None and s["state"] == "trial":
        s.pop("why", None)
        _save(s, "confirmed")
        print("update: %s confirmed" % s.get("version"))


def note(why):
    """Why the trial start is failing (a crash, no health in time): the rollback's reason."""
    s = read()
    if s is not None and s["state"] == "trial":
        s["why"] = why
        _save(s, "trial")
