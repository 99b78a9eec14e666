// Administration (the original's admin page): the router's configuration generated from the
// firmware's configmaxpv table, the admin password, export/import, reboot, factory reset and
// versions. Only the keys the user changed are sent, so a save cannot overwrite what another
// client changed meanwhile, and the router's answer (which names the settings that wait for a
// reboot) is shown as it is.
import { t, addStrings } from "./i18n.js";
import { h, toast, confirmAction } from "./dom.js";
import * as api from "./api.js";
import { IP, HOST, NAME, okWpa, okAddr, okTopic, okHhmm } from "./checks.js";

addStrings({
  "adm.g.wifi": ["Wi-Fi", "Wi-Fi"],
  "adm.g.net": ["Réseau", "Network"],
  "c.wifi_ssid": ["Réseau Wi-Fi (SSID)", "Wi-Fi network (SSID)"],
  "c.wifi_pass": ["Mot de passe Wi-Fi", "Wi-Fi password"],
  "c.ap_after_min": ["Point d'accès de configuration après (min sans réseau)", "Setup access point after (min without the network)"],
  "c.ap_timeout_min": ["Fermeture du point d'accès après (min, 0 : jamais)", "Close the access point after (min, 0: never)"],
  "c.watchdogwifi_active": ["Chien de garde Wi-Fi (redémarre le Wi-Fi après 10 min sans réponse du DNS)", "Wi-Fi watchdog (restarts the Wi-Fi after 10 min without an answer from the DNS)"],
  "adm.wpa": ["8 à 63 caractères, ou vide (réseau ouvert)", "8 to 63 characters, or empty (open network)"],
  "adm.e.wpa": ["8 à 63 caractères (WPA2), ou vide pour un réseau ouvert", "8 to 63 characters (WPA2), or empty for an open network"],
  "adm.g.mqtt": ["MQTT", "MQTT"],
  "adm.g.boost": ["Boost", "Boost"],
  "adm.g.relayplus": ["RelayPlus", "RelayPlus"],
  "adm.g.temp": ["Température, maintien, anti-légionelle", "Temperature, keep-warm, anti-legionella"],
  "adm.g.api": ["Modes et API", "Modes and API"],
  "adm.g.other": ["Autres réglages", "Other settings"],
  "adm.g.remote": ["Relais distant", "Remote relay"],
  "adm.g.time": ["Heure", "Time"],
  "c.time_zone": ["Fuseau horaire", "Time zone"],
  "c.ntp_servers": ["Serveurs de temps (NTP), séparés par des virgules", "Time servers (NTP), comma separated"],
  "o.Europe/Paris": ["Europe/Paris (heure légale, été et hiver)", "Europe/Paris (civil time, summer and winter)"],
  "o.UTC": ["UTC (heure solaire de MaxPV! 3.1)", "UTC (MaxPV! 3.1's solar time)"],
  "o.3.1": ["MaxPV! 3.1 (26 valeurs)", "MaxPV! 3.1 (26 values)"],
  "o.3.60": ["MaxPV! 3.60 (29 valeurs)", "MaxPV! 3.60 (29 values)"],
  "adm.e.servers": ["Noms ou adresses, « :port » facultatif, séparés par des virgules", "Names or addresses, optional ':port', comma separated"],
  "c.dhcp": ["Adresse automatique (DHCP)", "Automatic address (DHCP)"],
  "c.ip": ["Adresse IP fixe", "Static IP address"],
  "c.subnet": ["Masque de sous-réseau", "Subnet mask"],
  "c.gateway": ["Passerelle", "Gateway"],
  "c.dns1": ["DNS primaire", "Primary DNS"],
  "c.dns2": ["DNS secondaire", "Secondary DNS"],
  "c.hostname": ["Nom sur le réseau (nom.local)", "Network name (name.local)"],
  "c.http_port": ["Port HTTP", "HTTP port"],
  "c.http_names": ["Autres noms du routeur, séparés par des virgules", "Other names of the router, comma separated"],
  "h.http_names": ["Les modifications ne sont acceptées que par l'adresse du routeur, nom.local ou ces noms (votre nom DNS, un proxy).",
    "Changes are accepted only through the router's address, name.local or these names (your own DNS name, a proxy)."],
  "adm.e.names": ["Noms d'hôte séparés par des virgules, ou vide", "Host names separated by commas, or empty"],
  "c.mqtt_active": ["MQTT actif", "MQTT enabled"],
  "c.mqtt_ip": ["Adresse du broker (IP ou nom)", "Broker address (IP or name)"],
  "c.mqtt_port": ["Port du broker", "Broker port"],
  "c.mqtt_user": ["Utilisateur", "User"],
  "c.mqtt_pass": ["Mot de passe", "Password"],
  "c.mqtt_period": ["Période de publication (s)", "Publishing period (s)"],
  "c.mqtt_topic": ["Topic de base (deux routeurs : deux topics)", "Base topic (two routers: two topics)"],
  "c.mqtt_discovery": ["Découverte Home Assistant", "Home Assistant discovery"],
  "c.mqtt_ha_prefix": ["Préfixe de découverte Home Assistant", "Home Assistant discovery prefix"],
  "adm.e.addr": ["Adresse IPv4 ou nom d'hôte attendu", "An IPv4 address or a host name is expected"],
  "adm.e.topic": ["Niveaux de lettres, chiffres, « - », « _ » ou « . » séparés par « / » (ni + ni #)",
    "Levels of letters, digits, '-', '_' or '.' separated by '/' (no + or #)"],
  "mq.off": ["MQTT désactivé.", "MQTT is off."],
  "mq.waiting": ["En attente du réseau.", "Waiting for the network."],
  "mq.connecting": ["Connexion à {broker}…", "Connecting to {broker}…"],
  "mq.connected": ["Connecté à {broker} depuis {since} s ({published} messages publiés).",
    "Connected to {broker} for {since} s ({published} messages published)."],
  "mq.refused": ["Refusé par {broker} : {error}. Vérifiez l'utilisateur et le mot de passe.",
    "Refused by {broker}: {error}. Check the user and password."],
  "mq.unreachable": ["Broker injoignable : {error}.", "Broker unreachable: {error}."],
  "mq.error": ["Erreur du routeur : {error}.", "Router error: {error}."],
  "mq.retry": [" Nouvel essai dans {n} s.", " Next attempt in {n} s."],
  "c.boost_duration": ["Durée du boost (min)", "Boost duration (min)"],
  "c.boost_ratio": ["Puissance du boost (%)", "Boost power (%)"],
  "c.boost_timer_active": ["Boost programmé chaque jour", "Daily boost timer"],
  "c.boost_timer_hour": ["Heure du boost programmé", "Daily boost hour"],
  "c.boost_timer_minute": ["Minute du boost programmé", "Daily boost minute"],
  "c.RelayPlus_active": ["RelayPlus actif", "RelayPlus enabled"],
  "c.RelayPlus_min": ["Marche minimale par jour (min)", "Minimum on time per day (min)"],
  "c.RelayPlus_max": ["Marche maximale par jour (min)", "Maximum on time per day (min)"],
  "c.RelayPlus_hour": ["Heure du bilan quotidien", "Daily check hour"],
  "c.temp_limit_active": ["Limiter la température du ballon", "Limit the tank temperature"],
  "c.max_temp": ["Température maximale (°C)", "Maximum temperature (°C)"],
  "c.remoterelay_active": ["Relais distant actif", "Remote relay enabled"],
  "c.remoterelay_ip": ["Adresse IP du relais", "Relay IP address"],
  "c.remoterelay_port": ["Port du relais", "Relay port"],
  "c.remoterelay_on": ["Chemin de mise en marche", "Switch-on path"],
  "c.remoterelay_off": ["Chemin d'arrêt", "Switch-off path"],
  "c.boost_energy_active": ["Boost à objectif d'énergie chaque jour", "Daily energy-target boost"],
  "c.boost_energy_hour": ["Heure du boost à objectif", "Energy-target boost hour"],
  "c.boost_energy_wh": ["Énergie routée visée dans la journée (Wh)", "Routed energy target for the day (Wh)"],
  "c.keepwarm_active": ["Maintien en température", "Keep warm"],
  "c.keepwarm_min": ["Température minimale (°C)", "Minimum temperature (°C)"],
  "c.keepwarm_offpeak": ["Maintien seulement en heures creuses", "Keep warm only in off-peak hours"],
  "c.offpeak_start": ["Début des heures creuses", "Off-peak start"],
  "c.offpeak_end": ["Fin des heures creuses", "Off-peak end"],
  "c.legionella_active": ["Cycle anti-légionelle hebdomadaire", "Weekly anti-legionella cycle"],
  "c.legionella_day": ["Jour du cycle", "Cycle day"],
  "c.legionella_hour": ["Heure du cycle", "Cycle hour"],
  "c.persist_modes": ["Garder les modes SSR et relais au redémarrage", "Keep the SSR and relay modes across a reboot"],
  "c.api_layout": ["Format d'alldata pour les clients MaxPV!", "alldata layout for MaxPV! clients"],
  "h.dhcp": ["L'adresse fixe et les DNS ne servent que sans DHCP.", "The static address and DNS apply only without DHCP."],
  "h.boost_ratio": ["0 : boost refusé ; sous 100 %, par tranches de 5 min", "0: boost refused; below 100 %, in 5-min bursts"],
  "h.boost_energy_active": ["À l'heure dite, chauffe jusqu'à ce que l'énergie routée du jour atteigne l'objectif (au plus jusqu'à minuit).",
    "At that hour, heats until today's routed energy reaches the target (at most until midnight)."],
  "h.temp_limit_active": ["Au-delà du maximum, la résistance est coupée, boost et FORCE compris (reprise 2 °C en dessous).",
    "Above the maximum the heater is off, boost and FORCE included (resumes 2 °C below)."],
  "h.keepwarm_active": ["Chauffe sous la température minimale, jusqu'à 3 °C au-dessus.", "Heats below the minimum temperature, up to 3 °C above it."],
  "h.keepwarm_offpeak": ["Entre le début et la fin des heures creuses ci-dessous.", "Between the off-peak start and end below."],
  "h.legionella_active": ["Une heure à 60 °C, sauf si le ballon l'a déjà fait dans la semaine (thermostat réglé à 60 °C ou plus).",
    "An hour at 60 °C, unless the tank already did this week (thermostat set to 60 °C or more)."],
  "h.persist_modes": ["Sinon le routeur redémarre en AUTO.", "Otherwise the router starts in AUTO."],
  "h.api_layout": ["Ce que lisent les clients de MaxPV! (domotique) ; l'interface web n'en dépend pas.",
    "What MaxPV! clients (home automation) read; the web UI does not depend on it."],
  "h.remoterelay_active": ["Recopie l'état du relais secondaire sur un relais réseau (requête HTTP).",
    "Mirrors the secondary relay on a network relay (HTTP request)."],
  "day.0": ["lundi", "Monday"], "day.1": ["mardi", "Tuesday"], "day.2": ["mercredi", "Wednesday"],
  "day.3": ["jeudi", "Thursday"], "day.4": ["vendredi", "Friday"], "day.5": ["samedi", "Saturday"],
  "day.6": ["dimanche", "Sunday"],
  "rr.off": ["Relais distant désactivé.", "Remote relay is off."],
  "rr.sending": ["Envoi de « {relay} » à {target}…", "Sending '{relay}' to {target}…"],
  "rr.acknowledged": ["{target} a confirmé « {relay} » ({acknowledged} réponses sur {sent} requêtes).",
    "{target} acknowledged '{relay}' ({acknowledged} answers of {sent} requests)."],
  "rr.retrying": ["{target} n'a pas confirmé « {relay} ».", "{target} did not acknowledge '{relay}'."],
  "rr.error": [" Dernière erreur : {error}.", " Last error: {error}."],
  "rr.1": ["marche", "on"],
  "rr.0": ["arrêt", "off"],
  "adm.hhmm": ["heure locale HH:MM", "local time HH:MM"],
  "adm.e.hhmm": ["Heure HH:MM attendue, de 00:00 à 23:59", "A time HH:MM from 00:00 to 23:59 is expected"],
  "adm.secret": ["enregistré (vide : inchangé)", "stored (empty: unchanged)"],
  "adm.secret.clear": ["Effacer le mot de passe enregistré", "Clear the stored password"],
  "adm.range": ["de {min} à {max}", "{min} to {max}"],
  "adm.maxlen": ["{n} caractères au plus", "at most {n} characters"],
  "adm.e.int": ["Nombre entier de {min} à {max} attendu", "A whole number from {min} to {max} is expected"],
  "adm.e.ip": ["Adresse IPv4 attendue, par ex. 192.168.1.10", "An IPv4 address is expected, e.g. 192.168.1.10"],
  "adm.e.len": ["{n} caractères au plus", "At most {n} characters"],
  "adm.e.host": ["Lettres, chiffres et « - » seulement (pas au début ni à la fin)", "Letters, digits and '-' only (not first or last)"],
  "adm.e.path": ["Doit commencer par « / »", "Must start with '/'"],
  "adm.fix": ["Corrigez les champs signalés : rien n'a été envoyé.", "Fix the fields marked: nothing was sent."],
  "adm.save": ["Enregistrer la configuration", "Save the configuration"],
  "adm.nochange": ["Aucune modification à enregistrer.", "No change to save."],
  "adm.changes": ["{n} modification(s) non enregistrée(s)", "{n} unsaved change(s)"],
  "adm.answer": ["Réponse du routeur : {r}", "Router's answer: {r}"],
  "adm.later": ["Ces réglages s'appliqueront au prochain redémarrage.", "These settings apply at the next reboot."],
  "adm.pass": ["Mot de passe administrateur", "Admin password"],
  "adm.pass.help": ["Demandé (utilisateur « admin ») pour toute modification ; la lecture reste libre.",
    "Asked for (user 'admin') before any change; reading stays open."],
  "adm.pass.new": ["Nouveau mot de passe", "New password"],
  "adm.pass.again": ["Confirmez le mot de passe", "Confirm the password"],
  "adm.pass.set": ["Définir le mot de passe", "Set the password"],
  "adm.pass.remove": ["Supprimer le mot de passe", "Remove the password"],
  "adm.pass.remove.q": ["Supprimer le mot de passe ? Tout le monde sur le réseau pourra de nouveau tout modifier.",
    "Remove the password? Anyone on the network will be able to change everything again."],
  "adm.pass.empty": ["Saisissez un mot de passe (ou utilisez « Supprimer »).", "Type a password (or use \"Remove\")."],
  "adm.pass.diff": ["Les deux saisies diffèrent.", "The two entries differ."],
  "adm.pass.long": ["64 caractères au plus.", "At most 64 characters."],
  "adm.pass.done": ["Mot de passe défini : il sera demandé à la prochaine modification.", "Password set: it will be asked for at the next change."],
  "adm.pass.gone": ["Mot de passe supprimé.", "Password removed."],
  "adm.backup": ["Sauvegarde", "Backup"],
  "ota.title": ["Mise à jour du micrologiciel", "Firmware update"],
  "ota.help": ["Un paquet (tools/flash.py bundle FICHIER) est vérifié pendant l'envoi, installé au redémarrage, et remplacé par la version précédente si elle ne démarre pas saine en une minute. Un mot de passe administrateur est nécessaire.",
    "A bundle (tools/flash.py bundle FILE) is checked as it is sent, installed at the reboot, and replaced by the previous version if it does not start healthy within a minute. An admin password is needed."],
  "ota.file": ["Paquet de mise à jour (.bin)", "Update bundle (.bin)"],
  "ota.send": ["Envoyer la mise à jour", "Send the update"],
  "ota.nofile": ["Choisissez d'abord un fichier.", "Choose a file first."],
  "ota.sending": ["Envoi : {p} %", "Sending: {p} %"],
  "ota.state": ["Version {version} en marche ; dernière mise à jour : {state}", "Version {version} running; last update: {state}"],
  "ota.why": [" ({r})", " ({r})"],
  "adm.export": ["Exporter la configuration", "Export the configuration"],
  "adm.import": ["Importer une configuration (fichier .json)", "Import a configuration (.json file)"],
  "adm.import.bad": ["Fichier illisible : ce n'est pas une configuration JSON ({e}).", "Unreadable file: not a JSON configuration ({e})."],
  "adm.system": ["Système", "System"],
  "adm.reboot": ["Redémarrer le routeur", "Reboot the router"],
  "adm.reboot.q": ["Redémarrer le routeur ? Le routage s'interrompt quelques secondes.", "Reboot the router? Routing stops for a few seconds."],
  "adm.rebooting": ["Redémarrage en cours…", "Rebooting…"],
  "adm.back": ["Le routeur est de nouveau en marche.", "The router is back up."],
  "adm.notback": ["Le routeur ne répond pas encore. Si le réseau ou le port a changé, il est à sa nouvelle adresse.",
    "The router does not answer yet. If the network or port changed, it is at its new address."],
  "adm.factory": ["Retour à la configuration d'usine", "Factory reset"],
  "adm.factory.q": ["Toute la configuration (réseau, MQTT, boost, RelayPlus, relais distant) revient aux valeurs d'usine et le routeur redémarre. Sur le boîtier, les réglages réseau sont perdus : il faudra peut-être le rejoindre par son point d'accès de configuration. Les paramètres du routeur, les index d'énergie et le mot de passe sont conservés.",
    "All the configuration (network, MQTT, boost, RelayPlus, remote relay) goes back to factory values and the router reboots. On the board the network settings are lost: you may have to join it through its setup access point. Router parameters, energy indexes and the password are kept."],
  "adm.versions": ["Versions", "Versions"],
  "adm.v.fw": ["Micrologiciel", "Firmware"],
  "adm.v.web": ["Interface web", "Web UI"],
  "adm.v.api": ["API MaxPV!", "MaxPV! API"],
  "st.title": ["Autotest", "Self-test"],
  "st.help": ["Vérifie le câblage et les mesures (environ 12 s) : le SSR est arrêté et le relais basculé arrêt-marche-arrêt, puis leurs modes sont rendus. Il s'est lancé seul au premier démarrage. Le détail de chaque vérification est en anglais.",
    "Checks the wiring and the measurements (about 12 s): the SSR is stopped and the relay switched off-on-off, then their modes are given back. It ran by itself at the first start."],
  "st.run": ["Lancer l'autotest", "Run the self-test"],
  "st.idle": ["Aucun autotest n'a encore eu lieu.", "No self-test has run yet."],
  "st.running": ["Autotest en cours…", "Self-test running…"],
  "st.done.ok": ["Toutes les vérifications jugées sont bonnes.", "All the checks that could be judged passed."],
  "st.done.bad": ["{n} vérification(s) en échec : voyez leur explication.", "{n} check(s) failed: read their explanation."],
  "st.when": ["Fait {s} s après le démarrage.", "Done {s} s after the start."],
  "st.ok": ["OK", "OK"],
  "st.fail": ["Échec", "Failed"],
  "st.unknown": ["Non jugé", "Unknown"],
  "st.expected": ["attendu : {e}", "expected: {e}"],
  "st.c.adc_read": ["Durée d'une lecture de l'ADC", "Time of one ADC read"],
  "st.c.sample_rate": ["Cadence d'échantillonnage", "Sample rate"],
  "st.c.rmt_latency": ["Délai de départ de l'impulsion (RMT)", "Gate pulse start latency (RMT)"],
  "st.c.adc_mid_v": ["Point milieu de l'entrée tension", "Mid-point of the voltage input"],
  "st.c.adc_mid_i": ["Point milieu de l'entrée courant", "Mid-point of the current input"],
  "st.c.zero_crossings": ["Passages à zéro du secteur", "Mains zero crossings"],
  "st.c.mains_voltage": ["Tension du secteur", "Mains voltage"],
  "st.c.ct_idle": ["Courant, SSR arrêté", "Current with the SSR stopped"],
  "st.c.relay": ["Relais", "Relay"],
});

const GROUPS = [
  ["wifi", ["wifi_ssid", "wifi_pass", "ap_after_min", "ap_timeout_min", "watchdogwifi_active"]],
  ["net", ["dhcp", "ip", "subnet", "gateway", "dns1", "dns2", "hostname", "http_names", "http_port"]],
  ["mqtt", ["mqtt_active", "mqtt_ip", "mqtt_port", "mqtt_user", "mqtt_pass", "mqtt_period",
    "mqtt_topic", "mqtt_discovery", "mqtt_ha_prefix"]],
  ["boost", ["boost_duration", "boost_ratio", "boost_timer_active", "boost_timer_hour", "boost_timer_minute",
    "boost_energy_active", "boost_energy_hour", "boost_energy_wh"]],
  ["temp", ["temp_limit_active", "max_temp", "keepwarm_active", "keepwarm_min", "keepwarm_offpeak",
    "offpeak_start", "offpeak_end", "legionella_active", "legionella_day", "legionella_hour"]],
  ["relayplus", ["RelayPlus_active", "RelayPlus_min", "RelayPlus_max", "RelayPlus_hour"]],
  ["remote", ["remoterelay_active", "remoterelay_ip", "remoterelay_port", "remoterelay_on", "remoterelay_off"]],
  ["api", ["persist_modes", "api_layout"]],
  ["time", ["time_zone", "ntp_servers"]],
];
// every key of the table is offered: one that no group names yet goes under "other"
const REST = TABLES.config.map((r) => r.key).filter((k) => !GROUPS.some((g) => g[1].includes(k)));
if (REST.length) GROUPS.push(["other", REST]);
const OFFERED = GROUPS.flatMap((g) => g[1]);
// the link state shown under a group, refreshed every 3 s
const LINES = { mqtt: "mqtt-state", remote: "remoterelay-state" };
// host[:port] entries separated by commas (config.py's "servers")
const SERVER = /^[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})*(:(\d{1,5}))?$/;
const okServer = (x) => {
  const m = SERVER.exec(x.trim());
  return !!m && (!m[3] || (+m[3] >= 1 && +m[3] <= 65535));
};
const SECRETS = TABLES.secrets;
const BY_KEY = Object.fromEntries(TABLES.config.map((r) => [r.key, r]));
const ROWS = OFFERED.map((k) => BY_KEY[k]);
let fields = {};
let loaded = {};
let el = {};
let gen = 0;           // which mount a pending loop belongs to (a language switch re-mounts)

const label = (k) => (t("c." + k).startsWith("c.") ? k : t("c." + k));
const help = (k) => (t("h." + k).startsWith("h.") ? null : t("h." + k));
const opt = (v) => (t("o." + v).startsWith("o.") ? v : t("o." + v));

// a field's value -> {value: what the router stores} or {error}; config.check's rules
function check(r, f) {
  if (r.type === "flag") return { value: f.input.checked ? 1 : 0 };
  const s = f.input.value.trim();
  if (r.type === "int") {
    const [min, max] = r.check;
    const v = Number(s);
    return /^-?\d+$/.test(s) && v >= min && v <= max ? { value: v } : { error: t("adm.e.int", { min, max }) };
  }
  if (r.type === "ip") return IP.test(s) ? { value: s } : { error: t("adm.e.ip") };
  if (r.type === "choice") return { value: f.input.value };
  if (r.type === "hhmm") return okHhmm(s) ? { value: s } : { error: t("adm.e.hhmm") };
  if (r.type === "servers" && !s.split(",").every(okServer)) return { error: t("adm.e.servers") };
  if (r.type === "names" && s && !s.split(",").every((x) => NAME.test(x.trim()))) return { error: t("adm.e.names") };
  const v = f.input.value;                     // text is kept as typed (a password may end in a space)
  if ([...v].length > r.check) return { error: t("adm.e.len", { n: r.check }) };
  if (r.type === "host" && !HOST.test(v)) return { error: t("adm.e.host") };
  if (r.type === "path" && !v.startsWith("/")) return { error: t("adm.e.path") };
  if (r.type === "addr" && !okAddr(v)) return { error: t("adm.e.addr") };
  if (r.type === "topic" && !okTopic(v)) return { error: t("adm.e.topic") };
  if (r.type === "wpa" && !okWpa(v)) return { error: t("adm.e.wpa") };
  return { value: v };
}

// {key: value} of what differs from what the router holds, and whether every field is valid
function changes(mark) {
  const out = {};
  let ok = true;
  for (const r of ROWS) {
    const f = fields[r.key];
    if (f.clear && f.clear.checked) { out[r.key] = ""; continue; }
    if (SECRETS.includes(r.key) && loaded[r.key] === TABLES.secret && f.input.value === "") continue;
    const c = check(r, f);
    if (mark) {
      f.msg.textContent = c.error || "";
      f.msg.className = "result error";
      if (c.error) f.input.setAttribute("aria-invalid", "true");
      else f.input.removeAttribute("aria-invalid");
    }
    if (c.error) ok = false;
    if (c.error || c.value !== loaded[r.key]) out[r.key] = c.value;
  }
  return { out, ok };
}

function showDirty() {
  const { out } = changes(false);
  const n = Object.keys(out).length;
  el.dirty.textContent = n ? t("adm.changes", { n }) : "";
  for (const k in fields) fields[k].box.classList.toggle("dirty", k in out);
}

function fill(cfg) {
  loaded = cfg;
  for (const r of ROWS) {
    const f = fields[r.key];
    const v = cfg[r.key];
    if (r.type === "flag") f.input.checked = v === 1;
    else if (SECRETS.includes(r.key)) {
      f.input.value = v === TABLES.secret ? "" : v;     // the placeholder is never shown as a value
      f.input.placeholder = v === TABLES.secret ? t("adm.secret") : "";
      f.clearBox.hidden = v !== TABLES.secret;
      f.clear.checked = false;
    } else f.input.value = v === undefined ? "" : v;
    f.input.removeAttribute("aria-invalid");
  }
  showDirty();
}

async function load() {
  try {
    fill(JSON.parse(await api.get("configmaxpv")));
  } catch (e) {
    say(el.result, e.message, false);
  }
}

function say(out, text, ok) {
  out.textContent = text;
  out.className = "result " + (ok ? "ok" : "error");
}

// the router's answer to a configmaxpv change, with its message also under the field it names
async function sendConfig(obj, out) {
  for (const k in fields) fields[k].msg.textContent = "";
  say(out, "…", true);     // an earlier answer must not pass for this one
  try {
    const r = (await api.setConfig(obj)).trim();
    say(out, t("adm.answer", { r }) + (/next reboot/.test(r) ? " " + t("adm.later") : ""), true);
    toast(t("sent.ok"));
    await load();
  } catch (e) {
    say(out, t("adm.answer", { r: e.message }), false);
    // the key the message names first (RelayPlus_max ... RelayPlus_min: under max)
    let key = null;
    let at = Infinity;
    for (const r of ROWS) {
      const m = new RegExp("\\b" + r.key + "\\b").exec(e.message);
      if (m && m.index < at) [key, at] = [r.key, m.index];
    }
    if (key) say(fields[key].msg, e.message, false);
  }
}

async function save(e) {
  e.preventDefault();
  const { out, ok } = changes(true);
  if (!ok) return say(el.result, t("adm.fix"), false);
  if (!Object.keys(out).length) return say(el.result, t("adm.nochange"), true);
  await sendConfig(out, el.result);
}

function field(r) {
  const id = "c-" + r.key;
  const f = (fields[r.key] = {});
  const sel = r.type === "choice" ? r.check.map((v) => [v, opt(v)])
    : r.key === "legionella_day" ? [0, 1, 2, 3, 4, 5, 6].map((d) => [d, t("day." + d)]) : null;
  const hint = [sel ? null : r.type === "int" ? t("adm.range", { min: r.check[0], max: r.check[1] })
    : ["str", "path", "host", "servers", "names", "addr", "topic"].includes(r.type) ? t("adm.maxlen", { n: r.check })
      : r.type === "wpa" ? t("adm.wpa") : r.type === "hhmm" ? t("adm.hhmm") : null, help(r.key)]
    .filter((x) => x).join(" · ");
  const hintEl = hint ? h("div", { class: "help", id: id + "-hint" }, hint) : null;
  f.msg = h("div", { id: id + "-msg", class: "result", "aria-live": "polite", "data-testid": "cmsg-" + r.key });
  const common = { id, name: r.key, "data-testid": "cfg-" + r.key, "aria-describedby": id + "-hint " + id + "-msg" };
  if (r.type === "flag") {
    f.input = h("input", { ...common, type: "checkbox", role: "switch" });
    f.box = h("div", { class: "field" }, h("label", { class: "switch", for: id }, f.input, label(r.key)), hintEl, f.msg);
    return f.box;
  }
  if (sel) {
    f.input = h("select", common, sel.map(([v, s]) => h("option", { value: v }, s)));
    f.box = h("div", { class: "field" }, h("label", { for: id }, label(r.key)), f.input, hintEl, f.msg);
    return f.box;
  }
  const attrs = r.type === "int" ? { type: "number", inputmode: "numeric", min: r.check[0], max: r.check[1], step: 1 }
    : r.type === "ip" ? { type: "text", inputmode: "decimal", pattern: IP.source.slice(1, -1), maxlength: 15 }
      : r.type === "hhmm" ? { type: "text", inputmode: "numeric", placeholder: "HH:MM", maxlength: 5 }
      : { type: SECRETS.includes(r.key) ? "password" : "text", maxlength: r.check };
  f.input = h("input", { ...common, ...attrs, autocomplete: SECRETS.includes(r.key) ? "new-password" : "off" });
  f.box = h("div", { class: "field" }, h("label", { for: id }, label(r.key)), f.input, hintEl);
  if (SECRETS.includes(r.key)) {
    f.clear = h("input", { type: "checkbox", id: id + "-clear", "data-testid": "cfg-" + r.key + "-clear" });
    f.clearBox = h("label", { class: "switch", for: id + "-clear", hidden: true }, f.clear, t("adm.secret.clear"));
    f.box.append(f.clearBox);
  }
  f.box.append(f.msg);
  return f.box;
}

async function setPass(e) {
  e.preventDefault();
  const pw = el.pw1.value;
  const problem = !pw ? "adm.pass.empty" : pw !== el.pw2.value ? "adm.pass.diff" : [...pw].length > 64 ? "adm.pass.long" : null;
  if (problem) return say(el.passResult, t(problem), false);
  await passCommand(pw, "adm.pass.done");
}

async function removePass() {
  if (!(await confirmAction(t("adm.pass.remove.q"), t("adm.pass.remove"), t("cancel")))) return;
  await passCommand("", "adm.pass.gone");
}

async function passCommand(pw, done) {
  try {
    await api.setAdminPass(pw);
    // what this browser remembers is now wrong or useless: the next change asks again
    api.forgetPassword();
    el.pw1.value = el.pw2.value = "";
    say(el.passResult, t(done), true);
  } catch (e) {
    say(el.passResult, e.message, false);
  }
}

// the update form: the bundle sent with its progress, then the router's answer and the state
async function otaState() {
  try {
    const s = JSON.parse(await api.get("ota"));
    say(el.otaState, t("ota.state", s) + (s.reason ? t("ota.why", { r: s.reason }) : ""), s.state !== "rolled_back");
  } catch (e) {
    say(el.otaState, e.message, false);
  }
}

async function sendUpdate(ev) {
  ev.preventDefault();
  const file = el.otaFile.files[0];
  if (!file) return say(el.otaResult, t("ota.nofile"), false);
  el.otaBar.value = 0;
  el.otaBar.hidden = false;
  say(el.otaResult, t("ota.sending", { p: 0 }), true);
  try {
    const r = await api.upload(file, (f) => {
      el.otaBar.value = f;
      say(el.otaResult, t("ota.sending", { p: Math.round(100 * f) }), true);
    });
    say(el.otaResult, r.trim(), true);
  } catch (e) {
    say(el.otaResult, e.message, false);
  }
  otaState();
}

async function importFile() {
  const file = el.file.files[0];
  if (!file) return;
  el.file.value = "";
  let obj;
  try {
    obj = JSON.parse(await file.text());
    if (!obj || typeof obj !== "object" || Array.isArray(obj)) throw new Error("{…}");
  } catch (e) {
    return say(el.importResult, t("adm.import.bad", { e: e.message }), false);
  }
  // the router applies what it knows and names what it ignored (a file of another version)
  await sendConfig(obj, el.importResult);
}

// after rebootesp: wait for the router to go, then for it to answer again
async function waitBack(out) {
  say(out, t("adm.rebooting"), true);
  const g = gen;
  const t0 = Date.now();
  let gone = false;
  while (g === gen && Date.now() - t0 < 90000) {
    await new Promise((r) => setTimeout(r, 1000));
    try {
      const p = (await api.get("ping")).trim();
      if ((gone || Date.now() - t0 > 4000) && p === "running") return say(out, t("adm.back"), true);
    } catch (e) {
      gone = true;
    }
  }
  if (g === gen) say(out, t("adm.notback"), false);
}

async function reboot(factory) {
  const what = t(factory ? "adm.factory" : "adm.reboot");
  if (!(await confirmAction(t(factory ? "adm.factory.q" : "adm.reboot.q"), what, t("cancel")))) return;
  try {
    if (factory) await api.action("eraseconfigesp");
    await api.action("rebootesp");
  } catch (e) {
    return say(el.sysResult, e.message, false);
  }
  const g = gen;
  await waitBack(el.sysResult);
  if (g === gen) load();
}

// a link's state in words (MQTT: /api/get?mqtt, the remote relay: ?remoterelay)
const retry = (s) => (s.retry_in !== null && s.retry_in !== undefined ? t("mq.retry", { n: s.retry_in }) : "");
const WORDS = {
  mqtt: (s) => t("mq." + s.state, s) + (s.state !== "connected" ? retry(s) : ""),
  remote: (s) => t("rr." + s.state, { ...s, relay: t("rr." + (s.relay_on ? 1 : 0)) }) +
    (s.last_error ? t("rr.error", { error: s.last_error }) : "") + retry(s),
};

// the MQTT link's and the remote relay's state under their settings, refreshed every 3 s
// while the page is shown
async function linkStates() {
  const g = gen;
  while (g === gen) {
    for (const [k, what] of [["mqtt", "mqtt"], ["remote", "remoterelay"]]) {
      try {
        const s = JSON.parse(await api.get(what));
        if (g !== gen) return;
        say(el[k], WORDS[k](s), !["refused", "unreachable", "error", "retrying"].includes(s.state));
      } catch (e) {
        if (g === gen) say(el[k], e.message, false);
      }
    }
    await new Promise((r) => setTimeout(r, 3000));
  }
}

// the self-test's report (/api/get?selftest): each check marked ok, failed or unknown, with
// the firmware's sentence; refreshed every second while a test runs
const MARK = { true: ["ok", "st.ok", "✓"], false: ["bad", "st.fail", "✗"], null: ["muted", "st.unknown", "?"] };

function showSelftest(r) {
  const bad = r.checks.filter((c) => c.ok === false).length;
  const words = r.state === "idle" ? t("st.idle") : r.state === "running" ? t("st.running")
    : (bad ? t("st.done.bad", { n: bad }) : t("st.done.ok")) + " " + t("st.when", { s: r.uptime });
  say(el.stSummary, words, r.state !== "done" || !bad);
  el.stChecks.replaceChildren(...r.checks.map((c) => {
    const [cls, word, sign] = MARK[c.ok];
    const name = t("st.c." + c.id).startsWith("st.c.") ? c.id : t("st.c." + c.id);
    const value = c.value === null ? "–" : `${c.value} ${c.unit}`;
    return h("li", { "data-testid": "st-" + c.id, "data-ok": String(c.ok) },
      h("strong", { class: cls, "data-testid": "st-mark" }, `${sign} ${t(word)}`), " ", name, ": ", value,
      h("span", { class: "muted" }, " (" + t("st.expected", { e: c.expected }) + ")"),
      h("p", { class: "help" }, c.text));
  }));
  el.stRun.disabled = r.state === "running";
}

async function selftest(run) {
  const g = gen;
  try {
    if (run) say(el.stSummary, (await api.action("selftest")).trim(), true);
    for (;;) {
      const r = JSON.parse(await api.get("selftest"));
      if (g !== gen) return;
      showSelftest(r);
      if (r.state !== "running") return;
      await new Promise((done) => setTimeout(done, 1000));
    }
  } catch (e) {
    if (g === gen) say(el.stSummary, e.message, false);
  }
}

async function versions() {
  const g = gen;
  // the firmware running (versionmaxpv: an update changes it), the UI's own build, and the
  // MaxPV! API both speak
  const rows = [["adm.v.fw", "versionmaxpv"], ["adm.v.web", null, TABLES.version], ["adm.v.api", null, TABLES.api]];
  for (const [k, q, known] of rows) {
    let v = known;
    if (q) try { v = (await api.get(q)).trim(); } catch (e) { v = "–"; }
    if (g !== gen) return;
    el["v-" + k].textContent = v;
  }
}

export default {
  id: "admin",
  title: "nav.admin",
  mount(root) {
    fields = {};
    el = {};
    gen++;
    const sec = (id, title, ...body) => h("section", { "aria-labelledby": "h-adm-" + id },
      h("h2", { id: "h-adm-" + id }, t(title)), ...body);
    root.append(h("div", { class: "pa" },
      h("form", { novalidate: true, onsubmit: save, oninput: showDirty, onchange: showDirty, "data-testid": "config-form" },
        GROUPS.map(([g, keys]) => h("fieldset", null,
          h("legend", null, t("adm.g." + g)),
          h("div", { class: "form-grid" }, keys.map((k) => field(BY_KEY[k]))),
          LINES[g] ? (el[g] = h("div", { class: "result", "aria-live": "polite", "data-testid": LINES[g] })) : null)),
        h("div", { class: "actions sticky" }, h("button", { type: "submit", "data-testid": "config-save" }, t("adm.save")),
          (el.dirty = h("span", { class: "muted", "aria-live": "polite" }))),
        (el.result = h("div", { class: "result", "aria-live": "polite", "data-testid": "config-result" }))),
      sec("pass", "adm.pass", h("p", { class: "help" }, t("adm.pass.help")),
        h("form", { novalidate: true, onsubmit: setPass, class: "form-grid" },
          h("div", { class: "field" }, h("label", { for: "adm-pw1" }, t("adm.pass.new")),
            (el.pw1 = h("input", { id: "adm-pw1", type: "password", autocomplete: "new-password", maxlength: 64 }))),
          h("div", { class: "field" }, h("label", { for: "adm-pw2" }, t("adm.pass.again")),
            (el.pw2 = h("input", { id: "adm-pw2", type: "password", autocomplete: "new-password", maxlength: 64 }))),
          h("div", { class: "actions" }, h("button", { type: "submit", "data-testid": "pass-set" }, t("adm.pass.set")),
            h("button", { type: "button", class: "ghost", "data-testid": "pass-remove", onclick: removePass }, t("adm.pass.remove")))),
        (el.passResult = h("div", { class: "result", "aria-live": "polite", "data-testid": "pass-result" }))),
      sec("backup", "adm.backup",
        h("div", { class: "actions" }, h("a", { class: "button", href: "/DLconfig", download: "config.json", "data-testid": "export" }, t("adm.export"))),
        h("div", { class: "field" }, h("label", { for: "adm-file" }, t("adm.import")),
          (el.file = h("input", { id: "adm-file", type: "file", accept: ".json,application/json", onchange: importFile }))),
        (el.importResult = h("div", { class: "result", "aria-live": "polite", "data-testid": "import-result" }))),
      sec("ota", "ota.title", h("p", { class: "help" }, t("ota.help")),
        h("form", { novalidate: true, onsubmit: sendUpdate, "data-testid": "ota-form" },
          h("div", { class: "field" }, h("label", { for: "adm-ota" }, t("ota.file")),
            (el.otaFile = h("input", { id: "adm-ota", type: "file", accept: ".bin,application/octet-stream", "data-testid": "ota-file" }))),
          h("div", { class: "actions" }, h("button", { type: "submit", "data-testid": "ota-send" }, t("ota.send")),
            (el.otaBar = h("progress", { max: 1, value: 0, hidden: true, "data-testid": "ota-progress" })))),
        (el.otaResult = h("div", { class: "result", "aria-live": "polite", "data-testid": "ota-result" })),
        (el.otaState = h("div", { class: "result", "aria-live": "polite", "data-testid": "ota-state" }))),
      sec("sys", "adm.system",
        h("div", { class: "actions" },
          h("button", { type: "button", class: "ghost", "data-testid": "reboot", onclick: () => reboot(false) }, t("adm.reboot")),
          h("button", { type: "button", class: "danger", "data-testid": "factory", onclick: () => reboot(true) }, t("adm.factory"))),
        (el.sysResult = h("div", { class: "result", "aria-live": "polite", "data-testid": "sys-result" }))),
      sec("st", "st.title", h("p", { class: "help" }, t("st.help")),
        h("div", { class: "actions" },
          (el.stRun = h("button", { type: "button", class: "ghost", "data-testid": "selftest-run", onclick: () => selftest(true) }, t("st.run")))),
        (el.stSummary = h("div", { class: "result", "aria-live": "polite", "data-testid": "selftest-summary" })),
        (el.stChecks = h("ul", { class: "checks", "data-testid": "selftest-checks" }))),
      sec("ver", "adm.versions", h("table", { class: "grid" }, h("tbody", null,
        ["adm.v.fw", "adm.v.web", "adm.v.api"].map((k) => h("tr", null, h("th", { scope: "row" }, t(k)),
          (el["v-" + k] = h("td", { "data-testid": k.replace("adm.", "") }, "–")))))))));
    load();
    versions();
    otaState();
    selftest(false);
    linkStates();
  },
  unmount() {
    gen++;
  },
};
