"""The MaxPV! v3.1 HTTP API on microdot: /api/get, /api/set, /api/action, /api/history.

Bodies are plain text exactly as the original formats them (api/data.py), so existing
clients keep working. Unlike the original, a request that cannot be served gets a 4xx status
and a body that starts with the original words ("Unknown request", "Bad request") and then
says what is wrong; such a request changes nothing.

Protection the original lacked: when an admin password is set, /api/set and /api/action need
HTTP Basic auth (reads stay open); a state-changing request that a browser marks as
cross-site (Sec-Fetch-Site, or an Origin other than the router itself) is refused; requests
are capped in size.
"""
import asyncio
import microdot.microdot as _microdot
from microdot import Microdot, Request
from api import data
from router import params as P
from router.params import ParamError
from router.control import STOP, FORCE, AUTO
from services.config import ConfigError

VERSION = "0.1.0"          # this firmware (served as the router's and the web UI's version)
API_VERSION = "3.1"        # the MaxPV! API it serves
OK = "Request successfully processed"
MODE_WORDS = {"stop": STOP, "force": FORCE, "auto": AUTO}
TEXT = {"Content-Type": "text/plain; charset=utf-8"}
PING_STALE_S = 1.5         # as the original: "offline" after 1.5 s without fresh figures


class View:
    """What the formatters read: the router's last figures and state."""

    def __init__(self, rt, mv_per_lsb):
        self.rt = rt
        self.mv_per_lsb = mv_per_lsb

    @property
    def last(self):
        return self.rt.last

    @property
    def sum(self):
        return self.rt.sum

    @property
    def energy(self):
        return self.rt.energy

    def cnt_calib(self):
        return self.rt.params.get("CNT_CALIB")

    def ssr_mode(self):
        return self.rt.ctrl.ssr_mode

    def relay_mode(self):
        return self.rt.relay.mode

    def bias_volts(self):
        return self.rt.measure.v_mid_q8 / 256 * self.mv_per_lsb / 1000


def _number(text, top):
    """'01'..'NN' -> int, or None."""
    t = text.strip()
    if not t.isdigit():
        return None
    n = int(t)
    return n if 1 <= n <= top else None


class Services:
    """What the API needs besides the router (wired by main.py)."""

    def __init__(self, mv_per_lsb, clock_text, config, history, admin, reboot):
        self.mv_per_lsb = mv_per_lsb
        self.clock_text = clock_text   # () -> "HH:MM:SS"
        self.config = config
        self.history = history
        self.admin = admin
        self.reboot = reboot           # () -> None: save and restart the firmware


def _same_origin(req):
    """False for what a browser marks as coming from another site."""
    site = req.headers.get("Sec-Fetch-Site")
    if site is not None and site not in ("same-origin", "none"):
        return False
    origin = req.headers.get("Origin")
    return origin is None or origin.split("://", 1)[-1] == req.headers.get("Host", "")


class Errors:
    count = 0      # requests microdot could not parse, or handlers that raised


def _one_line(exc):
    # microdot prints a whole traceback for each malformed request; on the chip that goes to
    # the serial console and holds the loop. One line (and a count) is enough.
    Errors.count += 1
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


async def _readline_noting_head_end(stream):
    line = await _readline(stream)
    if line in (b"\r\n", b"\n", b""):
        stream.head_read = True
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


def make_app(rt, sv):
    """The API app over the router `rt` and the services `sv`."""
    app = Microdot()
    Request.max_content_length = 1024      # no request of this API has a body
    Request.max_body_length = 1024
    Request.max_readline = 2048            # a URL with a whole configuration fits
    view = View(rt, sv.mv_per_lsb)
    clock_text = sv.clock_text

    def ok(body=OK):
        return body, 200, TEXT

    def fail(body, status=400):
        return body, status, TEXT

    def state(mode, auto):
        return "STOP" if mode == STOP else ("FORCE" if mode == FORCE else auto)

    def ssr_state():
        st = rt.sum.status
        return state(rt.ctrl.ssr_mode, "MAX" if st & 2 else ("ON" if st & 1 else "OFF"))

    def relay_state():
        return state(rt.relay.mode, "ON" if rt.sum.relay_on else "OFF")

    def ping():
        at = rt.sum.at
        fresh = at is not None and rt.board.seconds() - at <= PING_STALE_S
        return "running" if fresh and rt.sync.locked else "offline"

    @app.get("/api/get")
    async def api_get(req):
        a = req.args
        if "param" in a:
            n = _number(a["param"], P.COUNT)
            if n is None:
                return fail("Unknown request: param must be 01..%02d" % P.COUNT)
            return ok(rt.params.text(n))
        if "data" in a:
            n = _number(a["data"], data.COUNT)
            if n is None:
                return fail("Unknown request: data must be 01..%02d" % data.COUNT)
            return ok(data.value(view, n))
        if "configmaxpv" in a:
            return sv.config.to_json(), 200, {"Content-Type": "application/json"}
        if "allparam" in a:
            return ok(rt.params.all_text())
        if "alldata" in a:
            body = data.alldata(view, "extended" in a)
            if "states" in a:
                # the web UI's whole second in one request (the original's page made five)
                body = ",".join((body, ssr_state(), relay_state(), ping(), clock_text()))
            return ok(body)
        if "version" in a or "versionweb" in a:
            return ok(VERSION)
        if "versionmaxpv" in a:
            return ok(API_VERSION)
        if "relaystate" in a:
            return ok(relay_state())
        if "ssrstate" in a:
            return ok(ssr_state())
        if "ping" in a:
            return ok(ping())
        if "time" in a:
            return ok(clock_text())
        return fail("Unknown request: /api/get takes data=NN, alldata, param=NN, allparam, "
                    "configmaxpv, version, versionmaxpv, versionweb, relaystate, ssrstate, "
                    "ping or time")

    def guard(req):
        """None if a state-changing request may go on, else the refusal."""
        if not _same_origin(req):
            return fail("Forbidden: cross-site request refused", 403)
        if not sv.admin.check(req.headers.get("Authorization")):
            hdrs = {"Content-Type": "text/plain; charset=utf-8"}
            # The web UI asks for the password in its own dialog: a Basic challenge would make
            # the browser open its login box instead and hold the request.
            if "X-Requested-With" not in req.headers:
                hdrs["WWW-Authenticate"] = 'Basic realm="MaxPV"'
            return "Unauthorized: this router has an admin password (user 'admin')", 401, hdrs
        return None

    @app.get("/api/set")
    async def api_set(req):
        refused = guard(req)
        if refused:
            return refused
        a = req.args
        value = a.get("value")
        if "param" in a:
            n = _number(a["param"], P.COUNT)
            if n is None:
                return fail("Bad request: param must be 01..%02d" % P.COUNT)
            if value is None:
                return fail("Bad request: value is missing")
            try:
                rt.params.set(n, value)
            except ParamError as e:
                return fail("Bad request: %s" % e)
            return ok()
        for key, setter in (("relaymode", rt.set_relay_mode), ("ssrmode", rt.set_ssr_mode)):
            if key in a:
                mode = MODE_WORDS.get((value or "").strip())
                if mode is None:
                    return fail("Bad request: %s value must be stop, force or auto" % key)
                setter(mode)
                return ok()
        if "configmaxpv" in a:
            if value is None:
                return fail("Bad request: value is missing")
            try:
                later = sv.config.update(value)
            except ConfigError as e:
                return fail("Bad request: %s" % e)
            if later:
                return ok(OK + " (applied at the next reboot: %s)" % ", ".join(later))
            return ok()
        if "adminpass" in a:
            if value is None:
                return fail("Bad request: value is missing (empty to remove the password)")
            try:
                sv.admin.set(value)
            except ValueError as e:
                return fail("Bad request: %s" % e)
            return ok()
        return fail("Bad request or request unknown: /api/set takes param=NN&value=V, "
                    "relaymode&value=M, ssrmode&value=M, configmaxpv&value=JSON or "
                    "adminpass&value=P")

    @app.get("/api/action")
    async def api_action(req):
        refused = guard(req)
        if refused:
            return refused
        a = req.args
        if "restart" in a:
            rt.restart()
        elif "resetindex" in a:
            rt.reset_energy()
        elif "saveindex" in a:
            rt.save_energy()
        elif "saveparam" in a:
            rt.params.save()
        elif "loadparam" in a or "loaddparam" in a:
            if not rt.params.load():
                return fail("Bad request: no saved parameters to load", 409)
        elif "format" in a:
            rt.params.format()
        elif "eraseconfigesp" in a:
            sv.config.erase()
        elif "rebootesp" in a:
            sv.reboot()
        else:
            return fail("Unknown request: /api/action takes restart, resetindex, saveindex, "
                        "saveparam, loadparam, format, eraseconfigesp or rebootesp")
        return ok()

    @app.get("/api/history")
    async def api_history(req):
        a = req.args
        if "power" in a:
            return sv.history.power_csv(), 200, {"Content-Type": "text/csv; charset=utf-8"}
        if "relay" in a:
            return sv.history.relay_csv(), 200, {"Content-Type": "text/csv; charset=utf-8"}
        return fail("Unknown request: /api/history takes power or relay")

    @app.errorhandler(404)
    async def not_found(req):
        return fail("Not found: %s" % req.path, 404)

    return app
