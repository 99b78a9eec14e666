"""Who may change the router over HTTP: the checks a state-changing request (/api/set,
/api/action) passes before its handler runs. Reads stay open, as on the original.

- Host must be one of the router's names (`ours`): a page of another site that has its own
  name resolve to the router (DNS rebinding) still sends its own name as Host.
- Nothing a browser says of another site: Sec-Fetch-Site, Origin, Referer.
- The admin password, if one is set, with wrong guesses slowed per client address
  (api/password.py, records/guesses.py): answered 429 at once, never by holding the connection (the
  ESP32 has ~10 sockets).
A client that sends none of these headers (curl, MaxPV!'s clients, Home Assistant) passes
the browser checks: they stop pages in a browser, not a program on the LAN.
"""
from api.endpoints import fail
from records.admin import LOCKED

LOCAL = ("127.0.0.1", "localhost")          # a board without a radio: the computer's loopback


def client_ip(addr):
    """The client's IPv4 address as text: the ESP32 port gives (ip, port), the unix port a
    raw sockaddr_in (family, port, then the four address bytes)."""
    if isinstance(addr, tuple):
        return str(addr[0])
    if isinstance(addr, (bytes, bytearray)) and len(addr) >= 8:
        return "%d.%d.%d.%d" % (addr[4], addr[5], addr[6], addr[7])
    return ""


def _name(host):
    """A Host header's (or URL authority's) name: lower case, without port or final dot."""
    host = host.lower()
    if host.startswith("["):                  # [v6]:port
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0].rstrip(".")


def _extra(names):
    """The configuration's http_names as a list of names."""
    return [_name(n.strip()) for n in names.split(",")] if names else ()


def ours(host, wifi, names=""):
    """True if `host` (a Host header) names this router: its addresses, its hostname with or
    without .local, the setup access point's address, localhost, or one of `names` (the
    http_names key: the owner's own DNS names or reverse proxy)."""
    name = _name(host)
    if wifi is None:
        known = LOCAL
    else:
        st = wifi.state()
        h = (st["hostname"] or "").lower()
        known = (wifi.radio.AP_IP, st["ip"], h, h + ".local", "localhost")
    return bool(name) and (name in known or name in _extra(names))


def _site(url):
    """The authority (host[:port]) of an absolute URL, lower case."""
    return url.split("://", 1)[-1].split("/", 1)[0].lower()


def _same_origin(req, names=""):
    """False for what a browser marks as coming from another site."""
    site = req.headers.get("Sec-Fetch-Site")
    if site is not None and site not in ("same-origin", "none"):
        return False
    host = req.headers.get("Host", "").lower()
    for h in ("Origin", "Referer"):
        url = req.headers.get(h)
        # a name of the owner's reverse proxy may come with a Host the proxy rewrote
        if url is not None and _site(url) != host and _name(_site(url)) not in _extra(names):
            return False
    return True


def refusal(backend, req):
    """None if a state-changing request may go on, else the refusal."""
    admin = backend.admin
    names = backend.config.get("http_names")
    host = req.headers.get("Host")
    # no Host at all is an HTTP/1.0 program, never a browser (which rebinding needs)
    if host is not None and not ours(host, backend.wifi, names):
        return fail("Forbidden: '%s' is not a name of this router (a page of another site "
                    "could use it): changes are refused. Use its address or NAME.local, or "
                    "add the name to the configuration key http_names" % host[:64], 403)
    if not _same_origin(req, names):
        return fail("Forbidden: cross-site request refused", 403)
    if admin.locked:
        return fail(LOCKED, 403)
    if admin.rec is None:
        return None
    from api.password import refusal as checked     # a board without a password never loads it
    return checked(admin, req)
