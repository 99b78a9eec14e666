"""The built-in web UI: the gzipped files that tools/web.py builds into the image's `www/`.

Only the files found in that folder at boot are served, by exact name (no path from the
request ever reaches `open`). index.html is never cached, so a new image shows at once; the
other files carry a hash of their content in their name and are cached for a year.

The original's page names still lead somewhere: each redirects to the matching view of the
single-page UI, and /DLconfig downloads the configuration as the original's did.
"""
import os

INDEX = "index.html"
YEAR_S = 31536000
TYPES = {"html": "text/html; charset=utf-8", "js": "text/javascript; charset=utf-8",
         "css": "text/css; charset=utf-8", "svg": "image/svg+xml", "png": "image/png",
         "ico": "image/x-icon", "json": "application/json"}
# the original MaxPV! pages -> our views
OLD_PAGES = {"main.html": "/", "index.html": "/", "graph.html": "/#charts",
             "wizard.html": "/#wizard", "configuration.html": "/#params",
             "admin.html": "/#admin", "credits.html": "/#admin", "maj.html": "/#admin"}
MISSING = ("The web UI is not in this image (no %s/index.html.gz). Build it with "
           "'python3 tools/web.py' (make sim does) or flash a full image; the API is at /api/.")


def _listing(www):
    try:
        return {n[:-3] for n in os.listdir(www) if n.endswith(".gz")}
    except OSError:
        return set()


def register(app, www, config):
    from api.http import redirect, send_file
    files = _listing(www)

    def send(name):
        ext = name.rsplit(".", 1)[-1]
        r = send_file("%s/%s.gz" % (www, name), TYPES.get(ext, "application/octet-stream"),
                      gzip=True, max_age=0 if name == INDEX else YEAR_S)
        if name == INDEX:
            r.headers["Cache-Control"] = "no-cache"
        return r

    @app.get("/")
    async def home(req):
        if INDEX not in files:
            return MISSING % www, 200, {"Content-Type": "text/plain; charset=utf-8"}
        return send(INDEX)

    @app.get("/DLconfig")
    async def download_config(req):
        return config.to_json(), 200, {"Content-Type": "application/json",
                                       "Content-Disposition": 'attachment; filename="config.json"'}

    @app.get("/<name>")
    async def asset(req, name):
        if name in OLD_PAGES:
            return redirect(OLD_PAGES[name])
        if name not in files or name == INDEX:
            return "Not found: /%s" % name, 404, {"Content-Type": "text/plain; charset=utf-8"}
        return send(name)
