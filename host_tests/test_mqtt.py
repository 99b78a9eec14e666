"""MQTT and Home Assistant discovery, against a real broker: Debian's mosquitto started here
on a loopback port (anonymous, or with a password file), the firmware under MicroPython on
the simulated board, and paho-mqtt as the owner's client (Home Assistant, Jeedom...).
Commands are checked through the HTTP API, as an owner would see them."""
import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse

import paho.mqtt.client as paho
import pytest

from test_api import FORMATS, Firmware, free_port, get, ok
from lan_dns import LanDns
from net.mqtt_discovery import ENTITIES

MOSQUITTO = "/usr/sbin/mosquitto"
Q = urllib.parse.quote
# the original's topics and the data number whose format each carries (docs/mqtt.md)
ORIGINAL = {"vrms": 1, "irms": 2, "papp": 4, "cosphi": 8, "pact": 3, "prouted": 5, "pimp": 6,
            "pexp": 7, "pimpulsion": 13, "indexrouted": 9, "indeximport": 10,
            "indexexport": 11, "indeximpulsion": 12, "indexrelay": 27, "triacmode": 14,
            "relaymode": 15, "statusbyte": 20, "temperature": 28}
# what Home Assistant's sensor platform accepts, for the classes we use
UNITS = {"voltage": {"V"}, "current": {"A"}, "apparent_power": {"VA"}, "power": {"W", "kW"},
         "power_factor": {None, "%"}, "energy": {"Wh", "kWh"}, "temperature": {"°C"},
         "duration": {"s", "min", "h", "d"}, "enum": {None}}
STATE_CLASSES = {"measurement", "total", "total_increasing"}
BINARY_CLASSES = {"problem", "running"}


class Broker:
    """mosquitto on 127.0.0.1:port; users: {name: password} makes it refuse anyone else."""

    def __init__(self, users=None):
        self.dir = tempfile.mkdtemp(prefix="mosquitto-")
        os.chmod(self.dir, 0o755)    # started as root, mosquitto reads it as user mosquitto
        self.port = free_port()
        conf = ["listener %d 127.0.0.1" % self.port, "persistence false"]
        if users:
            pw = os.path.join(self.dir, "passwords")
            for k, (u, p) in enumerate(users.items()):
                subprocess.run(["mosquitto_passwd", "-b"] + (["-c"] if k == 0 else []) +
                               [pw, u, p], check=True, capture_output=True)
            os.chmod(pw, 0o644)
            conf += ["allow_anonymous false", "password_file " + pw]
        else:
            conf.append("allow_anonymous true")
        self.conf = os.path.join(self.dir, "mosquitto.conf")
        with open(self.conf, "w") as f:
            f.write("\n".join(conf) + "\n")
        self.p = None
        self.start()

    def start(self):
        self.log = open(os.path.join(self.dir, "log"), "ab")
        self.p = subprocess.Popen([MOSQUITTO, "-c", self.conf], stdout=self.log,
                                  stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("mosquitto did not start")

    def stop(self):
        if self.p and self.p.poll() is None:
            self.p.terminate()
            self.p.wait(10)
        self.log.close()


class Watcher:
    """A paho client subscribed to everything: what the owner's home automation sees."""

    def __init__(self, broker, user=None, password=None):
        self.msgs = []             # (monotonic time, topic, payload bytes, retained)
        self.lock = threading.Lock()
        self.c = paho.Client(paho.CallbackAPIVersion.VERSION2,
                             client_id="watcher-%d" % os.getpid())
        if user:
            self.c.username_pw_set(user, password)
        self.c.reconnect_delay_set(0.2, 1)
        self.c.on_connect = lambda c, u, f, rc, p: c.subscribe("#")
        self.c.on_message = self._on_message
        self.c.connect("127.0.0.1", broker.port, keepalive=10)
        self.c.loop_start()

    def _on_message(self, c, u, m):
        with self.lock:
            self.msgs.append((time.monotonic(), m.topic, m.payload, m.retain))

    def since(self, t0, topic=None):
        with self.lock:
            return [m for m in self.msgs if m[0] >= t0 and (topic is None or m[1] == topic)]

    def last(self, topic):
        m = self.since(0, topic)
        return m[-1][2].decode() if m else None

    def latest(self, prefix):
        """{topic: last payload} of the topics under `prefix`."""
        out = {}
        for m in self.since(0):
            if m[1].startswith(prefix):
                out[m[1]] = m[2]
        return out

    def publish(self, topic, payload, retain=False, qos=0):
        self.c.publish(topic, payload, qos=qos, retain=retain).wait_for_publish(5)

    def wait(self, cond, timeout=20, what=""):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            v = cond()
            if v:
                return v
            time.sleep(0.05)
        pytest.fail("not within %s s: %s" % (timeout, what))

    def close(self):
        self.c.loop_stop()
        self.c.disconnect()


def configure(fw, **cfg):
    return ok(fw.base, "/api/set?configmaxpv&value=" + Q(json.dumps(cfg)))


def link(fw):
    return json.loads(get(fw.base, "/api/get?mqtt")[1])


def until(fw, cond, timeout=30, what=""):
    deadline = time.monotonic() + timeout
    while True:
        st = link(fw)
        if cond(st):
            return st
        if time.monotonic() > deadline:
            out = fw.output() if hasattr(fw, "output") else ""
            pytest.fail("MQTT link not %s within %d s: %r\n%s" % (what, timeout, st, out[-2000:]))
        time.sleep(0.1)


def mqtt_on(fw, broker, **more):
    cfg = dict(mqtt_active=1, mqtt_ip="127.0.0.1", mqtt_port=broker.port, mqtt_period=1)
    cfg.update(more)
    configure(fw, **cfg)
    return until(fw, lambda s: s["state"] == "connected", what="connected")


@pytest.fixture(scope="module")
def broker():
    b = Broker()
    yield b
    b.stop()


@pytest.fixture
def watcher(broker):
    w = Watcher(broker)
    yield w
    w.close()


@pytest.fixture
def fw(tmp_path, broker):
    f = Firmware(tmp_path / "flash", scenario="clear_day", speed="1")
    yield f
    f.stop()


def test_home_assistant_discovery_is_complete_and_every_advertised_topic_gets_a_value(
        fw, broker, watcher):
    assert link(fw)["state"] == "off"                     # MQTT is off until enabled
    mqtt_on(fw, broker)
    time.sleep(3)
    configs = watcher.latest("homeassistant/")
    assert len(configs) == len(ENTITIES), sorted(configs)
    ids = set()
    state_topics = set()
    for topic, payload in configs.items():
        m = re.fullmatch(r"homeassistant/(sensor|binary_sensor|select|switch)/maxpv([0-9a-f]{12})/"
                         r"(\w+)/config", topic)
        assert m, topic
        comp = m.group(1)
        d = json.loads(payload)
        dev = d["device"]
        assert dev["identifiers"] == ["maxpv" + m.group(2)]
        assert dev["name"] == "MaxPV" and dev["model"] and dev["manufacturer"]
        assert dev["sw_version"] == ok(fw.base, "/api/get?version")
        assert dev["configuration_url"] == fw.base + "/"
        assert d["name"] and d["unique_id"] not in ids
        ids.add(d["unique_id"])
        assert d["availability_topic"] == "maxpv/state"
        assert (d["payload_available"], d["payload_not_available"]) == ("connected", "disconnected")
        state_topics.add(d["state_topic"])
        if comp == "sensor":
            assert d.get("unit_of_measurement") in UNITS[d["device_class"]], d
            assert d.get("state_class") in STATE_CLASSES | {None}, d
            if d["device_class"] == "energy":
                assert (d["state_class"], d["unit_of_measurement"]) == ("total_increasing", "kWh")
            if d["device_class"] == "enum":
                assert d["options"] and "state_class" not in d
        elif comp == "binary_sensor":
            assert d["device_class"] in BINARY_CLASSES, d
            if d["device_class"] == "problem":
                assert d["entity_category"] == "diagnostic" and "bitwise_and" in d["value_template"]
        elif comp == "switch":
            assert d["command_topic"] == "maxpv/boost/set"
            assert (d["payload_on"], d["payload_off"]) == ("on", "off")
        else:
            assert d["command_topic"] in ("maxpv/triacmode/set", "maxpv/relaymode/set")
            assert sorted(d["options"]) == ["auto", "force", "stop"] and d["value_template"]
    # the Energy dashboard's four counters and the select/problem entities are there
    names = {json.loads(p)["name"] for p in configs.values()}
    assert {"Energie routée", "Energie importée", "Energie exportée", "SSR", "Relais",
            "Synchronisation secteur perdue", "Température ECS"} <= names
    # every advertised state topic has a value, retained: a client that comes later (Home
    # Assistant after a restart) gets them at once
    late = Watcher(broker)
    try:
        late.wait(lambda: all(late.since(0, t) for t in state_topics), 3, "retained values")
        assert all(late.since(0, t)[0][3] for t in state_topics)
    finally:
        late.close()
    assert watcher.last("maxpv/state") == "connected"
    # the original's topics carry the API's formats, and agree with the API
    for t, n in ORIGINAL.items():
        assert re.fullmatch(FORMATS[n], watcher.last("maxpv/" + t)), (t, watcher.last("maxpv/" + t))
    # the same index as the API's, published up to a period (1 s) earlier: at the 2 kW the
    # simulated heater takes, it may have moved on by 0.001 kWh since
    published = float(watcher.last("maxpv/indexrouted"))
    assert 0 <= float(ok(fw.base, "/api/get?data=09")) - published <= 0.002
    assert watcher.last("maxpv/router") == "running"


def test_the_value_templates_read_the_payloads_as_home_assistant_renders_them():
    """Every value_template of the discovery, rendered by Jinja2 as Home Assistant does (its
    `int(default, base)` is Jinja's, `bitwise_and` is HA's own filter) over the payloads the
    router publishes: what the entity then shows."""
    import jinja2
    from net.mqtt_discovery import discovery
    env = jinja2.Environment()
    env.filters["bitwise_and"] = lambda a, b: a & b
    shown = {}
    for row in ENTITIES:
        _, d = discovery(row, "maxpv", "homeassistant", "maxpvX", {}, {})
        d = json.loads(d)
        if "value_template" in d:
            tpl = env.from_string(d["value_template"])
            shown[row.split("|")[0]] = lambda v, tpl=tpl: tpl.render(value=v)
    # the modes as the selects' options; "None" is Home Assistant's unknown
    assert [shown["SSR"](v) for v in "019"] == ["stop", "force", "auto"]
    assert shown["Relais"]("9") == "auto"
    assert (shown["Temperature"]("-99"), shown["Temperature"]("45.0")) == ("None", "45.0")
    assert (shown["FacteurPuissance"]("nan"), shown["FacteurPuissance"]("-0.8822")) == (
        "None", "-0.8822")
    assert shown["SecteurPerdu"]("10000000") == "ON" and shown["SecteurPerdu"]("00001011") == "OFF"
    assert shown["AnomalieAnalogique"]("00010000") == "ON"
    assert shown["AnomalieCadence"]("11011111") == "OFF"
    assert shown["AnomalieZeroSecteur"]("01000000") == "ON"


def test_values_come_at_the_configured_period_and_a_new_period_applies_at_once(
        fw, broker, watcher):
    mqtt_on(fw, broker)
    time.sleep(1)
    t0 = time.monotonic()
    time.sleep(6)
    got = [m[0] for m in watcher.since(t0, "maxpv/vrms")]
    assert 5 <= len(got) <= 7, got
    assert all(0.5 < b - a < 1.5 for a, b in zip(got, got[1:])), got
    configure(fw, mqtt_period=3)
    until(fw, lambda s: s["state"] == "connected" and s["connects"] == 2, what="reconnected")
    t1 = time.monotonic()
    time.sleep(10)
    got = [m[0] for m in watcher.since(t1, "maxpv/vrms")]
    assert 3 <= len(got) <= 4, got
    assert all(2.5 < b - a < 3.5 for a, b in zip(got, got[1:])), got


def test_a_connection_publishing_every_second_outlives_the_keep_alive(fw, broker, watcher):
    # Written for a review finding: the client pinged only after 7.5 s without writing, so
    # at a 1 s period it never pinged, the broker sent nothing, and the link gave the broker
    # up for silent after 22.5 s: a reconnection (and the last will) every 22.5 s.
    mqtt_on(fw, broker)
    t0 = time.monotonic()
    time.sleep(35)
    st = link(fw)
    assert st["state"] == "connected" and st["connects"] == 1, st
    assert not [m for m in watcher.since(t0, "maxpv/state") if m[2] == b"disconnected"]


def test_mode_commands_change_the_modes_and_every_change_is_published_back(fw, broker, watcher):
    mqtt_on(fw, broker)
    t0 = time.monotonic()
    watcher.publish("maxpv/triacmode/set", "stop")
    watcher.wait(lambda: ok(fw.base, "/api/get?data=14") == "0", 5, "SSR stopped")
    watcher.wait(lambda: [m for m in watcher.since(t0, "maxpv/triacmode") if m[2] == b"0"],
                 2, "triacmode 0 published")
    watcher.publish("maxpv/relaymode/set", "force", qos=1)     # Home Assistant may use QoS 1
    watcher.wait(lambda: ok(fw.base, "/api/get?data=15") == "1", 5, "relay forced")
    assert ok(fw.base, "/api/get?relaystate") == "FORCE"
    # a change from another source (the HTTP API) is published within a fraction of a second
    ok(fw.base, "/api/set?ssrmode&value=auto")
    t1 = time.monotonic()
    watcher.wait(lambda: [m for m in watcher.since(t1 - 1, "maxpv/triacmode") if m[2] == b"9"],
                 1, "triacmode 9 published within a second")
    st = link(fw)
    assert st["commands"] == 2 and st["ignored"] == 0


def test_boost_on_mqtt_starts_and_stops_it_and_is_published_back(fw, broker, watcher):
    mqtt_on(fw, broker)
    t0 = time.monotonic()
    watcher.publish("maxpv/boost/set", "ON")
    watcher.wait(lambda: ok(fw.base, "/api/get?booststate") == "ON", 5, "boost started")
    watcher.wait(lambda: [m for m in watcher.since(t0, "maxpv/boost") if m[2] == b"on"],
                 2, "boost on published")
    watcher.wait(lambda: [m for m in watcher.since(t0, "maxpv/heater") if m[2] == b"boost"],
                 2, "the heater's reason published")
    t1 = time.monotonic()
    ok(fw.base, "/api/action?boostoff")         # from HTTP: published back within a second
    watcher.wait(lambda: [m for m in watcher.since(t1, "maxpv/boost") if m[2] == b"off"],
                 1, "boost off published")
    before = link(fw)["ignored"]
    watcher.publish("maxpv/boost/set", "maybe")
    watcher.wait(lambda: link(fw)["ignored"] == before + 1, 3, "a wrong word ignored")
    assert ok(fw.base, "/api/get?booststate") == "OFF"
    # a retained "on" (left by some automation) must not start a boost at every connection
    watcher.publish("maxpv/boost/set", "on", retain=True)
    watcher.wait(lambda: ok(fw.base, "/api/get?booststate") == "ON", 5, "live: a command")
    ok(fw.base, "/api/action?boostoff")
    try:
        n = link(fw)["connects"]
        configure(fw, mqtt_period=2)            # a new session: the broker hands it over
        until(fw, lambda s: s["state"] == "connected" and s["connects"] > n, what="again")
        watcher.wait(lambda: link(fw)["ignored"] == before + 2, 5, "the retained one ignored")
        assert ok(fw.base, "/api/get?booststate") == "OFF"
    finally:
        watcher.publish("maxpv/boost/set", "", retain=True)    # clears it


def test_garbage_on_the_command_topics_changes_nothing(fw, broker, watcher):
    mqtt_on(fw, broker)
    ok(fw.base, "/api/set?relaymode&value=stop")
    before = (ok(fw.base, "/api/get?data=14"), ok(fw.base, "/api/get?data=15"))
    junk = [b"", b"STOPP", b"forced", b"1", b"9", b"auto auto", b"\xff\xfe\x00stop",
            b"stop\x00", os.urandom(64), b"a" * 5000, os.urandom(200000), "arrêt".encode()]
    for t in ("maxpv/triacmode/set", "maxpv/relaymode/set"):
        for j in junk:
            watcher.publish(t, j)
    watcher.publish("maxpv/triacmode/set", os.urandom(70000), retain=True)   # again at reconnect
    watcher.publish("maxpv/somethingelse/set", b"stop")
    # at QoS 1, what is dropped is acknowledged too: the broker keeps 20 unacknowledged
    # messages at most, after which no command would come through
    for _ in range(25):
        watcher.publish("maxpv/relaymode/set", os.urandom(1000), qos=1)
    time.sleep(2)
    st = link(fw)
    assert st["state"] == "connected" and st["commands"] == 0, st
    assert st["ignored"] >= 2 * (len(junk) - 2), st       # the two oversized are only dropped
    assert (ok(fw.base, "/api/get?data=14"), ok(fw.base, "/api/get?data=15")) == before
    assert ok(fw.base, "/api/get?ping") == "running"
    # the link is still good: a real command goes through
    watcher.publish("maxpv/triacmode/set", "force", qos=1)
    watcher.wait(lambda: ok(fw.base, "/api/get?data=14") == "1", 5, "SSR forced")
    watcher.publish("maxpv/triacmode/set", b"", retain=True)          # clear the retained junk


def test_home_assistant_birth_brings_the_discovery_back(fw, broker, watcher):
    mqtt_on(fw, broker)
    time.sleep(1)
    configs = watcher.latest("homeassistant/")
    for t in configs:                         # forget them, as a wiped Home Assistant would
        watcher.publish(t, b"", retain=True)
    time.sleep(0.5)
    t0 = time.monotonic()
    watcher.publish("homeassistant/status", "online")
    watcher.wait(lambda: len({m[1] for m in watcher.since(t0) if m[1] in configs and m[2]})
                 == len(configs), 5, "every config announced again")
    watcher.publish("homeassistant/status", "offline")        # not a request: nothing sent
    t1 = time.monotonic()
    time.sleep(1.5)
    assert not [m for m in watcher.since(t1) if m[1] in configs]


def test_a_broker_restart_and_a_broker_down_at_boot_both_end_connected_without_a_reboot(
        tmp_path):
    broker = Broker()
    fw = Firmware(tmp_path / "flash", scenario="clear_day", speed="1")
    try:
        mqtt_on(fw, broker)
        broker.stop()
        st = until(fw, lambda s: s["state"] != "connected", 40, "lost")
        assert st["state"] in ("connecting", "unreachable")
        st = until(fw, lambda s: s["state"] == "unreachable" and s["error"], 15, "unreachable")
        assert ok(fw.base, "/api/get?ping") == "running"
        broker.start()
        w = Watcher(broker)
        until(fw, lambda s: s["state"] == "connected", 20, "connected again")
        w.wait(lambda: w.last("maxpv/state") == "connected" and w.last("maxpv/vrms"), 5,
               "values again")
        w.close()
        # down at boot: the saved settings, a new boot, no broker
        broker.stop()
        fw.stop()
        fw = Firmware(tmp_path / "flash", scenario="clear_day", speed="1")
        st = until(fw, lambda s: s["state"] == "unreachable", 20, "unreachable at boot")
        assert "127.0.0.1:%d" % broker.port in st["error"] and st["retry_in"] is not None
        time.sleep(8)                                          # a few failed attempts
        broker.start()
        until(fw, lambda s: s["state"] == "connected", 70, "connected once the broker is up")
        assert ok(fw.base, "/api/get?ping") == "running"
    finally:
        fw.stop()
        broker.stop()


def test_kill_9_of_the_firmware_makes_the_broker_publish_the_last_will(tmp_path, broker):
    fw = Firmware(tmp_path / "flash", scenario="clear_day", speed="1")
    w = Watcher(broker)
    try:
        mqtt_on(fw, broker, mqtt_topic="garage/maxpv")       # a second router's base topic
        w.wait(lambda: w.last("garage/maxpv/state") == "connected", 5, "connected")
        t0 = time.monotonic()
        fw.p.send_signal(signal.SIGKILL)
        fw.p.wait()
        m = w.wait(lambda: [m for m in w.since(t0, "garage/maxpv/state")
                            if m[2] == b"disconnected"], 5, "the last will")
        assert m[0][0] - t0 < 3
    finally:
        w.close()
        fw.stop()


def test_wrong_credentials_are_reported_and_retried_with_back_off_until_fixed(tmp_path):
    broker = Broker(users={"routeur": "bon-mot-de-passe"})
    fw = Firmware(tmp_path / "flash", scenario="clear_day", speed="1")
    try:
        configure(fw, mqtt_active=1, mqtt_ip="127.0.0.1", mqtt_port=broker.port,
                  mqtt_user="routeur", mqtt_pass="mauvais")
        st = until(fw, lambda s: s["state"] == "refused", 15, "refused")
        assert st["error"] in ("bad user name or password", "not authorised"), st
        assert 4 <= st["retry_in"] <= 5
        until(fw, lambda s: s["state"] == "refused" and s["retry_in"] >= 8, 15,
              "waiting longer after a second refusal")
        assert fw.p.poll() is None and ok(fw.base, "/api/get?ping") == "running"
        assert json.loads(get(fw.base, "/api/get?configmaxpv")[1])["mqtt_pass"] == "********"
        configure(fw, mqtt_pass="bon-mot-de-passe")          # applied at once
        st = until(fw, lambda s: s["state"] == "connected", 10, "connected")
        assert st["error"] is None
        w = Watcher(broker, "routeur", "bon-mot-de-passe")
        w.wait(lambda: w.last("maxpv/vrms"), 5, "values")
        w.close()
    finally:
        fw.stop()
        broker.stop()


def test_a_broker_given_by_name_is_found_through_the_dns_server(tmp_path, broker):
    names = LanDns({"broker.maison.lan": "127.0.0.1"})
    fw = Firmware(tmp_path / "flash", scenario="clear_day", speed="1",
                  args=("--dns", "127.0.0.1:%d" % names.port))
    try:
        configure(fw, mqtt_active=1, mqtt_ip="nowhere.maison.lan", mqtt_port=broker.port)
        st = until(fw, lambda s: s["state"] == "unreachable", 10, "unreachable")
        assert "nowhere.maison.lan not found" in st["error"]
        configure(fw, mqtt_ip="broker.maison.lan")
        st = until(fw, lambda s: s["state"] == "connected", 10, "connected")
        assert st["broker"] == "broker.maison.lan:%d" % broker.port
        status, body, _ = get(fw.base, "/api/set?configmaxpv&value=" + Q(json.dumps(
            {"mqtt_ip": "broker maison"})))
        assert status == 400 and "mqtt_ip" in body
    finally:
        names.close()
        fw.stop()


def test_disabling_mqtt_says_disconnected_and_discovery_off_removes_the_entities(
        fw, broker, watcher):
    mqtt_on(fw, broker)
    time.sleep(1)
    configs = watcher.latest("homeassistant/")
    assert configs
    t0 = time.monotonic()
    configure(fw, mqtt_discovery=0)
    # (this failed one time in two while the client's close() left the socket open:
    # MicroPython's Stream.close() does nothing, so the new connection took the old one
    # over before the broker had read the removals)
    watcher.wait(lambda: all(watcher.since(t0, t) and watcher.since(t0, t)[-1][2] == b""
                             for t in configs), 5, "every entity removed")
    until(fw, lambda s: s["state"] == "connected" and s["connects"] == 2, what="reconnected")
    configure(fw, mqtt_active=0)
    until(fw, lambda s: s["state"] == "off", 5, "off")
    watcher.wait(lambda: watcher.last("maxpv/state") == "disconnected", 3, "disconnected")
    t1 = time.monotonic()
    time.sleep(2)
    assert not watcher.since(t1, "maxpv/vrms")


# 32K more than test_api_load's HEAP. The MQTT code takes ~10 kB (and the firmware's names,
# ~150 more with MQTT, fill the seventh qstr pool that the heater's features opened): at 288K,
# loading MQTT into a heap fragmented by the four clients sometimes fails (docs/mqtt.md,
# "Memory"). 320K passes.
HEAP_WITH_MQTT = "320K"


def test_the_firmware_with_mqtt_publishing_every_second_serves_four_clients_in_its_heap(
        tmp_path, broker, watcher):
    """The device image (as test_api_load.py) in HEAP_WITH_MQTT, MQTT on at a 1 s period,
    four clients for 10 s: no MemoryError, no failed request, a value every second."""
    from test_api_load import MIX, Proc, _pick, build_image, hammer
    image = build_image(tmp_path / "image")
    (tmp_path / "flash").mkdir()
    fw = Proc(tmp_path / "flash", tmp_path / "firmware.log", image=image,
              heapsize=HEAP_WITH_MQTT)
    try:
        assert fw.wait_running(), fw.output()[-3000:]
        mqtt_on(fw, broker)
        time.sleep(1)
        t0 = time.monotonic()
        r = hammer(fw.port, MIX, clients=4, seconds=10, pick=_pick)
        t1 = time.monotonic()
        out = fw.output()
        assert "MemoryError" not in out and "Traceback" not in out, out[-3000:]
        assert fw.alive() and not r["failed"] and r["n"] > 100, (r["n"], r["failed"][:5])
        got = [m[0] for m in watcher.since(t0, "maxpv/vrms") if m[0] <= t1]
        assert len(got) >= 8, got                       # every second, under the load
        st = link(fw)
        assert st["state"] == "connected" and st["connects"] == 1, st
    finally:
        fw.stop()


def test_the_admin_page_sets_mqtt_up_and_shows_the_link(browser, fw, broker, watcher):
    from playwright.sync_api import expect
    page = browser.page(fw.base, width=360, height=780)
    page.goto(fw.base + "/#admin")
    state = page.get_by_test_id("mqtt-state")
    expect(state).to_have_text("MQTT désactivé.")
    page.get_by_test_id("cfg-mqtt_active").check()
    page.get_by_test_id("cfg-mqtt_ip").fill("broker maison")            # refused on the page
    page.get_by_test_id("config-save").click()
    expect(page.get_by_test_id("cmsg-mqtt_ip")).to_have_text("Adresse IPv4 ou nom d'hôte attendu")
    page.get_by_test_id("cfg-mqtt_ip").fill("127.0.0.1")
    page.get_by_test_id("cfg-mqtt_port").fill(str(broker.port))
    page.get_by_test_id("cfg-mqtt_period").fill("1")
    page.get_by_test_id("cfg-mqtt_topic").fill("maison/+")               # a wildcard: refused
    page.get_by_test_id("config-save").click()
    expect(page.get_by_test_id("cmsg-mqtt_topic")).to_contain_text("ni + ni #")
    page.get_by_test_id("cfg-mqtt_topic").fill("maison/routeur")
    page.get_by_test_id("config-save").click()
    expect(page.get_by_test_id("config-result")).to_contain_text("Request successfully processed")
    expect(state).to_contain_text("Connecté à 127.0.0.1:%d" % broker.port, timeout=10000)
    watcher.wait(lambda: watcher.last("maison/routeur/vrms"), 5, "values under the new base")
    # a broker that goes away is shown with the error and the next attempt
    page.get_by_test_id("cfg-mqtt_port").fill(str(free_port()))
    page.get_by_test_id("config-save").click()
    expect(state).to_contain_text("Broker injoignable", timeout=10000)
    expect(state).to_contain_text("Nouvel essai dans")


def test_a_publication_cycle_leaves_the_loop_between_messages():
    # A write that the socket takes at once does not yield: without a yield per message a
    # cycle of 25 ran as one asyncio step, holding the router loop for all of them (20-50x
    # longer on the chip than here). A task that only counts its turns must get one
    # between each two messages.
    from conftest import run_mp
    r = run_mp("""
import asyncio, json
from net import mqtt_topics as T
from net.mqtt_link import MqttLink

class Rt:
    class state:
        vrms = irms = p = s = cosphi = routed = produced = bias_v = 0.0
        index = day_ref = (0, 0, 0, 0.0, 0)
        ssr_mode = relay_mode = 9
        status = samples = 0
        uptime = 0.0
        delays = temperature = boost = None
        load_absent = relay_on = False
        heater = "routing"
    def running(self):
        return True

class Client:                     # the socket takes every write at once
    def __init__(self):
        self.sent = []
    async def publish(self, topic, payload):
        self.sent.append((topic, turns[0]))

turns = [0]
async def ticker():
    while True:
        turns[0] += 1
        await asyncio.sleep_ms(0)

class Link(MqttLink):              # no firmware around it: only what _topics reads
    def __init__(self):
        pass

async def main():
    link = Link()
    link.rt = Rt()
    link.published = link.step_us = 0
    c = Client()
    t = asyncio.create_task(ticker())
    await asyncio.sleep_ms(0)
    await link._topics(c, "maxpv", T.TOPICS)
    t.cancel()
    seen = [n for _, n in c.sent]
    print(json.dumps({"n": len(seen), "distinct": len(set(seen))}))

asyncio.run(main())
""")
    assert r["n"] == len(__import__("net.mqtt_topics").mqtt_topics.TOPICS)
    assert r["distinct"] == r["n"], r          # the ticker ran between every two messages
