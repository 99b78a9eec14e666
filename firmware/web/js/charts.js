// Charts: live strips from the poller's ring (the last 10 minutes, one point a second) and the
// 30-minute history the router keeps for 4 days. Colours are read from app.css's variables at
// build time, and the charts are rebuilt when the theme changes, so dark mode needs no copy.
import uPlot from "uplot";
import { t, num, getLang, addStrings } from "./i18n.js";
import { h } from "./dom.js";
import * as api from "./api.js";
import * as live from "./live.js";

addStrings({
  "ch.live": ["Temps réel", "Live"],
  "ch.live.note": ["Les 10 dernières minutes, un point par seconde.", "The last 10 minutes, one point a second."],
  "ch.power": ["Bilan de puissance (W)", "Power balance (W)"],
  "ch.power.note": ["Réseau : soutirage au-dessus de zéro, injection en dessous.",
    "Grid: import above zero, export below."],
  "ch.vrms": ["Tension (V)", "Voltage (V)"],
  "ch.delays": ["Retards de déclenchement du SSR (ms)", "SSR firing delays (ms)"],
  "ch.delays.note": ["Après le passage par zéro ; vide quand le routeur ne régule pas.",
    "After the zero crossing; empty while the router is not regulating."],
  "ch.history": ["Historique", "History"],
  "ch.hpower": ["Historique des puissances (W)", "Power history (W)"],
  "ch.hpower.note": ["Puissances moyennes par 30 min, sur 4 jours au plus, conservées au redémarrage.",
    "Average powers per 30 min, over up to 4 days, kept across restarts."],
  "ch.hrelay": ["Historique du relais secondaire (%)", "Secondary relay history (%)"],
  "ch.hrelay.note": ["Part de chaque demi-heure où le relais était en marche.",
    "Share of each half hour the relay was on."],
  "ch.zoom": ["Glisser sur le graphique pour zoomer, double-cliquer pour revenir.",
    "Drag across the chart to zoom in, double-click to zoom out."],
  "ch.empty": ["Pas encore d'historique : le premier point arrive dans l'heure (un par demi-heure, l'heure du routeur étant réglée).",
    "No history yet: the first point comes within the hour (one per half hour, once the router's clock is set)."],
  "ch.failed": ["Historique indisponible : {msg}", "History unavailable: {msg}"],
  "s.time": ["Heure", "Time"],
  "s.import": ["Soutirage", "Import"],
  "s.export": ["Injection", "Export"],
  "s.pv": ["Production PV", "PV"],
  "s.routed": ["Routage", "Routed"],
  "s.vrms": ["Tension", "Voltage"],
  "s.dmin": ["min", "min"],
  "s.davg": ["moyen", "avg"],
  "s.dmax": ["max", "max"],
  "s.relay": ["Relais", "Relay"],
});

const HISTORY_MS = 60000;
const HM = { hour: "2-digit", minute: "2-digit" };
const HMS = { ...HM, second: "2-digit" };
const DM = { day: "2-digit", month: "2-digit" };
let charts = [];
let cleanup = [];

const date = (s, o) => new Date(s * 1000).toLocaleString(getLang() === "fr" ? "fr-FR" : "en-GB", o);
const fade = (c, a) => (/^#[0-9a-f]{6}$/i.test(c) ? c + a : c);
const clip = (f) => (v) => (v === null ? null : f(v, 0));

function colors() {
  const cs = getComputedStyle(document.documentElement);
  const c = {};
  for (const k of ["import", "export", "pv", "routed", "muted", "line", "accent", "warn", "bad"]) {
    c[k] = cs.getPropertyValue("--" + k).trim();
  }
  return c;
}

function axis(c, values) {
  return { stroke: c.muted, grid: { stroke: c.line, width: 1 }, ticks: { stroke: c.line, width: 1 }, values };
}

// Time labels in the page's language, 24 h; the history also says which day (first label and
// each change of day), since it spans several.
function timeAxis(c, dated) {
  const a = axis(c, (u, splits, ai, space, incr) => {
    let prev = null;
    return splits.map((s) => {
      const day = date(s, DM);
      const time = incr >= 86400 ? "" : date(s, incr < 60 ? HMS : HM);
      const lbl = dated && day !== prev ? (time ? day + "\n" + time : day) : time || day;
      prev = day;
      return lbl;
    });
  });
  a.space = 70;
  // whole seconds at least: the points are a second apart
  a.incrs = [1, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800];
  if (dated) a.size = 52;
  return a;
}

function valueAxis(c) {
  const a = axis(c, (u, splits, ai, space, incr) =>
    splits.map((v) => num(v, incr >= 1 ? 0 : Math.min(3, Math.ceil(-Math.log10(incr))))));
  // wide enough for the longest label ("231,10", "-1 500"), narrow enough for a phone
  a.size = (u, vals) => 20 + 7 * Math.max(3, ...(vals || []).map((v) => v.length));
  return a;
}

function series(label, color, dec, unit, fill) {
  return {
    label: t(label), stroke: color, width: 1.5, fill, points: { show: false },
    value: (u, v) => (v === null || v === undefined ? "–" : num(v, dec) + " " + unit),
  };
}

// Each history point stands for the half hour before it: the whole view gets a quarter hour
// of margin so the end bars are not cut in half (and a lone point gets a sensible span, not
// uPlot's default of 1000 days for seconds); a zoomed view is left as the user chose it.
function halfSlot(u, lo, hi) {
  const d = u.data[0];
  const a = d[0];
  const b = d[d.length - 1];
  return d.length && lo <= a && hi >= b ? [a - 900, b + 900] : [lo, hi];
}

function options(c, ch) {
  const hist = ch.key[0] === "h";
  return {
    scales: { x: { time: true, range: hist ? halfSlot : undefined }, y: ch.range ? { range: ch.range } : {} },
    series: [{ label: t("s.time"), value: (u, v) => (v === null ? "–" : date(v, hist ? { ...DM, ...HM } : HMS)) },
      ...ch.series(c)],
    axes: [timeAxis(c, hist), valueAxis(c)],
    // live charts are redrawn every second, which would undo a zoom at once
    cursor: { drag: { x: hist, y: false }, sync: { key: hist ? "h" : "l" } },
  };
}

function contentWidth(fig) {
  const cs = getComputedStyle(fig);
  return Math.max(200, Math.floor(fig.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight)));
}

const heightFor = (w, hist) => Math.round(Math.min(280, Math.max(170, w * 0.35)) + (hist ? 30 : 0));

function build(ch, c) {
  if (ch.u) ch.u.destroy();
  const w = contentWidth(ch.fig);
  ch.u = new uPlot({ ...options(c, ch), width: w, height: heightFor(w, ch.key[0] === "h") }, ch.data, ch.plot);
  ch.fig.chart = ch.u; // the UI tests read the instance off its figure
}

function figure(ch, title, note) {
  ch.plot = h("div", { class: "plot" });
  ch.msg = h("p", { class: "msg", role: "status", hidden: true });
  ch.fig = h("figure", { class: "chart", "data-chart": ch.key },
    h("figcaption", null, h("h3", null, t(title)), note && h("p", { class: "ch-note" }, note)), ch.msg, ch.plot);
  ch.data = ch.pick ? ch.pick() : [[], ...ch.series({}).map(() => [])];
  charts.push(ch);
  return ch.fig;
}

function liveFigures() {
  const r = live.ring;
  return [
    figure({
      key: "power",
      series: (c) => [series("s.import", c.import, 0, "W", fade(c.import, "22")),
        series("s.export", c.export, 0, "W", fade(c.export, "22")),
        series("s.pv", c.pv, 0, "W", fade(c.pv, "22")), series("s.routed", c.routed, 0, "W")],
      pick: () => [r.t.slice(), r.grid.map(clip(Math.max)), r.grid.map(clip(Math.min)), r.pv.slice(), r.routed.slice()],
    }, "ch.power", t("ch.power.note")),
    figure({
      key: "vrms",
      series: (c) => [series("s.vrms", c.accent, 1, "V")],
      pick: () => [r.t.slice(), r.vrms.slice()],
    }, "ch.vrms"),
    figure({
      key: "delays",
      // a half cycle is 10 ms at 50 Hz: a fixed scale shows where the firing sits in it
      range: [0, 10],
      series: (c) => [series("s.dmin", c.routed, 2, "ms"), series("s.davg", c.warn, 2, "ms"),
        series("s.dmax", c.bad, 2, "ms")],
      pick: () => [r.t.slice(), r.dmin.slice(), r.davg.slice(), r.dmax.slice()],
    }, "ch.delays", t("ch.delays.note")),
  ];
}

function historyFigures() {
  const zoom = " " + t("ch.zoom");
  return [
    figure({
      key: "hpower", which: "power",
      series: (c) => [series("s.import", c.import, 0, "W", fade(c.import, "33")),
        series("s.export", c.export, 0, "W", fade(c.export, "33")),
        series("s.pv", c.pv, 0, "W", fade(c.pv, "44")), series("s.routed", c.routed, 0, "W", fade(c.routed, "33"))],
    }, "ch.hpower", t("ch.hpower.note") + zoom),
    figure({
      key: "hrelay", which: "relay", range: [0, 100],
      series: (c) => [{ ...series("s.relay", c.accent, 1, "%", fade(c.accent, "99")),
        paths: uPlot.paths.bars({ size: [0.7, 40] }) }],
    }, "ch.hrelay", t("ch.hrelay.note") + zoom),
  ];
}

// `<epoch ms>,<v>,<v>...` lines after a header -> uPlot columns (x in seconds)
function parse(text, cols) {
  const d = Array.from({ length: cols }, () => []);
  for (const line of text.split(/\r?\n/).slice(1)) {
    const f = line.split(",").map(Number);
    if (f.length < cols || !Number.isFinite(f[0])) continue;
    d[0].push(f[0] / 1000);
    for (let i = 1; i < cols; i++) d[i].push(Number.isFinite(f[i]) ? f[i] : null);
  }
  return d;
}

async function loadHistory() {
  for (const ch of charts.filter((c) => c.which)) {
    let d;
    try {
      d = parse(await api.history(ch.which), ch.data.length);
    } catch (e) {
      if (!ch.u) return;
      ch.msg.textContent = t("ch.failed", { msg: e.message });
      ch.msg.className = "msg bad";
      ch.msg.hidden = false;
      continue;
    }
    if (!ch.u) return; // unmounted while waiting
    const x = ch.u.scales.x;
    const old = ch.data[0];
    // a refresh must not throw away the part the user zoomed into
    const zoomed = old.length > 1 && x.min !== null && (x.min > old[0] + 1 || x.max < old[old.length - 1] - 1);
    ch.data = d;
    ch.u.setData(d, !zoomed);
    const n = d[0].length;
    ch.msg.textContent = n ? "" : t("ch.empty");
    ch.msg.className = "msg";
    ch.msg.hidden = n > 0;
    ch.plot.hidden = n === 0;
  }
}

function rebuildAll() {
  const c = colors();
  for (const ch of charts) build(ch, c);
}

export default {
  id: "charts",
  title: "nav.charts",
  mount(root) {
    charts = [];
    root.append(
      h("section", { "aria-labelledby": "h-live" }, h("h2", { id: "h-live" }, t("ch.live")),
        h("p", { class: "ch-note" }, t("ch.live.note")), h("div", { class: "charts" }, liveFigures())),
      h("section", { "aria-labelledby": "h-hist" }, h("h2", { id: "h-hist" }, t("ch.history")),
        h("div", { class: "charts" }, historyFigures())));
    rebuildAll();
    for (const ch of charts) if (ch.which) ch.plot.hidden = true;

    const unsub = live.subscribe((s) => {
      if (s.error) return;
      for (const ch of charts) {
        if (!ch.pick) continue;
        ch.data = ch.pick();
        ch.u.setData(ch.data);
      }
    });
    let frame = 0;
    const ro = new ResizeObserver(() => {
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(() => {
        for (const ch of charts) {
          const w = contentWidth(ch.fig);
          if (w !== ch.u.width) ch.u.setSize({ width: w, height: heightFor(w, !!ch.which) });
        }
      });
    });
    ro.observe(root);
    // the theme button and the system's dark mode change the CSS variables, not the canvas
    const mo = new MutationObserver(rebuildAll);
    mo.observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
    const mq = matchMedia("(prefers-color-scheme: dark)");
    mq.addEventListener("change", rebuildAll);
    loadHistory();
    const timer = setInterval(loadHistory, HISTORY_MS);
    cleanup = [unsub, () => ro.disconnect(), () => mo.disconnect(), () => cancelAnimationFrame(frame),
      () => mq.removeEventListener("change", rebuildAll), () => clearInterval(timer)];
  },
  unmount() {
    for (const f of cleanup) f();
    for (const ch of charts) {
      ch.u.destroy();
      ch.u = null;
    }
    charts = [];
    cleanup = [];
  },
};
