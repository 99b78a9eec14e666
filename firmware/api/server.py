"""The HTTP transport under the API (api/http.py's routes and answers), with connections
bounded the way an ESP32 on a LAN that may be hostile or broken needs.

A server that trusts its client (as microdot 2.7.0, which this firmware used before, did)
reads a request line whole into RAM before looking at its length, waits for ever for a head
or a body that never comes, accepts as many connections as arrive, and the accept loop
under it (MicroPython's asyncio.Server) ends for good on a MemoryError. On a board with ~10
sockets and ~100 kB of heap for everything, a dozen idle connections or one long line take
the API down until a reboot. `Server` is api/http.py's App with its own accept loop
(`_Listener`) and connection handling (`handle_request`).

The limits, and why:
- MAX_ACTIVE = 2 connections handled at once, MAX_WAITING = 4 more waiting up to WAIT_MS
  for a slot; any other gets a 503 at once. The ESP32 port has lwIP's 10 sockets: 1 listens,
  2 + 4 serve HTTP, which leaves MQTT, SNTP and the remote relay theirs. A browser loading
  the UI opens up to 6 connections at once, each served in milliseconds: the wait absorbs it.
  Memory sets the 2: a connection being handled holds its request object, headers and
  answer at its peak, one waiting only its stream and an event. With 4 clients hammering
  the API in the test heap (test_api_load.py, 288K), 4 handled ran it out 3 times in 3, 3
  handled once in 2 (after the Host check and the password slow-down came), 2 handled 0 in
  4. Throughput does not suffer: one asyncio loop serves one request at a time anyway.
- HEAD_MS = 5 s for the whole request head (and body), counted from the connection: a LAN
  client sends it in one packet, a slowloris never finishes it. CONN_MS = 15 s for the whole
  exchange, the answer included (a client that stops reading; an update's upload, its body
  streamed to the flash, is given ota/upload.py's UPLOAD_MS instead). One task (`_reap`, every
  REAP_MS) holds every connection to these: a wait_for per connection costs two tasks and a
  closure, and that garbage, with 4 clients hammering, ran the test heap out.
- MAX_HEAD = 4 kB read in all, lines up to MAX_LINE, read 256 bytes at a time:
  nothing larger than the cap is ever held in RAM. The longest real request (a whole
  configuration in one URL) is under 2 kB.
- BACKLOG = 8 connections may wait for the accept: a browser opens 6 at once, faster than
  the loop comes round to accepting them, and a connection beyond the backlog is dropped by
  the TCP stack and retried by the client only a second later. (They cost no heap; on the
  chip lwIP bounds the backlog further by its own connection pool.)
- A failed accept (out of sockets) is retried after ACCEPT_RETRY_MS: the connection waits
  in the listen backlog, and the loop does not spin on a socket that stays readable.
"""
import asyncio
import gc
import socket
import time

from api.http import App, read_request

MAX_ACTIVE = 2
MAX_WAITING = 4
WAIT_MS = 1000
HEAD_MS = 5000
CONN_MS = 15000
MAX_HEAD = 4096
MAX_LINE = 2048            # a URL with a whole configuration fits
MAX_SEGMENT = 128          # characters in one segment of a path (ours are < 30)
BACKLOG = 8
ACCEPT_RETRY_MS = 100
RESERVE = 8192             # bytes free below which no connection is accepted
DRAIN_BYTES = 8192         # what a refused request may still have in flight
DRAIN_MS = 500
REAP_MS = 250

BUSY = b"HTTP/1.0 503 Service Unavailable\r\nContent-Type: text/plain\r\nRetry-After: 1\r\n\r\nBusy: too many connections, try again\n"
SLOW = b"HTTP/1.0 408 Request Timeout\r\nContent-Type: text/plain\r\n\r\nRequest timeout: the request did not arrive in time\n"
FAILED = b"HTTP/1.0 500 Internal Server Error\r\nContent-Type: text/plain\r\n\r\nInternal error\n"


def _one_line(exc):
    # a whole traceback for each malformed request would go to the chip's serial console
    # and hold the loop: one line is enough
    print("http: %s: %s" % (type(exc).__name__, exc))


class _Head:
    """One connection, and its stream as api/http.py reads it: at most MAX_HEAD bytes, lines
    of at most MAX_LINE, and refused as soon as its line is read: a path segment over
    MAX_SEGMENT characters (none of ours is near; a regular expression over a long one, as
    microdot matched routes, overflowed MicroPython's stack) and a Content-Length that is
    not a small number (-1 would wait in readexactly(-1))."""

    def __init__(self, reader):
        self.r = reader
        self.buf = b""
        self.left = MAX_HEAD
        self.lines = 0
        self.last = b""         # the end of the last line taken
        self.slot = False       # this connection holds one of MAX_ACTIVE
        self.ended = False      # the blank line that ends the head has been read
        self.done = False       # the request has been read (or refused)
        self.late = False       # the reaper has cancelled it
        self.limit = CONN_MS    # the whole exchange's time (an upload's handler gives more)
        self.t0 = time.ticks_ms()
        self.task = asyncio.current_task()

    async def _more(self):
        """The next chunk (b"" at the end of the stream), appended to buf."""
        if self.left <= 0:
            raise ValueError("request over %d bytes" % MAX_HEAD)
        chunk = await self.r.read(min(256, self.left))
        self.left -= len(chunk)
        self.buf = self.buf + chunk if self.buf else chunk
        return chunk

    async def readline(self):
        # The pieces of a line are joined once it is complete: growing one bytes object chunk
        # by chunk would copy it at each step (35 kB of garbage for a 2 kB line, and a heap
        # too fragmented for the next connection's buffers).
        parts = []
        size = 0
        while True:
            i = self.buf.find(b"\n")
            if i >= 0:
                parts.append(self.buf[:i + 1])
                self.buf = self.buf[i + 1:]
                break
            size += len(self.buf)
            if self.buf:
                parts.append(self.buf)
                self.buf = b""
            if size > MAX_LINE:
                self.last = b""
                raise ValueError("line too long")
            if not await self._more():
                break
        line = b"".join(parts)
        self.last = line[-2:]
        self._check(line)
        return line

    def _check(self, line):
        self.lines += 1
        if line in (b"\r\n", b"\n", b""):
            self.ended = True
        elif self.lines == 1:
            if _long_segment(line):
                raise ValueError("path segment longer than %d characters" % MAX_SEGMENT)
        elif line[:15].lower() == b"content-length:":
            v = line[15:].strip()
            if not (v.isdigit() and len(v) <= 9):
                raise ValueError("bad Content-Length")

    async def readexactly(self, n):
        while len(self.buf) < n:
            if not await self._more():
                raise EOFError
        data = self.buf[:n]
        self.buf = self.buf[n:]
        return data

    async def drain(self, ms=DRAIN_MS, most=DRAIN_BYTES):
        """Read what the client still sends of its head (bounded) before it is answered and
        closed: closing a socket with unread input makes the TCP stack send a reset and drop
        what it has not sent yet, and the client could lose its answer."""
        self.left = most
        try:
            await asyncio.wait_for_ms(self._to_head_end(), ms)
        except Exception:       # timeout, reset or the cap: nothing more is read
            pass

    async def _to_head_end(self):
        seen = self.last + self.buf
        self.buf = b""
        while not self.ended and b"\r\n\r\n" not in seen:
            chunk = await self._more()
            if not chunk:
                return
            seen = seen[-3:] + chunk
            self.buf = b""


def _long_segment(line):
    """Whether the path of a request line has a segment over MAX_SEGMENT characters. Found
    by position, not by splitting: on a fragmented heap a copy of a 1 kB path is the
    allocation that fails (36 kB free in holes of at most 384 bytes, seen in
    test_http_attack), and the client would get a 503 rather than its 400."""
    i = line.find(b" ") + 1
    if not i:
        return False
    end = line.find(b" ", i)
    end = len(line) if end < 0 else end
    q = line.find(b"?", i, end)
    end = end if q < 0 else q
    while i <= end:
        j = line.find(b"/", i, end)
        j = end if j < 0 else j
        if j - i > MAX_SEGMENT:
            return True
        i = j + 1
    return False


class _Listener:
    """The accept loop (asyncio.Server's, which a MemoryError while it wraps a new socket
    ends for good, the listening socket left open so that nothing can take its place).
    Waiting for a connection uses the I/O queue that every MicroPython asyncio stream waits
    on: there is no public call that waits for a listening socket.

    No connection is taken while less than RESERVE bytes are free after a collection: each
    one costs ~4 kB (its task, stream, request and answer), and a socket registered with
    MicroPython's poller on a heap that is out of memory leaves the poller half-updated, and
    its next poll crashes the interpreter (a limitation noted in extmod/modselect.c). Until
    memory is back, connections wait in the listen backlog."""

    def __init__(self, sock, cb):
        self.closed = False
        self.task = asyncio.create_task(self._accept(sock, cb))

    def close(self):
        self.closed = True
        self.task.cancel()

    async def wait_closed(self):
        try:
            await self.task
        except asyncio.CancelledError:
            if not self.closed:
                raise

    async def _accept(self, s, cb):
        from asyncio import core
        try:
            while True:
                if gc.mem_free() < RESERVE:
                    gc.collect()
                    if gc.mem_free() < RESERVE:
                        await asyncio.sleep_ms(ACCEPT_RETRY_MS)
                        continue
                try:
                    yield core._io_queue.queue_read(s)
                    s2, addr = s.accept()
                except Exception:       # out of sockets, or of memory
                    gc.collect()
                    await asyncio.sleep_ms(ACCEPT_RETRY_MS)
                    continue
                try:
                    s2.setblocking(False)
                    stream = asyncio.StreamReader(s2, {"peername": addr})
                    asyncio.create_task(cb(stream, stream))
                except MemoryError:
                    s2.close()
                    gc.collect()
        finally:
            s.close()


class Server(App):
    def __init__(self):
        super().__init__()
        self.active = 0
        self.line = []          # the waiting connections' events, oldest first
        self.conns = []         # every connection's _Head, for the reaper

    async def start_server(self, host="0.0.0.0", port=80):
        s = socket.socket()
        s.setblocking(False)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(socket.getaddrinfo(host, port)[0][-1])
        s.listen(BACKLOG)
        self.server = _Listener(s, self.handle_request)
        reaper = asyncio.create_task(self._reap())
        try:
            await self.server.wait_closed()
        finally:
            reaper.cancel()

    def shutdown(self):
        self.server.close()

    async def _reap(self):
        while True:
            await asyncio.sleep_ms(REAP_MS)
            now = time.ticks_ms()
            for c in self.conns:
                age = time.ticks_diff(now, c.t0)
                if not c.late and (age > c.limit or (age > HEAD_MS and not c.done)):
                    c.late = True
                    c.task.cancel()

    async def _slot(self):
        """True once this connection holds a slot; False if it is to be refused. A freed
        slot passes straight to the longest waiting connection: if it went back to the pool
        and the waiting ones looked for it later, a browser reusing its 6 connections at once
        would find the line full and get a 503."""
        if self.active < MAX_ACTIVE:
            self.active += 1
            return True
        if len(self.line) >= MAX_WAITING:
            return False
        ev = asyncio.Event()
        self.line.append(ev)
        try:
            await asyncio.wait_for_ms(ev.wait(), WAIT_MS)
        except asyncio.TimeoutError:
            pass
        if not ev.is_set():
            self.line.remove(ev)
        return ev.is_set()

    def _release(self, conn):
        if conn.slot:
            conn.slot = False
            if self.line:
                self.line.pop(0).set()
            else:
                self.active -= 1

    async def handle_request(self, reader, writer):
        """One connection, whatever it sends: it is answered (or, if it sent nothing, just
        closed) and its socket closed; nothing raises out of here."""
        head = _Head(reader)
        self.conns.append(head)
        try:
            head.slot = await self._slot()
            if head.slot:
                await self._exchange(head, writer)
            else:
                await head.drain(50, 2048)
                await _send(writer, BUSY)
        except asyncio.CancelledError:      # the reaper: out of time
            if not head.done:
                await _send(writer, SLOW)
        except MemoryError:
            gc.collect()
            print("http: MemoryError: connection refused")
            await _send(writer, BUSY)
        except Exception as e:      # a reset, a bug
            _one_line(e)
        finally:
            self._release(head)
            self.conns.remove(head)
            try:
                await writer.aclose()
            except Exception:
                pass

    async def _exchange(self, head, writer):
        try:
            req = await read_request(head, writer.get_extra_info("peername"), self.posts)
        except MemoryError:
            raise
        except Exception as e:
            head.done = True
            _one_line(e)
            if not head.ended:
                await head.drain()
            req = None
        else:
            head.done = True
            if req is None and not head.buf and head.left == MAX_HEAD:
                return          # connected and closed without a word
        try:
            res = await self.dispatch(req)
            await res.write(writer, req is not None and req.method == "HEAD")
        except MemoryError:
            raise
        except Exception as e:
            _one_line(e)
            await _send(writer, FAILED)
        finally:
            # The answer is out: the slot goes before anything else runs, so that the client's
            # next connection, which may already be on its way, finds it free.
            self._release(head)


async def _send(writer, data):
    try:
        writer.write(data)
        await writer.drain()
    except Exception:
        pass
