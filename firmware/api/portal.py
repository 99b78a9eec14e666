"""The captive portal's HTTP side: while the setup access point is open, a phone's
"is there internet?" probe, or any request for a name that is not the router's (the captive
DNS responder sends every name here), is redirected to the setup page. A 302 to a page is
what makes Android, iOS, Windows and Firefox show their "sign in to the network" prompt.
While the AP is closed nothing changes: the probes are then unknown paths (404).
"""
from api.http import redirect
from api.guard import client_ip, ours

PROBES = (
    "/generate_204", "/gen_204",                            # Android, ChromeOS
    "/hotspot-detect.html", "/library/test/success.html",   # Apple
    "/connecttest.txt", "/ncsi.txt", "/redirect",           # Windows
    "/canonical.html", "/success.txt",                      # Firefox
)
SETUP = "/#setup"


def register(app, wifi, port):
    """After api/app.py's make_app (whose 404 handler it wraps)."""
    suffix = "" if port == 80 else ":%d" % port

    ap_net = wifi.radio.AP_IP.rsplit(".", 1)[0] + "."

    def portal(req):
        """The redirect to the setup page, or None when the request is the router's. A
        foreign Host is redirected only for a client of the access point (its /24): the
        captive DNS sent it; a client on the home network may use any name for the router."""
        if not wifi.ap_open:
            return None
        if req.path in PROBES or (
                not ours(req.headers.get("Host", ""), wifi, wifi.config.get("http_names"))
                and client_ip(req.client_addr).startswith(ap_net)):
            return redirect("http://%s%s%s" % (wifi.radio.AP_IP, suffix, SETUP))
        return None

    @app.before_request
    async def captive(req):
        return portal(req)

    # the before-request hooks run only for a path that has a route: the others
    # (/library/test/success.html...) reach the 404 handler, which must redirect as well
    not_found = app.error_handlers[404]

    async def captive_or_not_found(req):
        return portal(req) or await not_found(req)

    app.error_handlers[404] = captive_or_not_found
