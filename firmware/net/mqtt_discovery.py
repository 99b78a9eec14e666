"""Home Assistant's MQTT discovery: the entities that make the router appear on its own, with
the units and classes of its Energy dashboard, built on the topics of net/mqtt_topics.py.

Loaded for an announcement (at each connection, and when Home Assistant says it is back
online) and dropped afterwards (net/mqtt_link.py): the table and the code that builds the
payloads are cold, and on a board without PSRAM their 5 kB are better left to HTTP.

ENTITIES: names and object ids are the original's (3.61), so that a Home Assistant that
knew a MaxPV! finds the same entities; then this firmware's. Every entity's state topic is
one of TOPICS (a test holds it).
"""
import json
from net.mqtt_topics import STATE

# "object id|component|topic|name|device class|state class|unit|more", where more is:
# select (a mode: options stop/force/auto, commands on topic/set), switch (on/off, commands
# on topic/set), none=X (X reads as
# unknown), enum=A,B (the words), running (payloads running/offline), bit=N (a status byte
# bit as a problem, diagnostic)
ENTITIES = (
    "Tension|sensor|vrms|Tension|voltage|measurement|V|",
    "Courant|sensor|irms|Courant|current|measurement|A|",
    "PuissanceApparente|sensor|papp|Puissance apparente|apparent_power|measurement|VA|",
    "FacteurPuissance|sensor|cosphi|Facteur de puissance|power_factor|measurement||none=nan",
    "PuissanceActive|sensor|pact|Puissance active|power|measurement|W|",
    "PuissanceRoutee|sensor|prouted|Puissance routée|power|measurement|W|",
    "PuissanceImportee|sensor|pimp|Puissance importée|power|measurement|W|",
    "PuissanceExportee|sensor|pexp|Puissance exportée|power|measurement|W|",
    "PuissanceProduite|sensor|pimpulsion|Puissance produite|power|measurement|W|",
    "Temperature|sensor|temperature|Température ECS|temperature|measurement|°C|none=-99",
    "EnergieRoutee|sensor|indexrouted|Energie routée|energy|total_increasing|kWh|",
    "EnergieImportee|sensor|indeximport|Energie importée|energy|total_increasing|kWh|",
    "EnergieExportee|sensor|indexexport|Energie exportée|energy|total_increasing|kWh|",
    "EnergieProduite|sensor|indeximpulsion|Energie produite|energy|total_increasing|kWh|",
    "TempsFonctionnementRelais|sensor|indexrelay|Temps de fonctionnement relais|duration|"
    "total_increasing|min|",
    "SSR|select|triacmode|SSR||||select",
    "Relais|select|relaymode|Relais||||select",
    # --- this firmware's
    "EnergieRouteeJour|sensor|routedtoday|Energie routée aujourd'hui|energy|total_increasing|"
    "kWh|",
    "EnergieImporteeJour|sensor|importedtoday|Energie importée aujourd'hui|energy|"
    "total_increasing|kWh|",
    "EnergieExporteeJour|sensor|exportedtoday|Energie exportée aujourd'hui|energy|"
    "total_increasing|kWh|",
    "EnergieProduiteJour|sensor|producedtoday|Energie produite aujourd'hui|energy|"
    "total_increasing|kWh|",
    "EtatSSR|sensor|ssrstate|Etat SSR|enum|||enum=STOP,FORCE,MAX,ON,OFF",
    "EtatRelais|sensor|relaystate|Etat relais|enum|||enum=STOP,FORCE,ON,OFF",
    "Routeur|binary_sensor|router|Routeur en marche|running|||running",
    "Boost|switch|boost|Boost||||switch",
    "Chauffe|sensor|heater|Pilotage du chauffe-eau|enum|||enum=fault,over_temp,manual_stop,"
    "manual_force,boost,legionella,keep_warm,routing",
    "AnomalieAnalogique|binary_sensor|statusbyte|Anomalie mesure (ADC)|problem|||bit=16",
    "AnomalieCadence|binary_sensor|statusbyte|Anomalie cadence d'acquisition|problem|||bit=32",
    "AnomalieZeroSecteur|binary_sensor|statusbyte|Passage à zéro parasite|problem|||bit=64",
    "SecteurPerdu|binary_sensor|statusbyte|Synchronisation secteur perdue|problem|||bit=128",
)



def device_id(chip_id):
    return "maxpv" + chip_id


def discovery(row, base, prefix, dev_id, device, origin):
    """(topic, JSON payload) announcing one ENTITIES row to Home Assistant. device: the
    device block (identifiers, name, model...) and origin (this firmware), the same in every
    entity. Full key names, not HA's abbreviations: they are sent once a connection."""
    oid, comp, topic, name, dcls, scls, unit, more = row.split("|")
    d = {"name": name, "unique_id": dev_id + oid, "state_topic": base + "/" + topic,
         "availability_topic": base + "/" + STATE, "payload_available": "connected",
         "payload_not_available": "disconnected", "device": device, "origin": origin}
    if dcls:
        d["device_class"] = dcls
    if scls:
        d["state_class"] = scls
    if unit:
        d["unit_of_measurement"] = unit
    kind, _, arg = more.partition("=")
    if kind == "select":
        # the mode number as the select shows it (the original's template)
        d["command_topic"] = base + "/" + topic + "/set"
        d["options"] = ["force", "auto", "stop"]
        d["value_template"] = ("{% if value == '0' %}stop{% elif value == '1' %}force"
                               "{% else %}auto{% endif %}")
    elif kind == "switch":
        d["command_topic"] = base + "/" + topic + "/set"
        d["payload_on"] = "on"
        d["payload_off"] = "off"
    elif kind == "none":
        d["value_template"] = "{{ None if value == '%s' else value }}" % arg
    elif kind == "enum":
        d["options"] = arg.split(",")
    elif kind == "running":
        d["payload_on"] = "running"
        d["payload_off"] = "offline"
    elif kind == "bit":
        d["value_template"] = ("{{ 'ON' if (value | int(0, 2)) | bitwise_and(%s) else 'OFF' }}"
                               % arg)
        d["entity_category"] = "diagnostic"
    return "%s/%s/%s/%s/config" % (prefix, comp, dev_id, oid), json.dumps(d)
