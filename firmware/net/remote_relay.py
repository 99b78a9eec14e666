"""The remote relay mirror: the secondary relay's state (the router's `state.relay_on`)
copied to another device by an HTTP GET of http://remoterelay_ip:remoterelay_port followed
by `remoterelay_on` when the relay is on and `remoterelay_off` when it is off (a Shelly, a
Tasmota, another router's relay...). docs/remote_relay.md says it for owners.

Imported only once remoterelay_active is on (main.py's `_service`): a board that does not
mirror its relay does not hold this code.

Why our own client: MicroPython's frozen `urequests`/`requests` block; micropython-lib's
asyncio `aiohttp` opens its socket with `asyncio.open_connection` (a time-out that cancels
it loses the socket), has no time-out of its own and reads every header line whole into a
dict: a long answer is a long allocation, as on the original. What we need is one GET and
its status line: a few lines over the asyncio stream that net/mqtt.py already uses.

Better than the original MaxPV! (which sent each change once, with a blocking client that
read the whole answer):
- the request is sent at start and whenever the state to mirror differs from the one the
  device last acknowledged (a 2xx status). An attempt that fails leaves the device's state
  unknown (it may have acted before the answer was lost), so the mirror tries again until
  one is acknowledged, after RETRY_S doubling to RETRY_MAX_S. Each attempt carries the
  router's state of its own time: nothing is queued, a state the relay has left is never
  sent late.
- the settings are live: compared every TICK_MS; a change of address, port or path sends
  the current state there at once (the back-off starts again); remoterelay_active at 0
  leaves the task idle, reporting "off".
- one request at a time on a non-blocking socket (the address is an IPv4 literal: no DNS),
  the whole exchange bounded by TIMEOUT_MS; only the status line matters and at most
  ANSWER_MAX bytes of the answer are read, into a buffer kept for it; the socket is closed
  after each exchange (MicroPython's Stream.close() does not close it).
- the last error in words: connection refused, timed out connecting, HTTP 500...
Times are the wall's (time.ticks_ms): they face another device, not the router's second.
"""
import asyncio
import errno
import socket
import time

KEYS = ("remoterelay_active", "remoterelay_ip", "remoterelay_port", "remoterelay_on",
        "remoterelay_off")
(ACTIVE, IP, PORT, ON, OFF) = range(5)
TICK_MS = 100             # settings and relay state compared this often
TIMEOUT_MS = 5000         # one exchange, connection to status line
RETRY_S = 5
RETRY_MAX_S = 60
ANSWER_MAX = 64           # bytes of the answer read: "HTTP/1.1 200 OK\r\n" and some room

# by name: the numbers differ between the unix port and the chip (ESP-IDF's newlib)
WORDS = {errno.ECONNREFUSED: "connection refused", errno.ECONNRESET: "connection reset",
         errno.ECONNABORTED: "connection aborted", errno.EHOSTUNREACH: "no route to host",
         errno.ETIMEDOUT: "timed out", errno.ENOTCONN: "not connected"}


def request(ip, port, path):
    """The GET of `path` as bytes. Bytes outside printable ASCII are percent-encoded (the
    configuration refuses control characters and spaces already: nothing can end the
    request line or add a header)."""
    p = "".join(c if " " < c < "\x7f" else "".join("%%%02X" % b for b in c.encode())
                for c in path)
    return ("GET %s HTTP/1.0\r\nHost: %s:%d\r\nConnection: close\r\n\r\n"
            % (p, ip, port)).encode()


def status_of(head):
    """The status code in the first bytes of an answer, or None when they are not an HTTP
    status line ("HTTP/1.x NNN ...")."""
    parts = bytes(head).split(b"\n", 1)[0].split()
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/") or len(parts[1]) != 3 \
            or not parts[1].isdigit():
        return None
    return int(parts[1])


class RemoteRelay:
    """The mirror of the firmware `fw` (main.Firmware: its router `rt`, `config` and `wifi`,
    None on the simulated board on the host's network)."""

    def __init__(self, fw):
        self.rt = fw.rt
        self.config = fw.config
        self.wifi = fw.wifi
        self.status = "off"
        self.error = None
        self.relay_on = fw.rt.state.relay_on   # the state of the last attempt
        self.sent = 0                          # requests
        self.acknowledged = 0                  # requests answered 2xx
        self.retry_at = None                   # ticks_ms of the next attempt while waiting
        self._done = None                      # the settings of the last acknowledgement
        self._done_on = False                  # and the state it acknowledged
        self._sock = None
        self._buf = bytearray(ANSWER_MAX)
        self._phase = ""

    def state(self):
        """The mirror as a dict (the API's `remoterelay`, the administration page's)."""
        s = self._settings()
        if not s[ACTIVE]:
            return {"state": "off", "target": "http://%s:%d" % (s[IP], s[PORT]),
                    "relay_on": self.rt.state.relay_on, "last_error": None, "retry_in": None,
                    "sent": self.sent, "acknowledged": self.acknowledged}
        wait = None
        if self.retry_at is not None:
            wait = (max(0, time.ticks_diff(self.retry_at, time.ticks_ms())) + 999) // 1000
        return {"state": self.status, "target": "http://%s:%d" % (s[IP], s[PORT]),
                "relay_on": self.relay_on, "last_error": self.error, "retry_in": wait,
                "sent": self.sent, "acknowledged": self.acknowledged}

    def _settings(self):
        g = self.config.get
        return tuple(g(k) for k in KEYS)

    async def _wait(self, s, ms):
        """Until the settings differ from `s` (-> True) or `ms` have passed (-> False)."""
        self.retry_at = time.ticks_add(time.ticks_ms(), ms)
        try:
            while time.ticks_diff(self.retry_at, time.ticks_ms()) > 0:
                await asyncio.sleep_ms(TICK_MS)
                if self._settings() != s:
                    return True
            return False
        finally:
            self.retry_at = None

    async def run(self):
        retry = RETRY_S
        while True:
            s = self._settings()
            on = self.rt.state.relay_on
            if not s[ACTIVE]:
                self.status = "off"
                self.error = None
                self._done = None          # switched on again: the current state is sent
                retry = RETRY_S
                await asyncio.sleep_ms(TICK_MS)
            elif self._done == s and self._done_on == on:
                await asyncio.sleep_ms(TICK_MS)
            elif self.wifi and not self.wifi.joined:
                self.status = "retrying"
                self.error = "not on the network yet"
                await self._wait(s, 1000)
            elif await self._attempt(s, on):
                retry = RETRY_S
            elif await self._wait(s, retry * 1000):
                retry = RETRY_S            # new settings: tried at once, from the start
            else:
                retry = min(retry * 2, RETRY_MAX_S)

    async def _attempt(self, s, on):
        """One request for `on`; True when acknowledged."""
        self._done = None                  # unknown until acknowledged
        self.relay_on = on
        self.status = "sending"
        self.sent += 1
        try:
            err = await asyncio.wait_for_ms(self._exchange(s, on), TIMEOUT_MS)
        except asyncio.TimeoutError:
            err = "timed out %s (%d s)" % (self._phase, TIMEOUT_MS // 1000)
        except OSError as e:
            code = e.args[0] if e.args else 0
            err = WORDS.get(code) or "network error %s" % code
        except Exception as e:             # a bug or a full heap: reported and retried
            err = "%s: %s" % (type(e).__name__, e)
        finally:
            self._close()
        if err:
            if err != self.error or self.status != "retrying":
                print("remoterelay: %s %s: %s" % (s[IP], "on" if on else "off", err))
            self.status = "retrying"
            self.error = err
            return False
        if self.error:
            print("remoterelay: %s acknowledged" % s[IP])
        self.status = "acknowledged"
        self.error = None
        self._done = s
        self._done_on = on
        self.acknowledged += 1
        return True

    async def _exchange(self, s, on):
        """The GET and its status line: None when answered 2xx, else the error in words."""
        self._phase = "connecting"
        sock = self._sock = socket.socket()
        sock.setblocking(False)
        try:
            sock.connect(socket.getaddrinfo(s[IP], s[PORT])[0][-1])   # numeric: no lookup
        except OSError as e:
            if e.args[0] != errno.EINPROGRESS:
                raise
        # (MicroPython's StreamReader is its one Stream class, which writes too: the stub's
        # StreamReader only reads)
        stream = asyncio.StreamReader(sock)
        stream.write(request(s[IP], s[PORT], s[ON] if on else s[OFF]))  # pyright: ignore[reportAttributeAccessIssue]
        await stream.drain()  # pyright: ignore[reportAttributeAccessIssue] (writable once connected)
        self._phase = "waiting for the answer"
        buf = self._buf
        mv = memoryview(buf)
        got = 0
        while got < ANSWER_MAX:
            n = await stream.readinto(mv[got:])
            if not n:
                break
            got += n
            if buf.find(b"\n", got - n, got) >= 0:
                break
        if not got:
            return "closed without an answer"
        code = status_of(mv[:got])
        if code is None:
            return "not an HTTP answer"
        return None if 200 <= code < 300 else "HTTP %d" % code

    def _close(self):
        sock = self._sock
        self._sock = None
        if sock is not None:
            try:
                sock.close()
            except OSError:
                pass
