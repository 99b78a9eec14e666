"""The captive portal's HTTP side: while the setup access point is open, a phone's
"is there internet?" probe, or any request for a name that is not the router's (the captive
DNS responder sends every name here), is redirected to the setup page. A 302 to a page is
what makes Android, iOS, Windows and Firefox show their "sign in to the network" prompt.
While the AP is closed nothing changes: the probes are then unknown paths (404).
"""
from microdot import redirect

PROBES = (
    "/generate_204", "/gen_204",                            # Android, ChromeOS
    "/hotspot-detect.html", "/library/test/success.html",   # Apple
    "/connecttest.txt", "/ncsi.txt", "/redirect",           # Windows
    "/canonical.html", "/success.txt",                      # Firefox
)
SETUP = "/#setup"


def register(app, wifi, port):
    suffix = "" if port == 80 else ":%d" % port

    def ours(host):
        name = host.rsplit(":", 1)[0].lower()
        st = wifi.state()
        return name in (wifi.radio.AP_IP, st["ip"], st["hostname"], st["hostname"] + ".local",
                        "localhost")

    @app.before_request
    async def captive(req):
        if not wifi.ap_open:
            return None
        if req.path in PROBES or not ours(req.headers.get("Host", "")):
            return redirect("http://%s%s%s" % (wifi.radio.AP_IP, suffix, SETUP))
        return None
