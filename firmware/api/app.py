"""The MaxPV! v3.1 HTTP API: /api/get, /api/set, /api/action, /api/history,
served from the endpoint table of api/endpoints.py.

Bodies are plain text exactly as the original formats them (api/data.py), so existing
clients keep working. Unlike the original, a request that cannot be served gets a 4xx status
and a body that starts with the original words ("Unknown request", "Bad request") and then
says what is wrong; such a request changes nothing.

POST goes only to the paths of endpoints.POSTS (an update's upload, guarded by its
handler). Protection the original lacked: the paths that change something (/api/set,
/api/action) are guarded by api/guard.py (the admin password with its slow-down, the Host check against
DNS rebinding, cross-site Origin/Referer; reads stay open); connections are bounded in
number, size and time by api/server.py.
"""
from api.server import Server
from api.endpoints import PATHS, POSTS, fail, serve
from api.guard import refusal


def make_app(backend):
    """The API app over an endpoints.Backend (the router's interface and the records)."""
    app = Server()
    app.backend = backend
    guarded = [p for p, _, changes in PATHS if changes]

    @app.before_request
    async def guard(req):
        if req.path in guarded:
            if req.method != "GET":
                # HEAD is served by the GET handler: a HEAD must not change anything
                return fail("Method not allowed: %s changes only with GET" % req.path, 405)
            return refusal(backend, req)

    def route(path):
        async def handler(req):
            return serve(backend, path, req.args)
        app.get(path)(handler)

    for p, _, _ in PATHS:
        route(p)

    def post(path, handler):
        async def posted(req):
            return await handler(backend, req)
        app.post(path)(posted)

    for p, _, _, h in POSTS:
        post(p, h)

    @app.errorhandler(404)
    async def not_found(req):
        return fail("Not found: %s" % req.path, 404)

    return app
