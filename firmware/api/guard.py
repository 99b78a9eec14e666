"""Who may change the router over HTTP: the checks a state-changing request (/api/set,
/api/action) passes before its handler runs. Reads stay open, as on the original."""
from api.endpoints import TEXT, fail
from records.admin import LOCKED


def _same_origin(req):
    """False for what a browser marks as coming from another site."""
    site = req.headers.get("Sec-Fetch-Site")
    if site is not None and site not in ("same-origin", "none"):
        return False
    origin = req.headers.get("Origin")
    return origin is None or origin.split("://", 1)[-1] == req.headers.get("Host", "")


def refusal(backend, req):
    """None if a state-changing request may go on, else the refusal."""
    admin = backend.admin
    if not _same_origin(req):
        return fail("Forbidden: cross-site request refused", 403)
    if admin.locked:
        return fail(LOCKED, 403)
    if not admin.check(req.headers.get("Authorization")):
        hdrs = dict(TEXT)
        # The web UI asks for the password in its own dialog: a Basic challenge would make
        # the browser open its login box instead and hold the request.
        if "X-Requested-With" not in req.headers:
            hdrs["WWW-Authenticate"] = 'Basic realm="MaxPV"'
        return "Unauthorized: this router has an admin password (user 'admin')", 401, hdrs
    return None
