"""Requests, routes and answers for the API and the web UI: HTTP/1.0, GET and HEAD, and POST
on the few paths registered with `post` (the update's upload: its body is left on the
stream for the handler, never read here), one request a connection.

Why not microdot, which the firmware used until it was measured on the device image: it
kept 25.5 KB of the chip's heap (bench/memory.py) for what this firmware uses of it, exact
paths, one `/<name>` route, hooks before a request, a 404 handler, plain-text and file
answers; its connection handling had already been replaced (api/server.py). This module
keeps the same surface and the same answers (status lines, headers, "Bad request" for what
cannot be parsed) in a fifth of that. Routes are a dict of exact paths, so no regular
expression ever sees a path.
"""

MAX_BODY = 1024             # no GET of this API has a body; a longer one is refused (413)
CHUNK = 1024                # a file is sent this much at a time
DEFAULT_TYPE = "text/plain; charset=UTF-8"


class Headers(dict):
    """The request's headers, looked up whatever the case of the name."""

    def get(self, key, default=None):
        return super().get(key.lower(), default)

    def __getitem__(self, key):
        return super().__getitem__(key.lower())

    def __contains__(self, key):
        return self.get(key) is not None


class Request:
    too_long = False        # its body was over MAX_BODY (left unread)
    length = 0              # its Content-Length (-1: none given)
    body = None             # a POST to a `post` path: the stream its body is still on

    def __init__(self, method, url, headers, client_addr):
        self.method = method
        self.headers = headers
        self.client_addr = client_addr
        self.path, _, query = url.partition("?")
        self.args = parse_query(query)


def unquote(s):
    """%XX and '+' decoded; ValueError (or UnicodeError) on what is not a URL's."""
    if "%" not in s and "+" not in s:
        return s
    parts = s.replace("+", " ").encode().split(b"%")
    out = [parts[0]]
    for p in parts[1:]:
        if p:
            out.append(bytes((int(p[:2], 16),)))
            out.append(p[2:])
        else:
            out.append(b"%")
    return b"".join(out).decode()


def parse_query(query):
    """{key: value} of a query string; a key given twice keeps its first value."""
    args = {}
    for pair in query.split("&"):
        if pair:
            k, eq, v = pair.partition("=")
            k = unquote(k)
            if k not in args:
                args[k] = unquote(v) if eq else ""
    return args


async def read_request(stream, client_addr, posts=()):
    """The request on `stream` (its readline and readexactly), or None if the client sent
    nothing. Raises ValueError (or UnicodeError) for what is not an HTTP request; a body
    over MAX_BODY is left unread and the request answered 413, except a POST to one of
    `posts`, whose body is its handler's to read (`body`, `length`)."""
    line = (await stream.readline()).strip()
    if not line:
        return None
    method, url, version = line.decode().split()
    if not version.startswith("HTTP/"):
        raise ValueError("not HTTP: " + version)
    headers = Headers()
    length = -1
    while True:
        line = (await stream.readline()).strip().decode()
        if not line:
            break
        name, value = line.split(":", 1)
        name = name.lower()
        value = value.strip()
        headers[name] = value
        if name == "content-length":
            length = int(value)
    req = Request(method, url, headers, client_addr)
    req.length = length
    if method == "POST" and req.path in posts:
        req.body = stream
    elif length > MAX_BODY:
        req.too_long = True
    elif length > 0:
        await stream.readexactly(length)
    return req


class Response:
    """An answer: `body` is bytes, a str (sent as UTF-8) or an open file (sent in CHUNKs,
    then closed)."""

    def __init__(self, body=b"", status=200, headers=None):
        self.status = status
        self.headers = dict(headers) if headers else {}
        self.body = body.encode() if isinstance(body, str) else b"" if body is None else body

    async def write(self, writer, head_only=False):
        h = self.headers
        body = self.body
        if isinstance(body, bytes) and "Content-Length" not in h:
            h["Content-Length"] = len(body)
        h.setdefault("Content-Type", DEFAULT_TYPE)
        writer.write(("HTTP/1.0 %d %s\r\n%s\r\n" % (
            self.status, "OK" if self.status == 200 else "N/A",
            "".join("%s: %s\r\n" % kv for kv in h.items()))).encode())
        try:
            if head_only:
                pass
            elif isinstance(body, bytes):
                writer.write(body)
            else:
                while True:
                    chunk = body.read(CHUNK)
                    if not chunk:
                        break
                    writer.write(chunk)
                    await writer.drain()
            await writer.drain()
        finally:
            if not isinstance(body, bytes):
                body.close()


def answer(res):
    """A handler's return (a Response, a body, or (body, status[, headers])) as a Response."""
    if isinstance(res, Response):
        return res
    if isinstance(res, tuple):
        return Response(*res)
    return Response(res)


def redirect(location):
    if "\r" in location or "\n" in location:
        raise ValueError("invalid redirect URL")
    return Response(b"", 302, {"Location": location})


def send_file(path, content_type, gzip=False, max_age=None):
    h = {"Content-Type": content_type}
    if max_age is not None:
        h["Cache-Control"] = "max-age=%d" % max_age
    if gzip:
        h["Content-Encoding"] = "gzip"
    return Response(open(path, "rb"), 200, h)


class App:
    """Exact paths (`get(path)`), and at most one route `/<name>` for any other single
    segment, its handler called with the segment; hooks run before a routed request (the
    first that returns something answers it); error handlers by status."""

    def __init__(self):
        self.routes = {}
        self.posts = {}         # path -> handler of its POST
        self.named = None
        self.before = []
        self.error_handlers = {}

    def get(self, path):
        def register(f):
            if path.startswith("/<") and path.endswith(">"):
                self.named = f
            else:
                self.routes[path] = f
            return f
        return register

    def post(self, path):
        def register(f):
            self.posts[path] = f
            return f
        return register

    def before_request(self, f):
        self.before.append(f)
        return f

    def errorhandler(self, status):
        def register(f):
            self.error_handlers[status] = f
            return f
        return register

    async def error(self, req, status, words):
        f = self.error_handlers.get(status)
        return answer(await f(req)) if f else Response(words, status)

    async def dispatch(self, req):
        """The answer to `req` (None: it could not be parsed)."""
        if req is None:
            return await self.error(req, 400, "Bad request")
        if req.too_long:
            return await self.error(req, 413, "Payload too large")
        path = req.path
        f = self.routes.get(path)
        if req.body is not None:
            f = self.posts[path]
        elif path in self.posts:
            return Response("Method not allowed: %s answers POST only" % path, 405,
                            {"Allow": "POST"})
        name = None
        if f is None and self.named and path.count("/") == 1 and len(path) > 1:
            f, name = self.named, path[1:]
        if f is None:
            return await self.error(req, 404, "Not found")
        if req.method not in ("GET", "HEAD") and req.body is None:
            return Response("Method not allowed: %s answers GET only" % path, 405,
                            {"Allow": "GET, HEAD"})
        try:
            for hook in self.before:
                res = await hook(req)
                if res:
                    return answer(res)
            return answer(await (f(req) if name is None else f(req, name)))
        except MemoryError:
            raise               # the transport answers 503 (api/server.py)
        except Exception as e:
            print("http: %s: %s" % (type(e).__name__, e))
            return await self.error(req, 500, "Internal server error")
