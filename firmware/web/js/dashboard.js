// Home: the power flow, the measurements, today's energies, the SSR and relay controls with
// the result of each command, and the router's status in words. Updated every second.
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
  "status.ROUTING": ["routage en cours", "routing"],
  "status.FULL": ["routage à 100 %", "routing at 100 %"],
  "status.RELAY": ["relais secondaire en marche", "secondary relay on"],
  "status.EXPORTING": ["injection sur le réseau", "exporting to the grid"],
  "status.ANALOG": ["mesure analogique hors plage (capteur ?)", "analog reading out of range (sensor?)"],
  "status.RATE": ["échantillonnage perturbé", "sampling disturbed"],
  "status.ZC_SPURIOUS": ["passages par zéro parasites", "spurious zero crossings"],
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
  el.temp.parentNode.hidden = temp === null || temp <= -99;
  el.temp.textContent = num(temp, 1) + " °C";
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
  el.uptime.textContent = s.data[20];
  el.time.textContent = s.clock === "synced" ? s.time : t("dash.unsynced", { up: s.time });
  el.samples.textContent = num(d(22), 0) + " /s";
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
    root.append(
      h("section", { "aria-labelledby": "h-flow" }, h("h2", { id: "h-flow" }, t("dash.flow")),
        h("div", { class: "cards" }, card("grid", "dash.grid"), card("pv", "dash.pv"),
          card("routed", "dash.routed"), card("house", "dash.house"))),
      (el.absent = h("p", { class: "warn", hidden: true }, t("dash.absent"))),
      h("section", { "aria-labelledby": "h-ctl" }, h("h2", { id: "h-ctl" }, t("dash.controls")),
        h("div", { class: "cards controls" }, control("ssr", "dash.ssr"), control("relay", "dash.relay"))),
      h("div", { class: "columns" },
        h("section", { "aria-labelledby": "h-meas" }, h("h2", { id: "h-meas" }, t("dash.measures")),
          h("table", { class: "grid" }, h("tbody", null, row("vrms", "dash.vrms"), row("irms", "dash.irms"),
            row("cos", "dash.cos"), row("papp", "dash.papp"), row("temp", "dash.temp")))),
        h("section", { "aria-labelledby": "h-en" }, h("h2", { id: "h-en" }, t("dash.energy")), energyTable())),
      h("section", { "aria-labelledby": "h-st" }, h("h2", { id: "h-st" }, t("dash.status")),
        h("table", { class: "grid" }, h("tbody", null, row("status", "dash.activity"),
          row("anomalies", "dash.anomalies"), row("uptime", "dash.uptime"), row("time", "dash.time"),
          row("samples", "dash.samples"), row("network", "dash.network")))));
    unsub = live.subscribe(update);
    network();
    netTimer = setInterval(network, NET_PERIOD_MS);
  },
  unmount() {
    if (unsub) unsub();
    clearInterval(netTimer);
  },
};
