"""The update's upload (POST /api/update): a bundle (ota/bundle.py) streamed from the
connection to the staging folder (otaboot.NEW), each file checked against the manifest as it
lands; only a complete and verified staging is marked `staged` (otaboot.STATE), which the
next boot swaps in. Imported only when an upload comes.

Refused before anything is read: no admin password set (an update is the whole firmware: it
needs one), the guards of api/guard.py (Host, cross-site, a wrong password: 401/429), a
swap on trial, a board not installed by tools/flash.py deploy (no manifest.json to know its
files), no Content-Length or one over bundle.MAX_BYTES, too little flash. Refused while it
arrives: any line or file that does not check, a body that ends early or runs past its
length, a connection that dies or takes over UPLOAD_MS. A refusal changes nothing that the
next boot would act on: a staged bundle the upload replaces is unmarked first, and what
landed in the staging folder is never marked.

The loop's time: the body is read CHUNK bytes at a time, each an await; a chunk is hashed
(SHA-256 of 1 KB: ~0.1 ms on the ESP32) and written (LittleFS copies it to its cache, ~1 ms;
every 4th chunk fills a 4 KB block, programmed then, with an erase now and then: tens of ms
that the RMT's queued firing (~70 ms ahead) rides through, as every flash write of the
records does). Clearing the staging folder removes one file per await.
"""
import asyncio
import hashlib
import os

import otaboot
from ota import bundle
from api.endpoints import TEXT, VERSION

CHUNK = 1024
BLOCK = 4096                # LittleFS: a file takes whole blocks (beyond ~128 bytes inline)
UPLOAD_MS = 180000          # the whole upload: ~0.2 MB even at a poor Wi-Fi link's ~2 kB/s
SPARE = 32768               # flash left free after the staging (the records must still save)
REFUSED = "Bad request: the update is refused, nothing changed: "
NO_PASSWORD = ("Forbidden: an update replaces the whole firmware, so it needs an admin "
               "password, and none is set. Set one first (admin page, Admin password; or "
               "/api/set?adminpass&value=P), then send the update with it")


class Refusal(Exception):
    pass


_busy = False               # an upload is being received: a second one would clear its files


def _answer(b, status, text):
    b.ota_upload = {"result": "staged" if status == 200 else "refused", "why": text}
    return text, status, TEXT


async def receive(b, req):
    from api.guard import refusal
    r = refusal(b, req)
    if r is None and b.admin.rec is None:
        r = (NO_PASSWORD, 403, TEXT)
    if r is not None:
        # read (within the connection's 15 s) so that the 401 arrives: a browser's upload
        # learns it needs the password from it, and a reset connection would lose it
        await _discard(req)
        return r
    global _busy
    try:
        if _busy:
            raise Refusal("another update is being received: wait for its answer")
        _ready(req)
    except Refusal as e:
        await _discard(req)
        return _answer(b, 409 if "trial" in str(e) or "another" in str(e) else 400,
                       REFUSED + str(e))
    head = req.body
    head.limit = UPLOAD_MS
    b.ota_upload = {"result": "receiving", "why": None}
    body = _Body(head, req.length)
    _busy = True
    later = False           # the staging folder is still being cleared: not free yet
    try:
        s = await _stage(body)
    except Refusal as e:
        await _discard(req, body)
        await _clear(otaboot.NEW)       # what landed is never marked; its room is the records'
        return _answer(b, 400, REFUSED + str(e))
    except OSError as e:
        await _clear(otaboot.NEW)
        return _answer(b, 507, REFUSED + "the flash failed (%s)" % e)
    except BaseException:       # the connection died, or took over UPLOAD_MS
        b.ota_upload = {"result": "refused", "why": "the upload did not arrive whole"}
        # this task is being cancelled: the clearing is another's, and the next upload waits
        # for it (it would clear that one's files)
        later = True
        asyncio.create_task(_clear_then_free())
        raise
    finally:
        if not later:
            _busy = False
    return _answer(b, 200, "Request successfully processed: version %s staged (%d files, %d "
                   "bytes); it is swapped in at the next reboot (/api/action?rebootesp), and "
                   "rolled back if it does not start healthy" % (s["version"], s["files"],
                                                                   s["bytes"]))


def _ready(req):
    s = otaboot.read()
    if s is not None and s["state"] not in ("staged", "confirmed", "rolled_back"):
        raise Refusal("the last update is still on trial (%s): wait for it to be confirmed "
                      "or rolled back" % s["state"])
    try:
        os.stat(otaboot.MANIFEST)
    except OSError:
        raise Refusal("this board's files are not known (no manifest.json): install it once "
                      "with tools/flash.py deploy")
    n = req.length
    if n < 0:
        raise Refusal("no Content-Length (411: the bundle's length must be given)")
    if n > bundle.MAX_BYTES + 64 * 1024:
        raise Refusal("over %d bytes" % bundle.MAX_BYTES)


def _room(sizes):
    """Refusal unless the flash holds the staged files: whole blocks each (LittleFS), two
    blocks for each folder, SPARE left for the records. Asked once the manifest is in and
    the older version's files are gone (statvfs walks the file system: once per upload)."""
    need = SPARE
    for size in sizes:
        need += (size + BLOCK - 1) // BLOCK * BLOCK
    try:
        st = os.statvfs(".")
        free = st[0] * st[4]
    except (AttributeError, OSError):
        return
    if free < need:
        raise Refusal("not enough flash: %d bytes free, the files need %d" % (free, need))


class _Body:
    """The request's body as it arrives: exactly `left` bytes, what api/server.py's head
    reader holds already first."""

    def __init__(self, head, left):
        self.head = head
        self.left = left
        self.buf = b""

    async def read(self, n):
        """Up to `n` bytes (b"" only at the end of the body); Refusal if the stream ends
        before its length."""
        if not self.buf:
            if self.left <= 0:
                return b""
            h = self.head
            if h.buf:
                self.buf, h.buf = h.buf, b""
            else:
                self.buf = await h.r.read(min(CHUNK, self.left))
                if not self.buf:
                    raise Refusal("the body ended %d bytes early" % self.left)
            if len(self.buf) > self.left:
                raise Refusal("the body is longer than its Content-Length")
            self.left -= len(self.buf)
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    async def line(self):
        parts = []
        size = 0
        while True:
            c = await self.read(bundle.MAX_LINE + 1 - size)
            if not c:
                raise Refusal("the bundle ends in its manifest")
            i = c.find(b"\n")
            if i >= 0:
                parts.append(c[:i])
                self.buf = c[i + 1:] + self.buf
                break
            parts.append(c)
            size += len(c)
            if size > bundle.MAX_LINE:
                raise Refusal("a manifest line over %d bytes" % bundle.MAX_LINE)
        try:
            return b"".join(parts).decode()
        except UnicodeError:
            raise Refusal("a manifest line that is not text")


async def _clear(folder):
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for n in names:
        p = folder + "/" + n
        if os.stat(p)[0] & 0x4000:
            await _clear(p)
            try:
                os.rmdir(p)
            except OSError:
                pass
        else:
            os.remove(p)
        await asyncio.sleep_ms(0)


async def _clear_then_free():
    global _busy
    try:
        await _clear(otaboot.NEW)
    finally:
        _busy = False


def _mkdirs(path):
    d = ""
    for part in path.split("/")[:-1]:
        d = d + "/" + part if d else part
        try:
            os.mkdir(d)
        except OSError:
            pass


async def _stage(body):
    s = otaboot.read()
    if s is not None and s["state"] == "staged":
        os.remove(otaboot.STATE)        # a half-received bundle must not pass for it
    await _clear(otaboot.OLD)           # the version before the running one (confirmed)
    await _clear(otaboot.NEW)
    _mkdirs(otaboot.LIST)
    r = bundle.Reader(hashlib.sha256)
    with open(otaboot.LIST + ".tmp", "w") as f:
        while not r.done:
            line = await body.line()
            try:
                r.line(line)
            except ValueError as e:
                raise Refusal(str(e))
            f.write(line + "\n")
    os.rename(otaboot.LIST + ".tmp", otaboot.LIST)
    sizes = []
    folders = set()
    with open(otaboot.LIST) as f:
        for line in f:
            entry = bundle.file_line(line.rstrip("\n"))
            if entry:
                sizes.append(entry[1])
                folders.add(entry[2].rsplit("/", 1)[0] if "/" in entry[2] else "")
    _room(sizes + [BLOCK] * (2 * len(folders)))
    with open(otaboot.LIST) as f:
        for line in f:
            entry = bundle.file_line(line.rstrip("\n"))
            if entry:
                await _file(body, *entry)
    if body.left or body.buf:
        raise Refusal("bytes after the last file")
    s = {"version": r.version, "from": VERSION, "files": r.count, "bytes": r.total}
    otaboot._save(s, "staged")          # last: the staging is complete and verified
    return s


async def _file(body, digest, size, path):
    dst = otaboot.NEW + "/" + path
    _mkdirs(dst)
    h = hashlib.sha256()
    left = size
    with open(dst, "wb") as f:
        while left:
            c = await body.read(min(CHUNK, left))
            if not c:
                raise Refusal("the bundle ends in %s" % path)
            h.update(c)
            f.write(c)
            left -= len(c)
    if bundle._hex(h.digest()) != digest:
        raise Refusal("%s: its SHA-256 is not the manifest's" % path)


async def _discard(req, body=None):
    """Read what the client still sends (bounded by its length, the bundle's maximum and the
    connection's time) so that it gets its answer: closing a socket with unread input makes
    the TCP stack reset it, and the answer may be lost."""
    head = req.body
    if head is None:
        return
    body = body or _Body(head, min(max(req.length, 0), bundle.MAX_BYTES + 64 * 1024))
    try:
        while await body.read(CHUNK):
            pass
    except Exception:
        pass
