"""The update bundle's format: the one definition that tools/flash.py (which writes bundles,
under CPython) and ota/upload.py (which reads them, on the board) both use.

A bundle is the device image (the files tools/flash.py build makes, the ones deploy
copies) as one stream that can be checked while it arrives, without ever holding more
than a line or a chunk of it:

    maxpv-ota 1\\n                          MAGIC, then FORMAT
    version 0.1.1\\n                        the version the image reports
    file <sha256 hex> <size> <path>\\n      one line per file, in the order of the bodies
    ...
    total <files> <bytes>\\n                the file count and the sum of their sizes
    end <sha256 hex>\\n                     SHA-256 of every byte above this line
    <body of the first file><body of the second>...   exactly `bytes` bytes, then nothing

The lines are ASCII, at most MAX_LINE bytes each. Paths are '/'-separated and relative to
the flash root, made of PATH_CHARS, without '..' segments, at most MAX_PATH characters,
never a place of the board's own (NOT_IMAGE: its records, the update's folder, the deploy
manifest); a bundle names MUST files (what a boot needs to run and to swap again). A
receiver refuses a bundle at the first line or file that does not check: the manifest by
its `end` hash, each file by its own hash, the whole by its length.
"""
MAGIC = "maxpv-ota"
FORMAT = 1
MAX_LINE = 200
MAX_PATH = 120
MAX_FILES = 300
MAX_BYTES = 1500000         # the image is ~0.2 MB; the flash partition of a 4 MB ESP32, ~2 MB
PATH_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/"
NOT_IMAGE = ("data", "update", "manifest.json", "safe")
# what the boot path runs (otaboot.CRITICAL): a version without one could never swap again
MUST = ("boot.py", "main.py", "otaboot.mpy", "otastate.mpy")


def bad_path(p):
    """Why `p` cannot be a file of a bundle, or None."""
    if not p or len(p) > MAX_PATH or p[0] == "/" or p[-1] == "/":
        return "bad path"
    for c in p:
        if c not in PATH_CHARS:
            return "bad character in path"
    parts = p.split("/")
    if parts[0] in NOT_IMAGE:
        return "a place of the board's own"
    for s in parts:
        if s in ("", ".", "..") or s.endswith(".tmp"):
            return "bad path segment"
    return None


def head(version, files):
    """The bundle's lines before its bodies (bytes): `files` is [(path, size, sha256 hex)]."""
    import hashlib
    lines = ["%s %d" % (MAGIC, FORMAT), "version " + version]
    for p, size, h in files:
        lines.append("file %s %d %s" % (h, size, p))
    lines.append("total %d %d" % (len(files), sum(f[1] for f in files)))
    text = ("\n".join(lines) + "\n").encode()
    return text + b"end " + hashlib.sha256(text).hexdigest().encode() + b"\n"


class Reader:
    """Checks a bundle's head line by line (`line(text)`: the line without its newline),
    keeping only counts; raises ValueError with the reason a line is refused. Once `done`,
    `version`, `count` and `total` are known and the manifest's hash has checked."""

    def __init__(self, sha256):
        self.sha = sha256()
        self.n = 0
        self.version = None
        self.count = None
        self.total = None
        self.files = 0
        self.bytes = 0
        self.must = []
        self.done = False

    def line(self, text):
        w = text.split(" ")
        self.n += 1
        if self.n == 1:
            if w != [MAGIC, str(FORMAT)]:
                raise ValueError("not a bundle of this firmware (format %s %d)" % (MAGIC, FORMAT))
        elif w[0] == "end" and len(w) == 2:
            if self.count is None:
                raise ValueError("the manifest has no total")
            if _hex(self.sha.digest()) != w[1]:
                raise ValueError("the manifest's SHA-256 does not match its end line")
            for m in MUST:
                if m not in self.must:
                    raise ValueError("the bundle has no %s" % m)
            self.done = True
            return
        elif self.count is not None:
            raise ValueError("a line after the total")
        elif w[0] == "version" and len(w) == 2 and self.n == 2:
            if not 0 < len(w[1]) <= 32 or bad_path(w[1]):
                raise ValueError("bad version")
            self.version = w[1]
        elif w[0] == "file" and len(w) == 4 and self.version:
            why = bad_path(w[3])
            if len(w[1]) != 64 or not w[2].isdigit() or why:
                raise ValueError("bad file line %d (%s)" % (self.n, why or "hash or size"))
            self.files += 1
            self.bytes += int(w[2])
            if self.files > MAX_FILES or self.bytes > MAX_BYTES:
                raise ValueError("over %d files or %d bytes" % (MAX_FILES, MAX_BYTES))
            if w[3] in MUST:
                self.must.append(w[3])
        elif w[0] == "total" and len(w) == 3 and w[1].isdigit() and w[2].isdigit():
            if (int(w[1]), int(w[2])) != (self.files, self.bytes):
                raise ValueError("the total does not match the files listed")
            self.count, self.total = self.files, self.bytes
        else:
            raise ValueError("bad manifest line %d" % self.n)
        self.sha.update(text.encode() + b"\n")


def _hex(digest):
    return "".join("%02x" % b for b in digest)


def file_line(text):
    """(sha256 hex, size, path) of a `file` line, else None."""
    w = text.split(" ")
    if len(w) == 4 and w[0] == "file":
        return w[1], int(w[2]), w[3]
    return None
