"""A small asyncio MQTT 3.1.1 client: the part of the protocol the router uses, written so
that nothing in it can hold the router loop.

Why our own: the registry's asyncio clients for MicroPython did not fit (docs/mqtt.md,
"The client"): `micropython-mqtt` 0.7b4 is a 2020 upip package that pip cannot install, and
another client than its name says; `aiomqttc` and `chumicro-mqtt` were run under the unix
port against mosquitto and fell short on the board's rules (see that page for what each
did). The frozen `umqtt.simple` connects and publishes with blocking sockets.

What it does: CONNECT with a last will, user and password, clean session, keep-alive;
PUBLISH at QoS 0 (the router's telemetry: a lost value is replaced by the next one, so
nothing is queued); SUBSCRIBE at QoS 1, so that a command sent at QoS 1 arrives at least
once (it is acknowledged with PUBACK); PINGREQ. No QoS 2, no persistent session.

The rules that keep the loop free:
- the socket is a non-blocking asyncio stream; the broker is given as an IPv4 address
  (names are resolved beforehand by our own DNS query: `socket.getaddrinfo` blocks the
  interpreter for as long as the DNS server takes); the connection and then the CONNACK are
  each bounded by CONNECT_TIMEOUT_MS;
- one write at a time (asyncio streams allow one waiting writer per socket), each bounded by
  WRITE_TIMEOUT_MS: a broker that stops reading is dropped, not waited for;
- a received packet is at most MAX_PACKET bytes in memory: a longer one is read in
  small pieces and thrown away, and acknowledged at QoS 1 (a retained megabyte of garbage on
  a command topic must not exhaust a heap of ~110 kB, nor make the link reconnect for ever,
  nor hold one of the broker's 20 in-flight slots).
A write that the socket takes at once does not yield: the caller yields between messages
(net/mqtt_link.py).
"""
import asyncio
import errno
import socket
import time

CONNECT_TIMEOUT_MS = 5000
WRITE_TIMEOUT_MS = 5000
MAX_PACKET = 600          # the largest packet kept: a command topic and a short payload
DISCARD_CHUNK = 128

CONNECT = 0x10
CONNACK = 0x20
PUBLISH = 0x30
PUBACK = 0x40
SUBSCRIBE = 0x82
SUBACK = 0x90
PINGREQ = b"\xc0\x00"
PINGRESP = 0xD0
DISCONNECT = b"\xe0\x00"

# CONNACK return codes: 4 and 5 are the owner's to fix (the credentials)
REFUSALS = {1: "protocol version refused", 2: "client identifier refused",
            3: "broker unavailable", 4: "bad user name or password", 5: "not authorised"}


class MqttError(Exception):
    """The connection failed or ended. `refused`: the broker answered and said no (the
    credentials, usually); otherwise it could not be reached or stopped answering."""

    def __init__(self, text, refused=False):
        super().__init__(text)
        self.refused = refused


def _length(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | 0x80 if n else b)
        if not n:
            return out


def _text(s):
    b = s.encode() if isinstance(s, str) else s
    return len(b).to_bytes(2, "big") + b


def _packet(first, body):
    return bytes((first,)) + _length(len(body)) + body


def connect_packet(client_id, keepalive_s, will=None, user="", password=""):
    """will: (topic, payload, retain) published by the broker if we vanish."""
    flags = 0x02                                   # clean session
    payload = _text(client_id)
    if will:
        flags |= 0x04 | (0x20 if will[2] else 0)   # QoS 0 will
        payload += _text(will[0]) + _text(will[1])
    if user:
        flags |= 0x80
        payload += _text(user)
        if password:
            flags |= 0x40
            payload += _text(password)
    head = _text("MQTT") + bytes((4, flags)) + keepalive_s.to_bytes(2, "big")
    return _packet(CONNECT, head + payload)


def publish_packet(topic, payload, retain):
    return _packet(PUBLISH | (1 if retain else 0), _text(topic) + (
        payload.encode() if isinstance(payload, str) else payload))


def subscribe_packet(pid, topics):
    body = pid.to_bytes(2, "big")
    for t in topics:
        body += _text(t) + b"\x01"                 # QoS 1
    return _packet(SUBSCRIBE, body)


def parse_publish(first, body):
    """(topic or None when it is not UTF-8, payload bytes, packet id or 0) of a PUBLISH
    body; None if it is malformed beyond reading its packet id."""
    if len(body) < 2:
        return None
    n = body[0] << 8 | body[1]
    i = 2 + n
    qos = (first >> 1) & 3
    if i > len(body) or qos == 3:
        return None
    pid = 0
    if qos:
        if i + 2 > len(body):
            return None
        pid = body[i] << 8 | body[i + 1]
        i += 2
    try:
        topic = body[2:2 + n].decode()
    except UnicodeError:
        topic = None
    return topic, body[i:], pid


class Client:
    """One connection to a broker. connect() then receive() in one task, publish()/ping()
    from another; after an MqttError (or close()) make a new Client."""

    def __init__(self, client_id, keepalive_s):
        self.client_id = client_id
        self.keepalive_s = keepalive_s
        self.sock = None
        self.stream = None
        self.sending = False
        self.pid = 0
        self.last_received = 0      # time.ticks_ms() of the last packet received
        self.dropped = 0            # messages too long to keep

    async def connect(self, ip, port, will=None, user="", password=""):
        """ip: an IPv4 address (never a name: resolving one here would block)."""
        try:
            # Our own socket rather than asyncio.open_connection(): a connect that times out
            # must close it (open_connection's socket is lost when its task is cancelled).
            s = self.sock = socket.socket()
            s.setblocking(False)
            try:
                s.connect(socket.getaddrinfo(ip, port)[0][-1])   # numeric: no lookup
            except OSError as e:
                if e.errno != errno.EINPROGRESS:
                    raise
            self.stream = asyncio.StreamReader(s)
            # writable once connected: the CONNECT goes out then, within the time-out
            await self._write(connect_packet(self.client_id, self.keepalive_s, will, user,
                                             password), CONNECT_TIMEOUT_MS)
            first, body, _ = await asyncio.wait_for_ms(self._read(), CONNECT_TIMEOUT_MS)
        except asyncio.TimeoutError:
            self.close()
            raise MqttError("no answer from %s:%d" % (ip, port))
        except (OSError, EOFError) as e:
            self.close()
            raise MqttError("cannot reach %s:%d (%s)" % (ip, port, _errno(e)))
        except BaseException:
            self.close()
            raise
        if first & 0xF0 != CONNACK or body is None or len(body) != 2:
            self.close()
            raise MqttError("%s:%d is not an MQTT broker" % (ip, port))
        if body[1]:
            self.close()
            raise MqttError(REFUSALS.get(body[1], "refused (%d)" % body[1]), refused=True)

    async def _write(self, data, timeout_ms):
        s = self.stream
        # (MicroPython's StreamReader is its one Stream class, which writes too: the stub's
        # StreamReader only reads)
        s.write(data)  # pyright: ignore[reportAttributeAccessIssue]
        # Stream.write() sends at once what the socket takes; only a rest waits for drain()
        # (whose time-out costs a task: not one per message)
        if s.out_buf:  # pyright: ignore[reportAttributeAccessIssue]
            await asyncio.wait_for_ms(s.drain(), timeout_ms)  # pyright: ignore[reportAttributeAccessIssue]

    async def _send(self, data):
        # One writer at a time; a second one waits here, bounded like the first.
        while self.sending:
            await asyncio.sleep_ms(5)
        if self.stream is None:         # closed meanwhile
            raise MqttError("connection lost")
        self.sending = True
        try:
            await self._write(data, WRITE_TIMEOUT_MS)
        except asyncio.TimeoutError:
            self.close()
            raise MqttError("the broker stopped reading")
        except OSError as e:
            self.close()
            raise MqttError("connection lost (%s)" % _errno(e))
        finally:
            self.sending = False

    async def publish(self, topic, payload, retain=True):
        await self._send(publish_packet(topic, payload, retain))

    async def subscribe(self, topics):
        self.pid = self.pid % 0xFFFF + 1
        await self._send(subscribe_packet(self.pid, topics))

    async def ping(self):
        await self._send(PINGREQ)

    async def disconnect(self):
        """A clean goodbye: the broker does not publish the will. Nothing else may be
        reading (the caller's receive() is cancelled first): the broker is given up to 1 s to
        close its side, so that it has read all we sent before a new connection with our
        client id takes this one over (a take-over drops what it had not read yet)."""
        try:
            await self._send(DISCONNECT)
            await asyncio.wait_for_ms(self._until_closed(), 1000)
        except (MqttError, asyncio.TimeoutError, OSError, EOFError):
            pass
        self.close()

    async def _until_closed(self):
        while self.stream and await self.stream.read(64):
            pass

    async def receive(self):
        """The next message for us, (topic, payload bytes, retained), answering what needs an
        answer on the way (PUBACK, also for what is dropped). MqttError when the connection
        ends, the broker refuses a subscription, or nothing has come for 1.5 keep-alive
        periods (the caller pings when nothing has come for half of one)."""
        while True:
            try:
                first, body, pid = await asyncio.wait_for_ms(self._read(),
                                                             self.keepalive_s * 1500)
            except asyncio.TimeoutError:
                self.close()
                raise MqttError("the broker stopped answering")
            except (OSError, EOFError) as e:
                self.close()
                raise MqttError("connection lost (%s)" % _errno(e))
            kind = first & 0xF0
            if kind == SUBACK and body and 0x80 in body[2:]:
                self.close()
                raise MqttError("the broker refused a subscription (its access list)",
                                refused=True)
            if kind != PUBLISH:
                continue
            msg = parse_publish(first, body) if body is not None else None
            if msg is not None:
                pid = msg[2]
            if pid:
                await self._send(bytes((PUBACK, 2)) + pid.to_bytes(2, "big"))
            if msg is None:
                self.dropped += 1
            elif msg[0] is not None:
                return msg[0], msg[1], bool(first & 1)

    async def _read(self):
        """(first byte, body, packet id) of the next packet. A packet longer than MAX_PACKET
        is read in DISCARD_CHUNK pieces and thrown away: body None, and for a PUBLISH at
        QoS 1 its packet id (it must be acknowledged all the same), else 0."""
        s = self.stream
        if s is None:
            raise OSError(107)                      # ENOTCONN
        head = await s.read(1)
        if not head:
            raise OSError(104)                      # ECONNRESET: the broker closed
        n = 0
        shift = 0
        while True:
            b = await s.readexactly(1)
            n |= (b[0] & 0x7F) << shift
            if not b[0] & 0x80:
                break
            shift += 7
            if shift > 21:
                raise OSError(71)                   # EPROTO: a length over 4 bytes
        first = head[0]
        if n <= MAX_PACKET:
            body = await s.readexactly(n) if n else b""
            self.last_received = time.ticks_ms()
            return first, body, 0
        pid = 0
        if first & 0xF0 == PUBLISH and (first >> 1) & 3 == 1:
            t = await s.readexactly(2)
            skip = t[0] << 8 | t[1]
            await self._skip(skip)
            pid = int.from_bytes(await s.readexactly(2), "big")
            n -= 4 + skip
        await self._skip(n)
        self.last_received = time.ticks_ms()
        return first, None, pid

    async def _skip(self, n):
        while n > 0:
            got = await self.stream.read(min(n, DISCARD_CHUNK))
            if not got:
                raise OSError(104)
            n -= len(got)

    def close(self):
        s = self.sock
        self.sock = self.stream = None
        if s is not None:
            try:
                s.close()
            except OSError:
                pass


def _errno(e):
    if isinstance(e, EOFError):
        return "closed by the broker"
    names = {104: "reset", 110: "timed out", 111: "refused", 113: "no route to host",
             118: "no route to host", 103: "aborted", 107: "not connected"}
    code = e.args[0] if e.args else 0
    return names.get(code, str(code)) if isinstance(code, int) else "closed"
