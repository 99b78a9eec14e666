"""Power-loss-safe files on flash (LittleFS on the ESP32, a folder on the PC).

A record is written to a temporary file, then renamed over the previous one: the rename is
atomic on LittleFS and POSIX, so a power cut at any point leaves either the old record or
the new one, never a torn mix. Each record also carries a CRC32 of its content, so a file
damaged in any other way is ignored rather than trusted.
"""
import json
import os
try:
    from binascii import crc32
except ImportError:     # pragma: no cover - every MicroPython port we use has binascii
    from zlib import crc32


class Store:
    def __init__(self, root, fs=None):
        self.root = root
        self.fs = fs or _Os()
        self.fs.makedirs(root)

    def _path(self, name):
        return self.root + "/" + name + ".json"

    def write(self, name, obj):
        body = json.dumps(obj)
        text = json.dumps({"crc": crc32(body.encode()) & 0xFFFFFFFF, "body": body})
        tmp = self._path(name) + ".tmp"
        self.fs.write(tmp, text)
        self.fs.rename(tmp, self._path(name))

    def read(self, name):
        try:
            text = self.fs.read(self._path(name))
            d = json.loads(text)
            body = d["body"]
            if crc32(body.encode()) & 0xFFFFFFFF != d["crc"]:
                return None
            return json.loads(body)
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def remove(self, name):
        try:
            self.fs.remove(self._path(name))
        except OSError:
            pass


class _Os:
    """The real file system. Tests substitute one that cuts the power mid-operation."""

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

    def rename(self, a, b):
        os.rename(a, b)

    def remove(self, path):
        os.remove(path)
