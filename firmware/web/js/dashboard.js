// Home: the power flow, the measurements, today's energies, the SSR and relay controls with
// the result of each command, the water heater (who drives it, the boost) and the router's
// status in words. Updated every second; the heater's state every 2 s while shown.
import { t, num, addStrings } from "./i18n.js";
import { h, toast } from "./dom.js";
import * as api from "./api.js";
import * as live from "./live.js";
import { describe } from "./setup.js";

addStrings({
  "dash.flow": ["Flux de puissance", "Power flow"],
  "dash.grid": ["Réseau", "Grid"],
  "dash.import": ["soutirage", "import"],
  "dash.export": ["injection", "export"],
  "dash.pv": ["Production PV", "PV production"],
  "dash.routed": ["Routé vers le ballon", "Routed to the tank"],
  "dash.house": ["Maison", "House"],
  "dash.nopv": ["pas de compteur PV", "no PV meter"],
  "dash.measures": ["Mesures", "Measurements"],
  "dash.vrms": ["Tension", "Voltage"],
  "dash.irms": ["Courant", "Current"],
  "dash.cos": ["Facteur de puissance", "Power factor"],
  "dash.papp": ["Puissance apparente", "Apparent power"],
  "dash.temp": ["Température du ballon", "Tank temperature"],
  "dash.energy": ["Énergies", "Energies"],
  "dash.today": ["Aujourd'hui", "Today"],
  "dash.total": ["Total", "Total"],
  "dash.e.routed": ["Routée", "Routed"],
  "dash.e.import": ["Soutirée", "Imported"],
  "dash.e.export": ["Injectée", "Exported"],
  "dash.e.pv": ["Produite", "Produced"],
  "dash.e.relay": ["Relais secondaire", "Secondary relay"],
  "dash.controls": ["Commandes", "Controls"],
  "dash.ssr": ["Résistance (SSR)", "Water heater (SSR)"],
  "dash.relay": ["Relais secondaire", "Secondary relay"],
  "dash.state": ["État", "State"],
  "mode.stop": ["STOP", "STOP"],
  "mode.auto": ["AUTO", "AUTO"],
  "mode.force": ["FORCE", "FORCE"],
  "state.STOP": ["arrêté", "stopped"],
  "state.FORCE": ["forcé à fond", "forced full on"],
  "state.ON": ["auto, routage en cours", "auto, routing"],
  "state.MAX": ["auto, routage à 100 %", "auto, routing at 100 %"],
  "state.OFF": ["auto, en attente de surplus", "auto, waiting for surplus"],
  "relay.ON": ["auto, en marche", "auto, on"],
  "relay.OFF": ["auto, à l'arrêt", "auto, off"],
  "dash.cmd": ["{what} → {mode} : {result}", "{what} → {mode}: {result}"],
  "dash.status": ["État du routeur", "Router status"],
  "dash.activity": ["Activité", "Activity"],
  "dash.uptime": ["En marche depuis", "Up for"],
  "dash.time": ["Heure du routeur", "Router time"],
  "dash.unsynced": ["non synchronisée (depuis le démarrage : {up})", "not synchronised (since boot: {up})"],
  "dash.samples": ["Échantillonnage", "Sampling"],
  "dash.network": ["Réseau", "Network"],
  "dash.anomalies": ["Anomalies", "Anomalies"],
  "dash.none": ["aucune", "none"],
  "dash.stale": ["pas de mesure récente : secteur absent ou non synchronisé ; valeurs figées",
    "no recent measurement: mains absent or not synchronised; values frozen"],
  "dash.absent": ["Résistance absente (thermostat ouvert ?)", "Heater absent (thermostat open?)"],
  "dash.storage": ["Mémoire flash : {n} défaut(s) depuis le démarrage, le dernier : {last}. Les sauvegardes échouées sont refaites ; un fichier abîmé est mis de côté et la version précédente utilisée.",
    "Flash storage: {n} fault(s) since boot, the last: {last}. Failed saves are retried; a damaged file is set aside and the previous version used."],
  "dash.safemode": ["Mode sans échec : le routeur est arrêté (SSR et relais coupés). Raison : {reason}. Corrigez la cause, puis redémarrez depuis Administration.",
    "Safe mode: the router is stopped (SSR and relay off). Reason: {reason}. Fix the cause, then reboot from Administration."],
  "status.ROUTING": ["routage en cours", "routing"],
  "status.FULL": ["routage à 100 %", "routing at 100 %"],
  "status.RELAY": ["relais secondaire en marche", "secondary relay on"],
  "status.EXPORTING": ["injection sur le réseau", "exporting to the grid"],
  "status.ANALOG": ["mesure analogique hors plage (capteur ?)", "analog reading out of range (sensor?)"],
  "status.RATE": ["échantillonnage perturbé", "sampling disturbed"],
  "status.ZC_SPURIOUS": ["passages par zéro parasites", "spurious zero crossings"],
  "dash.noprobe": ["— (pas de sonde)", "— (no probe)"],
  "dash.tank": ["Chauffe-eau", "Water heater"],
  "dash.boost": ["Boost", "Boost"],
  "dash.boost.stop": ["Arrêter le boost", "Stop the boost"],
  "dash.boost.on": ["marche", "on"],
  "dash.boost.off": ["arrêt", "off"],
  "dash.boost.left": ["Boost {kind} à {ratio} % : reste {left}", "{kind} boost at {ratio} %: {left} left"],
  "dash.boost.wh": ["Boost {kind} : reste {wh} Wh (au plus {left})", "{kind} boost: {wh} Wh to go (at most {left})"],
  "kind.manual": ["manuel", "manual"],
  "kind.timer": ["programmé", "timer"],
  "kind.energy": ["à objectif d'énergie", "energy-target"],
  "dash.gridheat": ["Pris au réseau pour chauffer", "Taken from the grid to heat"],
  "dash.note": ["Dernier événement", "Last event"],
  "reason.fault": ["Défaut secteur", "Mains fault"],
  "reason.over_temp": ["Limite de température", "Temperature limit"],
  "reason.manual_stop": ["Arrêt manuel", "Manual stop"],
  "reason.manual_force": ["Marche forcée", "Forced on"],
  "reason.boost": ["Boost", "Boost"],
  "reason.legionella": ["Anti-légionelle", "Anti-legionella"],
  "reason.keep_warm": ["Maintien en température", "Keep warm"],
  "reason.routing": ["Routage du surplus", "Surplus routing"],
  "status.SYNC_LOST": ["synchronisation secteur perdue : routage arrêté", "mains sync lost: routing stopped"],
});

const MODES = [["stop", 0], ["auto", 9], ["force", 1]];
const ANOMALIES = 0xf0;
let unsub = null;
let el = {};

function watt(v) {
  return v === null ? "–" : num(v, 0) + " W";
}

function card(id, label) {
  return h("div", { class: "card flow", id: "flow-" + id },
    h("div", { class: "label" }, t(label)),
    (el["flow-" + id] = h("div", { class: "big", "data-testid": "flow-" + id }, "–")),
    (el["flow-" + id + "-sub"] = h("div", { class: "sub" }, "")));
}

function row(id, label) {
  return h("tr", null, h("th", { scope: "row" }, t(label)),
    (el[id] = h("td", { "data-testid": id }, "–")));
}

function control(which, label) {
  const buttons = MODES.map(([m, code]) => h("button", {
    type: "button", class: "mode " + m, "data-mode": m, "data-code": code, "aria-pressed": "false",
    onclick: () => command(which, label, m),
  }, t("mode." + m)));
  el[which + "-buttons"] = buttons;
  return h("div", { class: "card control", role: "group", "aria-label": t(label) },
    h("div", { class: "label" }, t(label)),
    h("div", { class: "modes" }, buttons),
    h("div", null, t("dash.state") + " : ", (el[which + "-state"] = h("strong", { "data-testid": which + "-state" }, "–"))),
    (el[which + "-result"] = h("div", { class: "result", "data-testid": which + "-result", "aria-live": "polite" }, "")));
}

// the heater (/api/get?heater): read every 2 s while the dashboard is shown and the page
// visible; the time left counts down between reads
const HEATER_MS = 2000;
let heat = null;                 // {s: the last answer, at: when}
let gen = 0;                     // which mount a pending read belongs to

function clock(sec) {
  const p = (n) => String(n).padStart(2, "0");
  return sec < 3600 ? p(Math.floor(sec / 60)) + ":" + p(sec % 60) + "\u00a0min"
    : Math.floor(sec / 3600) + ":" + p(Math.floor(sec / 60) % 60) + "\u00a0h";
}

function showHeater() {
  if (!heat) return;
  const s = heat.s;
  const b = s.boost;
  el.reason.textContent = t("reason." + s.reason);
  el.reason.className = "";
  el.boost.textContent = t(b ? "dash.boost.stop" : "dash.boost");
  el.boost.className = "boost" + (b ? " ghost" : "");
  if (b) {
    const left = clock(Math.max(0, Math.round(b.left_s - (Date.now() - heat.at) / 1000)));
    const v = { kind: t("kind." + b.kind), ratio: b.ratio, left, wh: num(b.left_wh, 0) };
    el.boostLeft.textContent = t(b.kind === "energy" ? "dash.boost.wh" : "dash.boost.left", v);
  } else el.boostLeft.textContent = "";
  el.gridheat.textContent = num(s.grid_heat_kwh, 3) + " kWh";
  el.note.textContent = s.note ? t("dash.note") + " : " + s.note : "";
}

async function readHeater(g) {
  try {
    const s = JSON.parse(await api.get("heater"));
    if (g !== gen) return;
    heat = { s, at: Date.now() };
    showHeater();
  } catch (e) {
    if (g !== gen) return;
    heat = null;
    el.reason.textContent = e.message;
    el.reason.className = "bad";
  }
}

async function heaterLoop(g) {
  while (g === gen) {
    if (!document.hidden) await readHeater(g);
    await new Promise((r) => setTimeout(r, HEATER_MS));
  }
}

async function boost() {
  const on = !!(heat && heat.s.boost);
  const out = el.boostResult;
  let result;
  try {
    result = await api.action(on ? "boostoff" : "booston");
    out.className = "result ok";
    toast(t("sent.ok"));
  } catch (e) {
    result = e.message;
    out.className = "result error";
  }
  out.textContent = t("dash.cmd", { what: t("dash.boost"), mode: t(on ? "dash.boost.off" : "dash.boost.on"), result: result.trim() });
  readHeater(gen);
  live.refresh();
}

function heaterCard() {
  return h("div", { class: "card control", role: "group", "aria-label": t("dash.tank") },
    h("div", { class: "label" }, t("dash.tank")),
    (el.reason = h("strong", { "data-testid": "heater-reason" }, "–")),
    (el.boost = h("button", { type: "button", class: "boost", "data-testid": "boost", onclick: boost }, t("dash.boost"))),
    (el.boostLeft = h("div", { "data-testid": "boost-left" }, "")),
    (el.boostResult = h("div", { class: "result", "data-testid": "boost-result", "aria-live": "polite" }, "")),
    h("div", { class: "sub" }, t("dash.gridheat") + " : ", (el.gridheat = h("span", { "data-testid": "grid-heat" }, "–"))),
    (el.note = h("div", { class: "sub", "data-testid": "heater-note" }, "")));
}

async function command(which, label, mode) {
  const out = el[which + "-result"];
  let result;
  try {
    result = await api.setMode(which + "mode", mode);
    out.className = "result ok";
    toast(t("sent.ok"));
  } catch (e) {
    result = e.message;
    out.className = "result error";
  }
  out.textContent = t("dash.cmd", { what: t(label), mode: t("mode." + mode), result: result.trim() });
  live.refresh();
}

function energyTable() {
  const rows = [["routed", 9, 23], ["import", 10, 24], ["export", 11, 25], ["pv", 12, 26]];
  return h("table", { class: "grid" },
    h("thead", null, h("tr", null, h("th"), h("th", { scope: "col" }, t("dash.today")),
      h("th", { scope: "col" }, t("dash.total")))),
    h("tbody", null, rows.map(([k]) => h("tr", null, h("th", { scope: "row" }, t("dash.e." + k)),
      (el["e-day-" + k] = h("td", { "data-testid": "e-day-" + k }, "–")),
      (el["e-tot-" + k] = h("td", { "data-testid": "e-tot-" + k }, "–")))),
    h("tr", null, h("th", { scope: "row" }, t("dash.e.relay")), h("td"),
      (el["e-relay"] = h("td", { "data-testid": "e-relay" }, "–")))));
}

function update(s) {
  if (s.error || !s.data) return;
  const d = (n) => live.num(s, n);
  const grid = d(3);
  const pv = d(13);
  const routed = d(5);
  el["flow-grid"].textContent = watt(grid === null ? null : Math.abs(grid));
  el["flow-grid-sub"].textContent = grid === null ? "" : t(grid >= 0 ? "dash.import" : "dash.export");
  el["flow-grid"].parentNode.dataset.dir = grid > 0 ? "import" : "export";
  const meter = pv !== null && (pv > 0 || d(12) > 0);
  el["flow-pv"].textContent = meter ? watt(pv) : "–";
  el["flow-pv-sub"].textContent = meter ? "" : t("dash.nopv");
  el["flow-routed"].textContent = watt(routed);
  el["flow-house"].textContent = meter ? watt(grid + pv - routed) : "–";
  el.vrms.textContent = num(d(1), 1) + " V";
  el.irms.textContent = num(d(2), 2) + " A";
  el.cos.textContent = num(d(8), 3);
  el.papp.textContent = num(d(4), 0) + " VA";
  const temp = d(28);
  el.temp.textContent = temp === null ? "–" : temp <= -99 ? t("dash.noprobe") : num(temp, 1) + " °C";
  for (const [k, n, ref] of [["routed", 9, 23], ["import", 10, 24], ["export", 11, 25], ["pv", 12, 26]]) {
    const tot = d(n);
    const day = d(ref) === null || tot === null ? null : tot - d(ref);
    el["e-day-" + k].textContent = num(day, 3) + " kWh";
    el["e-tot-" + k].textContent = num(tot, 3) + " kWh";
  }
  el["e-relay"].textContent = num(d(27), 0) + " min";
  for (const [which, n, words] of [["ssr", 14, "state."], ["relay", 15, "relay."]]) {
    const code = d(n);
    for (const b of el[which + "-buttons"]) b.setAttribute("aria-pressed", String(+b.dataset.code === code));
    const st = s[which];
    el[which + "-state"].textContent = st + " (" + t((st === "STOP" || st === "FORCE" ? "state." : words) + st) + ")";
  }
  const status = parseInt(s.data[19], 2) || 0;
  const bits = TABLES.status.filter((b) => status & b.bit);
  const bad = bits.filter((b) => b.bit & ANOMALIES);
  el.status.textContent = bits.filter((b) => !(b.bit & ANOMALIES)).map((b) => t("status." + b.name)).join(", ") || "–";
  el.anomalies.textContent = !s.online ? t("dash.stale")
    : bad.length ? bad.map((b) => t("status." + b.name)).join(", ") : t("dash.none");
  el.anomalies.className = bad.length || !s.online ? "bad" : "";
  el.absent.hidden = d(29) !== 1;
  storage(d(30) || 0);
  el.uptime.textContent = s.data[20];
  el.time.textContent = s.clock === "synced" ? s.time : t("dash.unsynced", { up: s.time });
  el.samples.textContent = num(d(22), 0) + " /s";
  showHeater();
}

// the flash's faults (data 30): what they were is read only when their count changes
let storageSeen = 0;
async function storage(n) {
  el.storage.hidden = n === 0;
  if (n === storageSeen) return;
  const cell = el.storage;
  try {
    const r = JSON.parse(await api.get("storage")).recent;
    const last = r.length ? r[r.length - 1].record + ": " + r[r.length - 1].what : "–";
    cell.textContent = t("dash.storage", { n, last });
    storageSeen = n;
  } catch (e) {
    cell.textContent = t("dash.storage", { n, last: "–" });     // read again next second
  }
}

// safe mode (/api/get?safemode): why the router is stopped; read once, when the page opens
async function safemode() {
  const cell = el.safemode;
  try {
    const s = JSON.parse(await api.get("safemode"));
    if (el.safemode !== cell || !s.active) return;
    cell.textContent = t("dash.safemode", { reason: s.reason });
    cell.hidden = false;
  } catch (e) {
    // a firmware without it, or not answering: nothing to say
  }
}

// where the router is on the network: it changes seldom, so every 10 s, not with alldata
const NET_PERIOD_MS = 10000;
let netTimer = null;

async function network() {
  const cell = el.network;
  try {
    const n = JSON.parse(await api.get("network"));
    if (el.network === cell) cell.textContent = describe(n);
  } catch (e) {
    if (el.network === cell) cell.textContent = "–";
  }
}

export default {
  id: "dashboard",
  title: "nav.dashboard",
  mount(root) {
    el = {};
    storageSeen = 0;
    root.append(
      (el.safemode = h("p", { class: "warn", hidden: true, "data-testid": "safemode" }, "")),
      h("section", { "aria-labelledby": "h-flow" }, h("h2", { id: "h-flow" }, t("dash.flow")),
        h("div", { class: "cards" }, card("grid", "dash.grid"), card("pv", "dash.pv"),
          card("routed", "dash.routed"), card("house", "dash.house"))),
      (el.absent = h("p", { class: "warn", hidden: true }, t("dash.absent"))),
      (el.storage = h("p", { class: "warn", hidden: true, "data-testid": "storage" }, "")),
      h("section", { "aria-labelledby": "h-ctl" }, h("h2", { id: "h-ctl" }, t("dash.controls")),
        h("div", { class: "cards controls" }, control("ssr", "dash.ssr"), control("relay", "dash.relay"), heaterCard())),
      h("div", { class: "columns" },
        h("section", { "aria-labelledby": "h-meas" }, h("h2", { id: "h-meas" }, t("dash.measures")),
          h("table", { class: "grid" }, h("tbody", null, row("vrms", "dash.vrms"), row("irms", "dash.irms"),
            row("cos", "dash.cos"), row("papp", "dash.papp"), row("temp", "dash.temp")))),
        h("section", { "aria-labelledby": "h-en" }, h("h2", { id: "h-en" }, t("dash.energy")), energyTable())),
      h("section", { "aria-labelledby": "h-st" }, h("h2", { id: "h-st" }, t("dash.status")),
        h("table", { class: "grid" }, h("tbody", null, row("status", "dash.activity"),
          row("anomalies", "dash.anomalies"), row("uptime", "dash.uptime"), row("time", "dash.time"),
          row("samples", "dash.samples"), row("network", "dash.network")))));
    heat = null;
    heaterLoop(++gen);
    unsub = live.subscribe(update);
    network();
    safemode();
    netTimer = setInterval(network, NET_PERIOD_MS);
  },
  unmount() {
    if (unsub) unsub();
    clearInterval(netTimer);
    gen++;
  },
};
