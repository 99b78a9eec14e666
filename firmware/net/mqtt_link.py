"""The router on MQTT: one asyncio task that keeps a connection to the configured broker,
publishes the router's values, announces it to Home Assistant and takes its commands
(net/mqtt_topics.py has the topics; docs/mqtt.md says it for owners).

Imported only once MQTT is enabled, so that a board without it does not carry it.

The configuration is live: the task compares the MQTT settings (KEYS) every TICK_MS, and a
change ends the connection cleanly and starts one with the new settings; disabling MQTT
says "disconnected" to the broker and stops. Nothing waits for a reboot.

Times: the publishing period is the router's (board seconds: the simulated board may run
faster than the wall clock, and a value a second means a value per router second); the
keep-alive and the retries face a broker, whose clock is the wall's (time.ticks_ms).

- Connecting: the broker's name is resolved through the network's DNS server (net/udp.py)
  and the connection is bounded (net/mqtt.py). A refusal (bad credentials) or an
  unreachable broker is reported in `state()` and retried after RETRY_S, doubling to
  RETRY_MAX_S; a connection that was up and got lost is retried after RETRY_S (as MaxPV!,
  which reconnects after 5 s). A broker that is down at boot is therefore joined within
  RETRY_MAX_S of its coming back.
- Connected: `<base>/state` = connected (the will says disconnected), the command topics
  and Home Assistant's status topic subscribed, the discovery announced (when enabled),
  then every topic at once and again every mqtt_period. The modes are also published
  within TICK_MS of every change, whoever made it. Home Assistant's birth message
  (`<prefix>/status` = online) brings the announcement back.
- Telemetry is never queued: one cycle is written at a time, and the cycles that fell due
  while one was still being written to a slow broker are skipped (`skipped` counts them);
  the next cycle carries the values of its own time.
- The broker's keep-alive is kept by our writes; that the broker is still there is seen
  from its answers: a PINGREQ when nothing has come for half the keep-alive, and the link
  is given up when nothing has come for 1.5 of it.
"""
import asyncio
import time
import sys
from net.mqtt import Client, MqttError
from net import mqtt_topics as T
from records.config import is_ipv4

KEYS = ("mqtt_active", "mqtt_ip", "mqtt_port", "mqtt_user", "mqtt_pass", "mqtt_period",
        "mqtt_topic", "mqtt_discovery", "mqtt_ha_prefix")
(ACTIVE, HOST, PORT, USER, PASSWORD, PERIOD, BASE, DISCOVERY, PREFIX) = range(9)
KEEPALIVE_S = 15          # the original's (its library's default): the will within ~22 s
TICK_MS = 100
RETRY_S = 5
RETRY_MAX_S = 60
LOG_EVERY_S = 10


class MqttLink:
    """The link of the firmware `fw` (main.Firmware: its router `rt`, `config`, `board`,
    `wifi` (None on the simulated board on the host's network), `dns` (that board's DNS
    server, --dns) and `port`). It is made here rather than in main.py so that a board
    without MQTT does not hold its code."""

    def __init__(self, fw):
        self.fw = fw
        self.rt = fw.rt
        self.config = fw.config
        self.board = fw.board
        self.chip_id = fw.board.chip_id()
        self.status = "off"
        self.error = None
        self.changed_at = fw.board.seconds()
        self.retry_at = None       # ticks_ms of the next attempt while waiting to retry
        self.connects = 0
        self.published = 0         # messages
        self.skipped = 0           # telemetry cycles skipped behind a slow broker
        self.commands = 0
        self.ignored = 0
        self.cycle_us = 0          # the last telemetry cycle's steps, in all
        self.step_us = 0           # the longest of those steps since boot
        self._lost = None
        self._announce_again = False
        self._pinged = 0
        self._logged = time.ticks_add(time.ticks_ms(), -LOG_EVERY_S * 1000)

    def state(self):
        """The link as a dict (the API's `mqtt`, the administration page's)."""
        s = self._settings()
        wait = None
        if self.retry_at is not None:
            wait = max(0, time.ticks_diff(self.retry_at, time.ticks_ms())) // 1000
        return {"state": self.status, "error": self.error,
                "broker": "%s:%d" % (s[HOST], s[PORT]),
                "since": int(self.board.seconds() - self.changed_at), "retry_in": wait,
                "connects": self.connects, "published": self.published,
                "skipped": self.skipped, "commands": self.commands, "ignored": self.ignored,
                "cycle_us": self.cycle_us, "step_us_max": self.step_us}

    def _set(self, status, error=None):
        if status != self.status:
            self.changed_at = self.board.seconds()
            print("mqtt: %s%s" % (status, ": " + error if error else ""))
        self.status = status
        if error or status == "connected":
            self.error = error

    def _settings(self):
        g = self.config.get
        return tuple(g(k) for k in KEYS)

    async def _wait(self, s, ms):
        """Until the settings differ from `s`, or `ms` have passed (None: no limit)."""
        self.retry_at = None if ms is None else time.ticks_add(time.ticks_ms(), ms)
        # (retry_at is set whenever ms is: not a narrowing pyright can follow)
        while self._settings() == s and (ms is None or
                                         time.ticks_diff(self.retry_at, time.ticks_ms()) > 0):  # pyright: ignore[reportCallIssue, reportArgumentType]
            await asyncio.sleep_ms(TICK_MS)
        self.retry_at = None

    async def run(self):
        retry = RETRY_S
        while True:
            s = self._settings()
            try:
                retry = await self._attempt(s, retry)
            except Exception as e:
                # a bug or a full heap: reported and retried, never the end of MQTT
                self._set("error", "%s: %s" % (type(e).__name__, e))
                await self._wait(s, RETRY_S * 1000)

    async def _attempt(self, s, retry):
        """One turn: off, waiting for the network, or a connection and its session. Returns
        the back-off for the next attempt."""
        if not s[ACTIVE]:
            self._set("off")
            self.error = None
            await self._wait(s, None)
            return RETRY_S
        if self.fw.wifi and not self.fw.wifi.joined:
            self._set("waiting", "not on the network yet")
            await self._wait(s, 1000)
            return retry
        self._set("connecting")
        try:
            c = await self._connect(s)
        except MqttError as e:
            self._set("refused" if e.refused else "unreachable", str(e))
            await self._wait(s, retry * 1000)
            return min(retry * 2, RETRY_MAX_S)
        self.connects += 1
        try:
            await self._session(c, s)
        except MqttError as e:
            c.close()
            # the listener's reason when it saw the end first (the session's write then
            # only says the connection is gone)
            e = self._lost or e
            self._set("refused" if e.refused else "unreachable", str(e))
            await self._wait(s, RETRY_S * 1000)
        finally:
            c.close()
        return RETRY_S

    async def _connect(self, s):
        host = s[HOST]
        ip = host
        if not is_ipv4(host):                    # a name (the configuration checked it)
            from net.udp import resolve
            w = self.fw.wifi
            server = w.dns_server() if w else self.fw.dns or None
            if not server:
                raise MqttError("no DNS server to look up %s" % host)
            try:
                ip = await resolve(host, server)
            except OSError:
                ip = None
            if ip is None:
                raise MqttError("%s not found (DNS server %s)" % (host, server))
        c = Client("maxpv-" + self.chip_id, KEEPALIVE_S)
        await c.connect(ip, s[PORT], (s[BASE] + "/" + T.STATE, "disconnected", True),
                        s[USER], s[PASSWORD])
        return c

    async def _session(self, c, s):
        base, prefix, discover = s[BASE], s[PREFIX], s[DISCOVERY]
        self._lost = None
        self._announce_again = False
        self._pinged = c.last_received = time.ticks_ms()
        topics = [base + "/" + t for t in T.COMMANDS]
        if discover:
            topics.append(prefix + "/status")
        listener = asyncio.create_task(self._listen(c, base, prefix))
        try:
            await c.subscribe(topics)
            await self._publish(c, base + "/" + T.STATE, "connected")
            self._set("connected")
            if discover:
                await self._announce(c, s)
            modes = None
            due = self.board.seconds()
            while True:
                if self._lost:
                    raise self._lost
                now_s = self._settings()
                if now_s != s:
                    listener.cancel()          # disconnect() reads the broker's goodbye
                    await asyncio.sleep_ms(0)
                    await self._leave(c, s, now_s)
                    return
                if self._announce_again:
                    self._announce_again = False
                    await self._announce(c, s)
                st = self.rt.state
                if (st.ssr_mode, st.relay_mode, st.boost, st.heater) != modes:
                    modes = (st.ssr_mode, st.relay_mode, st.boost, st.heater)
                    await self._topics(c, base, T.MODE_TOPICS)
                now = self.board.seconds()
                if st.at is None:              # no figures yet
                    due = now
                elif now >= due:
                    self.cycle_us = await self._topics(c, base, T.TOPICS)
                    due += s[PERIOD]
                    late = self.board.seconds() - due
                    if late >= 0:              # the cycle outlasted its period: no backlog
                        n = int(late // s[PERIOD]) + 1
                        self.skipped += n
                        due += n * s[PERIOD]
                # Our writes keep the broker's keep-alive, but only its answers show it is
                # there: ask one when nothing has come for half a period.
                t = time.ticks_ms()
                if (time.ticks_diff(t, c.last_received) > KEEPALIVE_S * 500 and
                        time.ticks_diff(t, self._pinged) > KEEPALIVE_S * 500):
                    self._pinged = t
                    await c.ping()
                await asyncio.sleep_ms(TICK_MS)
        finally:
            listener.cancel()

    async def _publish(self, c, topic, payload):
        await c.publish(topic, payload)
        self.published += 1

    async def _topics(self, c, base, rows):
        """Publish `rows`, one message per asyncio step: a write that the socket takes at once
        does not yield, and a whole cycle in one step would hold the router loop for 25
        messages (~1 ms on this host, 20-50x that on the chip). Returns the µs spent in the
        steps (a write that waited on a slow broker counts its wait)."""
        spent = 0
        for row in rows:
            t = time.ticks_us()
            topic, _, source = row.partition(":")
            await self._publish(c, base + "/" + topic, T.value(self.rt, source))
            d = time.ticks_diff(time.ticks_us(), t)
            spent += d
            if d > self.step_us:
                self.step_us = d
            await asyncio.sleep_ms(0)
        return spent

    async def _announce(self, c, s, remove=False):
        """Home Assistant's discovery, one retained config per entity (remove: empty ones,
        which make Home Assistant forget them). Its module is loaded for this and dropped
        afterwards: 5 kB of heap that an announcement needs once a connection."""
        from net import mqtt_discovery as D
        from api.endpoints import VERSION
        try:
            dev_id = D.device_id(self.chip_id)
            device = {"identifiers": [dev_id], "name": "MaxPV", "model": "MaxPV! router",
                      "manufacturer": "MaxPV! ESP32 MicroPython", "sw_version": VERSION}
            w = self.fw.wifi
            ip = w.state()["ip"] if w else "127.0.0.1"
            if ip:
                port = self.fw.port
                device["configuration_url"] = "http://%s%s/" % (ip, "" if port == 80 else
                                                                ":%d" % port)
            origin = {"name": "maxpv-esp32-micropython", "sw_version": VERSION}
            for row in D.ENTITIES:
                topic, payload = D.discovery(row, s[BASE], s[PREFIX], dev_id, device, origin)
                await self._publish(c, topic, "" if remove else payload)
                await asyncio.sleep_ms(0)          # one entity per step, as _topics
        finally:
            D = None
            sys.modules.pop("net.mqtt_discovery", None)
            import net
            if hasattr(net, "mqtt_discovery"):
                del net.mqtt_discovery  # pyright: ignore[reportAttributeAccessIssue] (the submodule, loaded lazily)

    async def _leave(self, c, old, new):
        """The settings changed: take back what no longer holds, say goodbye."""
        if old[DISCOVERY] and (not new[DISCOVERY] or new[PREFIX] != old[PREFIX]):
            await self._announce(c, old, remove=True)
        await self._publish(c, old[BASE] + "/" + T.STATE, "disconnected")
        await c.disconnect()

    async def _listen(self, c, base, prefix):
        try:
            while True:
                topic, payload, retained = await c.receive()
                if topic == prefix + "/status":
                    # Home Assistant's birth message (a retained one was seen at connection,
                    # when everything is announced anyway)
                    if payload == b"online" and not retained:
                        self._announce_again = True
                    continue
                why = "not a topic of ours"
                if topic.startswith(base + "/") and retained and topic.endswith("/boost/set"):
                    # a retained "on" would start a boost at every connection and reboot
                    why = "a retained boost command"
                elif topic.startswith(base + "/"):
                    try:
                        why = T.command(self.rt, topic[len(base) + 1:], payload)
                    except ValueError as e:       # the router refused it
                        why = str(e)
                if why is None:
                    self.commands += 1
                    continue
                self.ignored += 1
                # one line per LOG_EVERY_S at most: a flood on a command topic must not
                # become a flood on the console (on the chip a full UART holds the loop)
                t = time.ticks_ms()
                if time.ticks_diff(t, self._logged) > LOG_EVERY_S * 1000:
                    self._logged = t
                    print("mqtt: ignored %r on %s: %s (%d ignored in all)"
                          % (payload[:32], topic[:64], why, self.ignored))
        except MqttError as e:
            self._lost = e
        except Exception as e:                  # a full heap, a bug: the session ends too
            self._lost = MqttError("%s: %s" % (type(e).__name__, e))
