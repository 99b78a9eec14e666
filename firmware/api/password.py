"""The admin password's check for api/guard.py, with the slow-down of wrong guesses
(records/guesses.py): a module loaded only once a password is set."""
import time
from api.endpoints import TEXT
from api.guard import client_ip
from records.guesses import Guesses


def refusal(admin, req):
    """None if the request carries the password, else the 401 or 429."""
    auth = req.headers.get("Authorization")
    ip = client_ip(req.client_addr)
    now = time.ticks_ms()
    if admin.guesses is None:
        admin.guesses = Guesses()
    wait = admin.guesses.wait_ms(ip, now)
    if wait:
        s = (wait + 999) // 1000
        hdrs = dict(TEXT)
        hdrs["Retry-After"] = str(s)
        return ("Too many requests: too many wrong admin passwords from %s; try again in %d s"
                % (ip, s), 429, hdrs)
    if admin.check(auth):
        admin.guesses.right(ip)
        return None
    if auth:                  # a request without any password is not a guess
        admin.guesses.wrong(ip, now)
    hdrs = dict(TEXT)
    # The web UI asks for the password in its own dialog: a Basic challenge would make
    # the browser open its login box instead and hold the request.
    if "X-Requested-With" not in req.headers:
        hdrs["WWW-Authenticate"] = 'Basic realm="MaxPV"'
    return "Unauthorized: this router has an admin password (user 'admin')", 401, hdrs
