"""What the router says and hears on MQTT: the table of topics and the commands
(net/mqtt_discovery.py has the Home Assistant entities built on them; docs/mqtt.md is made
for owners from both tables by tools/docs.py).

TOPICS: every topic published under the base topic, retained. The original's come first,
with the payloads of the HTTP API (api/data.py's formats: a client that reads both sees the
same text), then this firmware's.
"""
from api import data
from router.status import MODE_WORDS

# Rows are strings, not tuples of names and lambdas: on the chip a module's code and
# constants are loaded into RAM, and each lambda is a function object with its own code
# (~250 bytes on the 64-bit port); as strings the table takes a tenth of that.

# "topic:source": a data number of api/data.py, or t0..t3 (today's routed, imported,
# exported, produced energy: the index less the day-start reference, kWh), s (ssrstate),
# r (relaystate), p (running / offline: the ping's word), b (boost: on / off, the original's
# words), h (who drives the heater: router/heater.py's reason)
TOPICS = (
    "vrms:1", "irms:2", "papp:4", "cosphi:8", "pact:3", "prouted:5", "pimp:6", "pexp:7",
    "pimpulsion:13", "indexrouted:9", "indeximport:10", "indexexport:11", "indeximpulsion:12",
    "indexrelay:27", "triacmode:14", "relaymode:15", "statusbyte:20", "temperature:28",
    "boost:b",
    # --- this firmware's
    "routedtoday:t0", "importedtoday:t1", "exportedtoday:t2", "producedtoday:t3",
    "ssrstate:s", "relaystate:r", "router:p", "heater:h",
)
# also published at once on every change of the modes or the boost
MODE_TOPICS = tuple(r for r in TOPICS if r.partition(":")[0] in ("triacmode", "relaymode",
                                                                  "boost", "heater"))
STATE = "state"                                  # availability: connected / disconnected
COMMANDS = {"triacmode/set": "set_ssr_mode", "relaymode/set": "set_relay_mode",
            "boost/set": "boost_"}


def value(rt, source):
    """The text of a TOPICS source for the router `rt`."""
    st = rt.state
    c = source[0]
    if c == "t":
        k = int(source[1])
        return "%.3f" % ((st.index[k] - st.day_ref[k]) / 1000)
    if c == "s":
        return data.ssr_state(st)
    if c == "r":
        return data.relay_state(st)
    if c == "p":
        return "running" if rt.running() else "offline"
    if c == "b":
        return "on" if st.boost else "off"
    if c == "h":
        return st.heater
    return data.value(st, int(source))


def command(rt, suffix, payload):
    """Apply a command received on base/suffix; None when done, else why it was ignored."""
    name = COMMANDS.get(suffix)
    if name is None:
        return "not a command topic"
    word = None
    if len(payload) <= 8:
        try:
            word = payload.decode().strip().lower()
        except UnicodeError:
            pass
    if name == "boost_":
        if word not in ("on", "off"):
            return "not on or off"
        getattr(rt, name + word)()          # boost_on (may be refused) or boost_off
        return None
    if word not in MODE_WORDS:
        return "not stop, force or auto"
    getattr(rt, name)(MODE_WORDS[word])
    return None
