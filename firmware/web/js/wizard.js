// The setup wizard (the original's "Assistant de configuration", ten steps), for this board:
// V_CALIB is a parameter here, not a potentiometer, and nothing is erased on the way (the
// original's first step reset the energy indexes). Each step shows the reading it acts on,
// applies at once, and shows what changed as the router reads it back. The progress lives in
// this module, not in the DOM, so a language switch (which re-mounts the view) keeps it.
import { t, num, addStrings } from "./i18n.js";
import { checkNumber } from "./number.js";
import { h, toast } from "./dom.js";
import * as api from "./api.js";
import * as live from "./live.js";

addStrings({
  "wiz.title": ["Assistant de configuration", "Setup wizard"],
  "wiz.steps": ["Étapes", "Steps"],
  "wiz.stepof": ["Étape {k} sur {n}", "Step {k} of {n}"],
  "wiz.prev": ["← Précédent", "← Back"],
  "wiz.next": ["Suivant →", "Next →"],
  "wiz.skip": ["Passer →", "Skip →"],
  "wiz.apply": ["Appliquer", "Apply"],
  "wiz.done": ["fait", "done"],
  "wiz.skipped": ["passée", "skipped"],
  "wiz.cur": ["Valeur actuelle :", "Current value:"],
  "wiz.live": ["Mesure en direct", "Live reading"],
  "wiz.changed": ["Modifié (relu sur le routeur)", "Changed (read back from the router)"],
  "wiz.effect": ["Effet mesuré : {what} {before} → {after}", "Measured effect: {what} {before} → {after}"],
  "wiz.waiting": ["Attente d'une mesure fraîche…", "Waiting for a fresh reading…"],
  "wiz.range": ["de {min} à {max} {unit}", "{min} to {max} {unit}"],
  "wiz.calc.out": ["{name} calculé = {v}, hors de sa plage ({range}) : la mesure ou la valeur saisie est fausse, rien n'a été envoyé.",
    "Computed {name} = {v} is outside its range ({range}): the reading or the value entered is wrong; nothing was sent."],
  "wiz.nodata": ["Pas de mesure du routeur", "No reading from the router"],
  "wiz.timeout": ["Le routeur ne donne pas de nouvelle mesure", "The router gives no fresh reading"],

  "wiz.s.start": ["Commencer", "Start"],
  "wiz.s.start.text": ["Cet assistant règle l'installation et calibre la mesure, étape par étape. Chaque valeur s'applique tout de suite ; la dernière étape l'enregistre. Rien n'est effacé : les index d'énergie restent intacts. Chaque étape peut être passée et reprise plus tard.",
    "This wizard sets up the installation and calibrates the measurement, step by step. Each value applies at once; the last step saves it. Nothing is erased: the energy indexes stay as they are. Any step can be skipped and revisited."],
  "wiz.s.start.need": ["Prévoyez : un multimètre (tension secteur), une charge résistive de 1 à 3 kW (bouilloire, radiateur, four) et la lecture du compteur ou d'un wattmètre.",
    "You will need: a multimeter (mains voltage), a resistive load of 1 to 3 kW (kettle, heater, oven) and the reading of the utility meter or a power meter."],
  "wiz.s.start.now": ["Valeurs actuelles", "Current values"],
  "wiz.begin": ["Commencer", "Begin"],

  "wiz.s.pv": ["Installation PV", "PV installation"],
  "wiz.s.pv.text": ["Puissance crête des panneaux (informative : le routeur se règle sur la mesure).",
    "Peak power of the panels (informative: the router works from the measurement)."],
  "wiz.s.pv.label": ["Puissance crête PV (Wc)", "PV peak power (Wp)"],

  "wiz.s.res": ["Résistance du ballon", "Water-heater resistor"],
  "wiz.s.res.text": ["Puissance de la résistance à 230 V (plaque du chauffe-eau). Les gains de régulation de ce routeur ne dépendent pas de cette puissance : ils ne sont pas modifiés.",
    "Power of the resistor at 230 V (the water heater's plate). This router's regulation gains do not depend on it: they are left alone."],
  "wiz.s.res.label": ["Puissance de la résistance (W)", "Resistor power (W)"],

  "wiz.s.volt": ["Tension", "Voltage"],
  "wiz.s.volt.text": ["Mesurez la tension secteur au multimètre (sur une prise proche) et entrez la valeur lue. Le routeur corrige V_CALIB dans le même rapport.",
    "Measure the mains voltage with a multimeter (at a nearby socket) and enter what it reads. The router scales V_CALIB by the same ratio."],
  "wiz.s.volt.label": ["Tension lue au multimètre (V)", "Voltage read on the multimeter (V)"],
  "wiz.vrms": ["Tension mesurée", "Measured voltage"],

  "wiz.s.power": ["Puissance", "Power"],
  "wiz.s.power.text": ["Pince sur le câble d'arrivée, allumez une charge résistive de 1 à 3 kW (bouilloire, radiateur électrique, four, ou la résistance du ballon forcée depuis le tableau de bord) ; évitez moteurs, pompes, électronique et éclairage. Entrez la puissance lue sur le compteur ou le wattmètre. P_CALIB est corrigé par le rapport à la puissance apparente mesurée.",
    "Clamp on the incoming cable, switch on a resistive load of 1 to 3 kW (kettle, electric heater, oven, or the water heater forced from the dashboard); avoid motors, pumps, electronics and lighting. Enter the power read on the utility meter or the power meter. P_CALIB is scaled by its ratio to the measured apparent power."],
  "wiz.s.power.label": ["Puissance lue sur le compteur (VA ou W)", "Power read on the meter (VA or W)"],
  "wiz.s.power.low": ["Le routeur ne mesure que {s} VA : allumez la charge (1 à 3 kW) avant d'appliquer.",
    "The router measures only {s} VA: switch the load on (1 to 3 kW) before applying."],
  "wiz.papp": ["Puissance apparente", "Apparent power"],
  "wiz.pact": ["Puissance active", "Active power"],
  "wiz.irms": ["Courant", "Current"],

  "wiz.s.offset": ["Décalage", "Offset"],
  "wiz.s.offset.text": ["Retirez la pince du câble et refermez-la à vide : le routeur devrait lire 0 W. Ce qu'il lit encore est ajouté à P_OFFSET. Remettez ensuite la pince sur le câble.",
    "Take the clamp off the cable and close it empty: the router should read 0 W. What it still reads is added to P_OFFSET. Then put the clamp back on the cable."],
  "wiz.s.offset.big": ["Le routeur lit {p} W : trop pour un décalage. La pince est-elle bien vide et fermée ?",
    "The router reads {p} W: too much for an offset. Is the clamp empty and closed?"],
  "wiz.s.offset.apply": ["Pince vide : corriger le décalage", "Clamp empty: correct the offset"],

  "wiz.s.phase": ["Phase", "Phase"],
  "wiz.s.phase.text": ["Pince sur le câble, une charge résistive de 1 à 3 kW allumée : son cos φ vaut 1. PHASE_CALIB décale le courant par rapport à la tension (16 = aucun décalage, 16 pas = un échantillon).",
    "Clamp on the cable, a resistive load of 1 to 3 kW on: its cos φ is 1. PHASE_CALIB moves the current against the voltage (16 = no shift, 16 steps = one sample)."],
  "wiz.s.phase.how": ["Entre deux échantillons entiers (réglages 0, 16, 32), le routeur interpole : cos φ y varie presque en ligne droite et le curseur ne montre pas de sommet net. La recherche automatique mesure cos φ aux réglages 0, 16 et 32 et calcule le sommet de la parabole qui passe par ces trois points : le réglage qui aligne le courant sur la tension.",
    "Between whole samples (settings 0, 16, 32) the router interpolates: there cos φ changes almost linearly and the slider shows no clear peak. The automatic search measures cos φ at settings 0, 16 and 32 and computes the top of the parabola through these three points: the setting that lines the current up with the voltage."],
  "wiz.s.phase.label": ["PHASE_CALIB (curseur) :", "PHASE_CALIB (slider):"],
  "wiz.cos": ["|cos φ|", "|cos φ|"],
  "wiz.best": ["Meilleur vu :", "Best seen:"],
  "wiz.bestat": ["{cos} à {k}", "{cos} at {k}"],
  "wiz.auto": ["Recherche automatique", "Automatic search"],
  "wiz.auto.at": ["Mesure à PHASE_CALIB = {k} ({i}/{n})…", "Measuring at PHASE_CALIB = {k} ({i}/{n})…"],
  "wiz.auto.points": ["Mesures : {list}", "Readings: {list}"],
  "wiz.auto.found": ["Sommet calculé : {x} → PHASE_CALIB = {k}", "Computed peak: {x} → PHASE_CALIB = {k}"],
  "wiz.auto.flat": ["Pas de sommet : la charge est-elle résistive et assez forte (1 à 3 kW) ?",
    "No peak: is the load resistive and strong enough (1 to 3 kW)?"],

  "wiz.s.relay": ["Relais secondaire", "Secondary relay"],
  "wiz.s.relay.text": ["Puissance de la charge du relais secondaire (0 = 500 W). Les seuils sont calculés comme dans l'assistant d'origine ; durées minimales 5 min, constante de temps 1 min.",
    "Power of the secondary relay's load (0 = 500 W). The thresholds are computed as in the original wizard; minimum times 5 min, time constant 1 min."],
  "wiz.s.relay.label": ["Puissance de la charge du relais (W)", "Relay load power (W)"],

  "wiz.s.pulse": ["Compteur d'impulsions", "Pulse meter"],
  "wiz.s.pulse.text": ["Énergie par impulsion du compteur de production PV (inscrite sur le compteur, par exemple 1 Wh pour 1000 imp/kWh).",
    "Energy per pulse of the PV production meter (printed on the meter, e.g. 1 Wh for 1000 imp/kWh)."],
  "wiz.s.pulse.label": ["Énergie par impulsion (Wh)", "Energy per pulse (Wh)"],

  "wiz.s.save": ["Enregistrer", "Save"],
  "wiz.s.save.text": ["Les valeurs sont déjà en service ; les enregistrer les garde après un redémarrage.",
    "The values are already in force; saving them keeps them across a restart."],
  "wiz.s.save.apply": ["Enregistrer le paramétrage", "Save the settings"],
  "wiz.s.save.ok": ["Paramétrage enregistré. Suivez le fonctionnement sur le tableau de bord ; tout se règle aussi dans Paramètres.",
    "Settings saved. Watch the router on the dashboard; everything can also be set in Parameters."],
});

const STEPS = ["start", "pv", "res", "volt", "power", "offset", "phase", "relay", "pulse", "save"];
const PHASE_POINTS = [0, 16, 32];   // whole-sample shifts: exact, no interpolation
const FRESH_MS = 2200;  // a report covers the second before it: this long after a change it is clean

// Progress, kept across re-mounts (language switch) and view changes.
const st = {
  step: 0, status: {}, changes: {}, effects: {}, errors: {}, inputs: {}, notes: {}, cur: {},
  busy: false, best: null, phaseSince: 0, phaseAt: null,
};
let root = null;
let el = {};
let unsub = null;

const P = (name) => TABLES.params.find((p) => p.name === name);
const fmt = (p, v) => Number(v).toFixed(p.decimals);
const parse = (text) => parseFloat(String(text).trim().replace(",", "."));

// text -> {value} or {error}, with the limits given (a parameter's own by default)
function check(text, lo, hi, decimals, unit) {
  const range = t("wiz.range", { min: num(lo, decimals), max: num(hi, decimals), unit: unit || "" }).trim();
  const r = checkNumber(text, lo, hi, decimals, range);
  return r.error ? r : { value: r.value };
}

function rangeOf(p) {
  return t("wiz.range", { min: fmt(p, p.min), max: fmt(p, p.max), unit: p.unit }).trim();
}

// The first snapshot taken at least `ms` after now (the router reports once a second, over
// the second before: an earlier one may still mix in the old setting).
function fresh(ms = FRESH_MS) {
  const from = Date.now() + ms;
  return new Promise((resolve, reject) => {
    let armed = false;
    const timer = setTimeout(() => { un(); reject(new Error(t("wiz.timeout"))); }, ms + 8000);
    const un = live.subscribe((s) => {
      if (!armed || s.at < from || s.error || !s.data) return;
      clearTimeout(timer);
      un();
      resolve(s);
    });
    armed = true;
  });
}

async function readParam(n) {
  return (await api.get("param=" + String(n).padStart(2, "0"))).trim();
}

// Sends a value, records before → after as the router reads them.
async function change(step, p, value) {
  const before = await readParam(p.n);
  await api.setParam(p.n, fmt(p, value));
  const after = await readParam(p.n);
  const list = (st.changes[step] = (st.changes[step] || []).filter((c) => c.name !== p.name));
  list.push({ name: p.name, before, after, unit: p.unit });
  return after;
}

// Runs a step's action: busy state, errors from the router shown in the step.
async function run(step, fn) {
  if (st.busy) return;
  st.busy = true;
  st.errors[step] = null;
  st.notes[step] = null;
  render();
  try {
    await fn();
    st.status[step] = "done";
    toast(t("sent.ok"));
  } catch (e) {
    st.errors[step] = e.message;
  }
  st.busy = false;
  render();
}

function field(step, id, label, hint, attrs = {}) {
  const inputId = "wiz-" + id;
  const err = st.errors[step + ":" + id];
  return h("div", { class: "wiz-field" },
    h("label", { for: inputId }, label),
    h("input", Object.assign({
      id: inputId, inputmode: "decimal", autocomplete: "off", value: st.inputs[id] ?? "",
      "aria-describedby": inputId + "-hint" + (err ? " " + inputId + "-err" : ""),
      "aria-invalid": err ? "true" : null,
      oninput: (e) => { st.inputs[id] = e.target.value; },
    }, attrs)),
    h("small", { id: inputId + "-hint", class: "hint" }, hint),
    err ? h("div", { id: inputId + "-err", class: "result error" }, err) : null);
}

// The input's value checked, or null with the error shown by the field.
function take(step, id, lo, hi, decimals, unit) {
  const r = check(st.inputs[id] ?? "", lo, hi, decimals, unit);
  st.errors[step + ":" + id] = r.error || null;
  if (r.error) {
    render();
    const inp = document.getElementById("wiz-" + id);
    if (inp) inp.focus();
    return null;
  }
  return r.value;
}

// A parameter typed directly (installation, resistor, pulse meter).
function paramStep(step, name, labelKey) {
  const p = P(name);
  return {
    body: () => [h("p", null, t("wiz.cur"), " ",
      (el.cur = h("strong", { "data-testid": "wiz-current" }, st.cur[name] ? st.cur[name] + " " + p.unit : "…"))),
    field(step, step, t(labelKey), rangeOf(p), { "data-param": name })],
    onshow: async () => {
      try {
        st.cur[name] = await readParam(p.n);
        if (el.cur && STEPS[st.step] === step) el.cur.textContent = st.cur[name] + " " + p.unit;
      } catch (e) {
        st.errors[step] = e.message;
        render();
      }
    },
    apply: () => {
      const v = take(step, step, p.min, p.max, p.decimals, p.unit);
      if (v === null) return;
      run(step, async () => { st.cur[name] = await change(step, p, v); });
    },
  };
}

// Calibration: new = current × ref / measured, checked against the parameter's range.
async function scale(step, p, ref, measured) {
  const cur = parse(await readParam(p.n));
  const v = cur * ref / measured;
  if (!(v >= p.min && v <= p.max)) {
    throw new Error(t("wiz.calc.out", { name: p.name, v: num(v, p.decimals), range: rangeOf(p) }));
  }
  return change(step, p, v);
}

async function effect(step, what, n, dec, unit, before) {
  st.notes[step] = t("wiz.waiting");
  render();
  const s = await fresh();
  st.notes[step] = null;
  st.effects[step] = t("wiz.effect", { what, before: num(before, dec) + " " + unit,
    after: num(live.num(s, n), dec) + " " + unit });
}

function current() {
  const s = live.last;
  if (!s || s.error || !s.data) throw new Error(t("wiz.nodata"));
  return s;
}

const VIEWS = {
  start: {
    body: () => [
      h("p", null, t("wiz.s.start.need")),
      h("h4", null, t("wiz.s.start.now")),
      (el.now = h("table", { class: "grid wiz-now" }, h("tbody"))),
    ],
    onshow: async () => {
      try {
        const vals = (await api.get("allparam")).trim().split(",");
        const rows = ["V_CALIB", "P_CALIB", "PHASE_CALIB", "P_OFFSET", "P_RESISTANCE", "P_INSTALLPV"]
          .map((name) => h("tr", null, h("th", { scope: "row" }, name),
            h("td", null, vals[P(name).n - 1] + " " + P(name).unit)));
        if (el.now) el.now.replaceChildren(h("tbody", null, rows));
      } catch (e) {
        st.errors.start = e.message;
        render();
      }
    },
    applyLabel: "wiz.begin",
    apply: () => { st.status.start = "done"; go(1); },
  },
  pv: paramStep("pv", "P_INSTALLPV", "wiz.s.pv.label"),
  res: paramStep("res", "P_RESISTANCE", "wiz.s.res.label"),
  volt: {
    live: [["vrms", "wiz.vrms", 1, 1, "V"]],
    body: () => [field("volt", "volt", t("wiz.s.volt.label"), t("wiz.range", { min: 80, max: 280, unit: "V" }))],
    apply: () => {
      const ref = take("volt", "volt", 80, 280, 1, "V");
      if (ref === null) return;
      run("volt", async () => {
        const measured = live.num(current(), 1);
        if (!(measured > 20)) throw new Error(t("wiz.nodata"));
        await scale("volt", P("V_CALIB"), ref, measured);
        await effect("volt", t("wiz.vrms"), 1, 1, "V", measured);
      });
    },
  },
  power: {
    live: [["papp", "wiz.papp", 4, 0, "VA"], ["pact", "wiz.pact", 3, 0, "W"], ["irms", "wiz.irms", 2, 2, "A"]],
    body: () => [field("power", "power", t("wiz.s.power.label"), t("wiz.range", { min: 300, max: 10000, unit: "VA" }))],
    apply: () => {
      const ref = take("power", "power", 300, 10000, 0, "VA");
      if (ref === null) return;
      run("power", async () => {
        const measured = live.num(current(), 4);
        if (!(measured >= 300)) throw new Error(t("wiz.s.power.low", { s: num(measured, 0) }));
        await scale("power", P("P_CALIB"), ref, measured);
        await effect("power", t("wiz.papp"), 4, 0, "VA", measured);
      });
    },
  },
  offset: {
    live: [["pact", "wiz.pact", 3, 1, "W"]],
    body: () => [],
    applyLabel: "wiz.s.offset.apply",
    apply: () => run("offset", async () => {
      const p = P("P_OFFSET");
      const measured = live.num(current(), 3);
      if (measured === null) throw new Error(t("wiz.nodata"));
      const v = Math.round(parse(await readParam(p.n)) + measured);
      if (v < p.min || v > p.max) throw new Error(t("wiz.s.offset.big", { p: num(measured, 1) }));
      await change("offset", p, v);
      await effect("offset", t("wiz.pact"), 3, 1, "W", measured);
    }),
  },
  phase: {
    live: [["cos", "wiz.cos", 8, 4, ""], ["papp", "wiz.papp", 4, 0, "VA"]],
    body: () => {
      const p = P("PHASE_CALIB");
      const at = st.phaseAt ?? p.default;
      return [
        h("p", { class: "hint" }, t("wiz.s.phase.how")),
        h("div", { class: "wiz-field" },
          h("label", { for: "wiz-phase" }, t("wiz.s.phase.label"), " ",
            (el.phaseVal = h("output", { for: "wiz-phase", "data-testid": "wiz-phase-value" }, String(at)))),
          (el.slider = h("input", {
            id: "wiz-phase", type: "range", min: p.min, max: p.max, step: 1, value: at,
            disabled: st.busy || null, "aria-valuetext": String(at),
            oninput: (e) => { el.phaseVal.textContent = e.target.value; },
            onchange: (e) => slide(parseInt(e.target.value, 10)),
          }))),
        h("p", null, t("wiz.best"), " ", (el.best = h("strong", { "data-testid": "wiz-best" }, bestText()))),
        h("button", { type: "button", class: "ghost", disabled: st.busy || null, onclick: autoPhase,
          "data-testid": "wiz-auto" }, t("wiz.auto")),
      ];
    },
    onshow: async () => {
      if (st.phaseAt !== null) return;
      try {
        st.phaseAt = parseInt(await readParam(P("PHASE_CALIB").n), 10);
        st.phaseSince = Date.now();
        if (el.slider && !st.busy) {
          el.slider.value = st.phaseAt;
          el.phaseVal.textContent = st.phaseAt;
        }
      } catch (e) {
        st.errors.phase = e.message;
        render();
      }
    },
    noApply: true,
  },
  relay: {
    body: () => [field("relay", "relay", t("wiz.s.relay.label"), t("wiz.range", { min: 0, max: 9999, unit: "W" }))],
    apply: () => {
      let sec = take("relay", "relay", 0, 9999, 0, "W");
      if (sec === null) return;
      if (sec === 0) sec = 500;
      run("relay", async () => {
        const res = parse(await readParam(P("P_RESISTANCE").n));
        // The original wizard's rule (maxpv3_esp_spec.md §5.4 step 8).
        const active = res > sec ? Math.floor(0.8 * sec) : Math.floor(0.9 * res);
        const idle = res > sec ? Math.floor(0.3 * sec) : Math.floor(sec - 0.7 * res);
        const vals = [["P_DIV2_ACTIVE", active], ["P_DIV2_IDLE", idle], ["T_DIV2_ON", 5],
          ["T_DIV2_OFF", 5], ["T_DIV2_TC", 1]];
        for (const [name, v] of vals) {
          const p = P(name);
          if (v < p.min || v > p.max) {
            throw new Error(t("wiz.calc.out", { name, v: num(v, 0), range: rangeOf(p) }));
          }
        }
        for (const [name, v] of vals) await change("relay", P(name), v);
      });
    },
  },
  pulse: paramStep("pulse", "CNT_CALIB", "wiz.s.pulse.label"),
  save: {
    applyLabel: "wiz.s.save.apply",
    body: () => [],
    apply: () => run("save", async () => {
      const r = (await api.action("saveparam")).trim();
      // What is on flash now: loading it back must give what is in force.
      st.notes.save = r;
      st.effects.save = t("wiz.s.save.ok");
    }),
  },
};

function bestText() {
  const b = st.best;
  return b ? t("wiz.bestat", { cos: num(b.cos, 4), k: b.at }) : "–";
}

// The user moved the slider: send it; the best seen counts only readings taken after it settled.
async function slide(k) {
  if (st.busy) return;
  st.errors.phase = null;
  try {
    await change("phase", P("PHASE_CALIB"), k);
    st.phaseAt = k;
    st.phaseSince = Date.now();
    st.status.phase = "done";
  } catch (e) {
    st.errors.phase = e.message;
    render();
  }
  showChanges();
}

function cosOf(s) {
  const p = live.num(s, 3);
  const va = live.num(s, 4);
  // P and S carry more digits than data 8 at a kW load.
  return va > 0 && p !== null ? Math.min(1, Math.abs(p) / va) : Math.abs(live.num(s, 8) || 0);
}

async function autoPhase() {
  const p = P("PHASE_CALIB");
  await run("phase", async () => {
    const s0 = current();
    if (!(live.num(s0, 4) >= 300)) throw new Error(t("wiz.s.power.low", { s: num(live.num(s0, 4), 0) }));
    const before = await readParam(p.n);
    const f = [];
    for (let i = 0; i < PHASE_POINTS.length; i++) {
      const k = PHASE_POINTS[i];
      st.notes.phase = t("wiz.auto.at", { k, i: i + 1, n: PHASE_POINTS.length });
      render();
      await api.setParam(p.n, String(k));
      st.phaseAt = k;
      const a = await fresh();
      const b = await fresh(900);
      const c = (cosOf(a) + cosOf(b)) / 2;
      f.push(c);
      if (!st.best || c > st.best.cos) st.best = { cos: c, at: k };
    }
    st.notes.phase = null;
    const list = PHASE_POINTS.map((k, i) => t("wiz.bestat", { cos: num(f[i], 5), k })).join(" ; ");
    const curv = f[0] - 2 * f[1] + f[2];
    if (!(curv < 0)) {
      await api.setParam(p.n, before);
      st.phaseAt = parseInt(before, 10);
      throw new Error(t("wiz.auto.points", { list }) + ". " + t("wiz.auto.flat"));
    }
    // Vertex of the parabola through (-1, f0), (0, f1), (1, f2), in samples from 16.
    const u = Math.max(-2, Math.min(2, (f[0] - f[2]) / (2 * curv)));
    const k = Math.max(p.min, Math.min(p.max, Math.round(16 + 16 * u)));
    await api.setParam(p.n, String(k));
    const after = await readParam(p.n);
    st.changes.phase = [{ name: p.name, before, after, unit: p.unit }];
    st.phaseAt = parseInt(after, 10);
    st.phaseSince = Date.now();
    st.effects.phase = t("wiz.auto.points", { list }) + " — " + t("wiz.auto.found", { x: num(16 + 16 * u, 1), k: after });
  });
}

function go(k) {
  if (st.busy) return;
  st.step = Math.max(0, Math.min(STEPS.length - 1, k));
  render();
  shown();
  const head = document.getElementById("wiz-step-title");
  if (head) head.focus();
}

function skip() {
  const id = STEPS[st.step];
  if (st.status[id] !== "done") st.status[id] = "skipped";
  go(st.step + 1);
}

function shown() {
  const v = VIEWS[STEPS[st.step]];
  if (v.onshow) v.onshow();
}

function showChanges() {
  const id = STEPS[st.step];
  if (!el.changes) return;
  const list = st.changes[id] || [];
  el.changes.replaceChildren(...(list.length ? [h("h4", null, t("wiz.changed")),
    h("ul", { class: "wiz-changes" }, list.map((c) => h("li", { "data-param": c.name },
      h("code", null, c.name), " : ", c.before, " → ", h("strong", null, c.after), c.unit ? " " + c.unit : "")))] : []));
}

function render() {
  if (!root) return;
  const id = STEPS[st.step];
  const v = VIEWS[id];
  el = { live: [] };
  const nav = h("ol", { class: "wiz-steps", "aria-label": t("wiz.steps") }, STEPS.map((s, i) => {
    const status = st.status[s];
    return h("li", { class: status || null },
      h("button", { type: "button", class: "ghost", "aria-current": i === st.step ? "step" : null,
        disabled: st.busy || null, onclick: () => go(i), "data-step": s },
      h("span", { class: "n" }, String(i + 1)), " ", t("wiz.s." + s),
      status ? h("span", { class: "sr-mark" }, " (" + t("wiz." + status) + ")") : null));
  }));
  const liveBox = v.live ? h("div", { class: "wiz-live", "aria-label": t("wiz.live"), role: "group" },
    v.live.map(([key, label, n, dec, unit]) => {
      const out = h("strong", { "data-testid": "wiz-live-" + key }, "–");
      el.live.push([out, n, dec, unit]);
      return h("div", null, h("span", { class: "label" }, t(label)), " ", out);
    })) : null;
  const err = st.errors[id];
  const section = h("section", { class: "wiz-step", "data-step": id, "aria-labelledby": "wiz-step-title" },
    h("p", { class: "label" }, t("wiz.stepof", { k: st.step + 1, n: STEPS.length })),
    h("h3", { id: "wiz-step-title", tabindex: "-1" }, t("wiz.s." + id)),
    h("p", null, t("wiz.s." + id + ".text")),
    liveBox,
    h("form", { class: "wiz-form", novalidate: true, onsubmit: (e) => { e.preventDefault(); if (v.apply) v.apply(); } },
      v.body(),
      v.noApply ? null : (el.apply = h("button", { type: "submit", disabled: st.busy || null, "data-testid": "wiz-apply" },
        t(v.applyLabel || "wiz.apply")))),
    h("div", { class: "result", "aria-live": "polite", "data-testid": "wiz-note" }, st.notes[id] || ""),
    (el.changes = h("div", { "data-testid": "wiz-changes" })),
    h("div", { class: "result ok", "aria-live": "polite", "data-testid": "wiz-effect" }, st.effects[id] || ""),
    h("div", { class: "result error", role: "alert", "data-testid": "wiz-error" }, err || ""));
  const buttons = h("div", { class: "wiz-nav" },
    h("button", { type: "button", class: "ghost", disabled: st.step === 0 || st.busy || null, onclick: () => go(st.step - 1) }, t("wiz.prev")),
    st.step < STEPS.length - 1 ? h("button", { type: "button", class: st.status[id] === "done" ? null : "ghost",
      disabled: st.busy || null, onclick: skip, "data-testid": "wiz-next" },
    t(st.status[id] === "done" ? "wiz.next" : "wiz.skip")) : null);
  root.replaceChildren(h("h2", null, t("wiz.title")), nav, section, buttons);
  showChanges();
  if (live.last) update(live.last);
}

function update(s) {
  if (!el.live || s.error || !s.data) return;
  for (const [out, n, dec, unit] of el.live) {
    const x = live.num(s, n);
    out.textContent = (x === null ? "–" : num(n === 8 ? Math.abs(x) : x, dec)) + (unit ? " " + unit : "");
  }
  // Best |cos φ| seen with the slider, from readings taken once the setting had settled.
  if (STEPS[st.step] === "phase" && !st.busy && st.phaseAt !== null && s.at >= st.phaseSince + FRESH_MS
      && live.num(s, 4) >= 300) {
    const c = cosOf(s);
    if (!st.best || c > st.best.cos) {
      st.best = { cos: c, at: st.phaseAt };
      if (el.best) el.best.textContent = bestText();
    }
  }
}

export default {
  id: "wizard",
  title: "nav.wizard",
  mount(el0) {
    root = el0;
    render();
    shown();
    unsub = live.subscribe(update);
  },
  unmount() {
    if (unsub) unsub();
    unsub = null;
    root = null;
  },
};
