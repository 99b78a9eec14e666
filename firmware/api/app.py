"""The MaxPV! v3.1 HTTP API on microdot: /api/get, /api/set, /api/action, /api/history,
served from the endpoint table of api/endpoints.py.

Bodies are plain text exactly as the original formats them (api/data.py), so existing
clients keep working. Unlike the original, a request that cannot be served gets a 4xx status
and a body that starts with the original words ("Unknown request", "Bad request") and then
says what is wrong; such a request changes nothing.

Protection the original lacked: when an admin password is set, the paths that change
something (/api/set, /api/action) need HTTP Basic auth (reads stay open); a state-changing
request that a browser marks as cross-site (Sec-Fetch-Site, or an Origin other than the
router itself) is refused; requests are capped in size.
"""
import asyncio
import microdot.microdot as _microdot
from microdot import Microdot, Request
from api.endpoints import PATHS, fail, serve
from api.guard import refusal


def _one_line(exc):
    # microdot prints a whole traceback for each malformed request; on the chip that goes to
    # the serial console and holds the loop. One line is enough.
    print("http: %s: %s" % (type(exc).__name__, exc))


_microdot.print_exception = _one_line

DRAIN_BYTES = 8192         # what a refused request may still have in flight
DRAIN_WAIT_S = 0.5

# A request refused while microdot reads its head (bad request line, line too long, bad
# header) leaves the rest of the head unread. Closing a socket with unread input makes the TCP
# stack send a reset and drop what it has not sent yet: the client could lose our 400. So such
# a request's head is read to its end (bounded) before the answer goes out.
_readline = Request._safe_readline
_create = Request.create


MAX_SEGMENT = 128          # characters in one segment of a path (ours are < 30)
MAX_BODY = 1024            # no request of this API has a body (Request.max_body_length)


def _check_line(stream, line):
    """Refuse, before microdot acts on it, what it would mishandle: a request line whose
    path has a segment over MAX_SEGMENT characters (MicroPython's regular expressions
    recurse per character: ~1,000 overflow the stack inside microdot's route matcher, which
    then neither answers nor closes the socket), and a Content-Length that is not a small
    number (-1 made microdot wait in readexactly(-1) for ever)."""
    if not getattr(stream, "line_seen", False):
        stream.line_seen = True
        parts = line.split(b" ")
        path = parts[1].split(b"?", 1)[0] if len(parts) > 1 else b""
        if any(len(seg) > MAX_SEGMENT for seg in path.split(b"/")):
            raise ValueError("path segment longer than %d characters" % MAX_SEGMENT)
    elif line[:15].lower() == b"content-length:":
        v = line[15:].strip()
        if not (v.isdigit() and len(v) <= 9):
            raise ValueError("bad Content-Length")


async def _readline_noting_head_end(stream):
    line = await _readline(stream)
    if line in (b"\r\n", b"\n", b""):
        stream.head_read = True
    else:
        _check_line(stream, line)
    return line


async def _drain(reader):
    seen = b"\r\n"            # the last line read ended there
    left = DRAIN_BYTES
    try:
        while left > 0:
            chunk = await asyncio.wait_for(reader.read(256), DRAIN_WAIT_S)
            if not chunk:
                return
            left -= len(chunk)
            seen = seen[-3:] + chunk
            if b"\r\n\r\n" in seen:
                return
    except Exception:       # timeout or reset: nothing more is coming
        pass


async def _create_or_drain(app, reader, writer, addr, scheme=None):
    try:
        return await _create(app, reader, writer, addr, scheme)
    except Exception:
        if not getattr(reader, "head_read", False):
            await _drain(reader)
        raise


Request._safe_readline = staticmethod(_readline_noting_head_end)
Request.create = staticmethod(_create_or_drain)

# Whatever fails while a request is handled (routing included, which microdot does outside
# its error handling), the client gets an answer and the socket is closed: a socket left
# open is one of the ESP32's ~10 gone until reboot.
_handle = Microdot.handle_request
_FAILED = b"HTTP/1.0 500 Internal Server Error\r\nContent-Type: text/plain\r\n\r\nInternal error\n"


async def _handle_and_close(self, reader, writer):
    try:
        await _handle(self, reader, writer)
    except Exception as e:
        _one_line(e)
        try:
            writer.write(_FAILED)
            await writer.drain()
        except Exception:
            pass
        try:
            await writer.aclose()
        except Exception:
            pass


Microdot.handle_request = _handle_and_close


def make_app(backend):
    """The API app over an endpoints.Backend (the router's interface and the records)."""
    app = Microdot()
    app.backend = backend
    Request.max_content_length = MAX_BODY
    Request.max_body_length = MAX_BODY
    Request.max_readline = 2048            # a URL with a whole configuration fits
    guarded = [p for p, _, changes in PATHS if changes]

    @app.before_request
    async def guard(req):
        if req.path in guarded:
            if req.method != "GET":
                # microdot serves HEAD with the GET handler: a HEAD must not change anything
                return fail("Method not allowed: %s changes only with GET" % req.path, 405)
            return refusal(backend, req)

    def route(path):
        async def handler(req):
            return serve(backend, path, req.args)
        app.get(path)(handler)

    for p, _, _ in PATHS:
        route(p)

    @app.errorhandler(404)
    async def not_found(req):
        return fail("Not found: %s" % req.path, 404)

    return app
