// Router parameters (the original's "Paramétrage avancé"): the 16 parameters, generated from
// the firmware's own table so ranges cannot drift, in the original's four groups. A value is
// checked here first (the router would refuse it anyway, but the user should not have to wait
// for that), then sent, then read back: the field always shows what the router holds.
import { t, getLang, addStrings } from "./i18n.js";
import { checkNumber } from "./number.js";
import { h, toast, confirmAction } from "./dom.js";
import * as api from "./api.js";

addStrings({
  "par.intro": ["Chaque valeur envoyée s'applique tout de suite ; « Enregistrer » la garde après un redémarrage.",
    "Each value sent applies at once; \"Save\" keeps it across a restart."],
  "par.g.installation": ["Installation", "Installation"],
  "par.g.calibration": ["Calibrage", "Calibration"],
  "par.g.regulation": ["Régulation", "Regulation"],
  "par.g.relay": ["Relais secondaire", "Secondary relay"],
  "par.g.other": ["Autres", "Other"],
  "par.send": ["Envoyer", "Send"],
  "par.range": ["de {min} à {max}", "{min} to {max}"],
  "par.default": ["défaut {v}", "default {v}"],
  "par.changed": ["≠ défaut", "≠ default"],
  "par.pending": ["non envoyé", "not sent"],
  "par.applied": ["Appliqué : {v}", "Applied: {v}"],
  "par.unsaved": ["Des valeurs ont été changées depuis ce navigateur sans être enregistrées : elles seront perdues au prochain redémarrage.",
    "Values were changed from this browser and not saved: they will be lost at the next reboot."],
  "par.actions": ["Actions", "Actions"],
  "act.saveparam": ["Enregistrer les paramètres", "Save the parameters"],
  "act.loadparam": ["Recharger les paramètres enregistrés", "Load the saved parameters"],
  "act.restart": ["Redémarrer le routeur", "Restart the router"],
  "act.saveindex": ["Enregistrer les index", "Save the indexes"],
  "act.resetindex": ["Remettre les index à zéro", "Reset the indexes"],
  "act.format": ["Revenir aux valeurs par défaut", "Back to the defaults"],
  "act.resetindex.q": ["Remettre à zéro tous les compteurs d'énergie et le temps du relais ? C'est définitif.",
    "Reset every energy counter and the relay time to zero? This cannot be undone."],
  "act.format.q": ["Remettre les 16 paramètres à leurs valeurs par défaut et effacer les valeurs enregistrées ?",
    "Put the 16 parameters back to their defaults and erase the saved values?"],
  "act.result": ["{what} : {result}", "{what}: {result}"],
  "p.V_CALIB": ["Calibrage de la tension", "Voltage calibration"],
  "p.P_CALIB": ["Calibrage de la puissance", "Power calibration"],
  "p.PHASE_CALIB": ["Correction de phase", "Phase correction"],
  "p.P_OFFSET": ["Décalage de puissance", "Power offset"],
  "p.P_RESISTANCE": ["Puissance de la résistance", "Heater resistor power"],
  "p.P_MARGIN": ["Consigne de soutirage", "Import target"],
  "p.GAIN_P": ["Gain proportionnel", "Proportional gain"],
  "p.GAIN_I": ["Gain d'anticipation", "Anticipation gain"],
  "p.E_RESERVE": ["Réserve d'énergie", "Energy reserve"],
  "p.P_DIV2_ACTIVE": ["Seuil de marche du relais", "Relay on threshold"],
  "p.P_DIV2_IDLE": ["Seuil d'arrêt du relais", "Relay off threshold"],
  "p.T_DIV2_ON": ["Durée minimale de marche", "Minimum on time"],
  "p.T_DIV2_OFF": ["Durée minimale d'arrêt", "Minimum off time"],
  "p.T_DIV2_TC": ["Constante de temps", "Time constant"],
  "p.CNT_CALIB": ["Poids d'impulsion du compteur PV", "PV meter pulse weight"],
  "p.P_INSTALLPV": ["Puissance crête PV", "PV peak power"],
  // English help comes from the firmware's table; French here
  "ph.V_CALIB": ["Volts par pas du convertisseur", null],
  "ph.P_CALIB": ["VA par pas² (calibrage du courant = P_CALIB / V_CALIB)", null],
  "ph.PHASE_CALIB": ["16 = aucune ; chaque pas décale le courant de 1/16 d'échantillon", null],
  "ph.P_OFFSET": ["Retranché du soutirage mesuré", null],
  "ph.P_RESISTANCE": ["Puissance de la résistance du chauffe-eau sous 230 V", null],
  "ph.P_MARGIN": ["Soutirage visé par la régulation (négatif : injection permise)", null],
  "ph.GAIN_P": ["Part de l'écart mesuré corrigée d'un coup (8 = la totalité)", null],
  "ph.GAIN_I": ["Anticipation des variations rapides de PV ou de charge (45 = nominal, 0 = sans)", null],
  "ph.E_RESERVE": ["Énergie à injecter avant que le routage commence", null],
  "ph.P_DIV2_ACTIVE": ["Surplus qui met le relais secondaire en marche", null],
  "ph.P_DIV2_IDLE": ["Soutirage qui arrête le relais secondaire", null],
  "ph.T_DIV2_ON": ["Durée minimale de marche du relais secondaire", null],
  "ph.T_DIV2_OFF": ["Durée minimale d'arrêt du relais secondaire", null],
  "ph.T_DIV2_TC": ["Constante de temps des moyennes de puissance sur lesquelles le relais décide", null],
  "ph.CNT_CALIB": ["Énergie par impulsion du compteur de production", null],
  "ph.P_INSTALLPV": ["Puissance crête de l'installation PV (indicatif : la charge est vérifiée par la mesure)", null],
  "u.V/count": ["V/pas", "V/count"],
  "u.VA/count²": ["VA/pas²", "VA/count²"],
  "u.1/16 sample": ["1/16 d'éch.", "1/16 sample"],
  "u.Wh/pulse": ["Wh/imp.", "Wh/pulse"],
  "u.Wp": ["Wc", "Wp"],
});

const GROUPS = [
  ["installation", ["P_INSTALLPV", "P_RESISTANCE", "CNT_CALIB"]],
  ["calibration", ["V_CALIB", "P_CALIB", "PHASE_CALIB", "P_OFFSET"]],
  ["regulation", ["P_MARGIN", "GAIN_P", "GAIN_I", "E_RESERVE"]],
  ["relay", ["P_DIV2_ACTIVE", "P_DIV2_IDLE", "T_DIV2_ON", "T_DIV2_OFF", "T_DIV2_TC"]],
];
const UNSAVED = "maxpv.unsaved";
let fields = {};
let el = {};

const unit = (p) => (p.unit ? (t("u." + p.unit).startsWith("u.") ? p.unit : t("u." + p.unit)) : "");
const locale = () => (getLang() === "fr" ? "fr-FR" : "en-GB");
// without grouping and with the language's decimal mark: what the user may type back
const show = (v, dec) => v.toLocaleString(locale(), { maximumFractionDigits: dec, useGrouping: false });
const range = (p) => t("par.range", { min: show(p.min, p.decimals), max: show(p.max, p.decimals) }) + (p.unit ? " " + unit(p) : "");

// text -> {value: what to send} or {error}
function check(p, text) {
  const r = checkNumber(text, p.min, p.max, p.decimals, range(p));
  return r.error ? r : { value: r.text };
}

function fill(p, text, keepInput) {
  const f = fields[p.name];
  f.value = Number(text);
  f.changed.hidden = !(Math.abs(f.value - p.default) > 0.5 * 10 ** -p.decimals);
  if (keepInput) return;
  f.touched = false;
  f.input.value = Number.isFinite(f.value) ? show(f.value, p.decimals) : text;
  f.input.removeAttribute("aria-invalid");
  f.box.classList.remove("dirty");
  f.pending.hidden = true;
}

function say(out, text, ok) {
  out.textContent = text;
  out.className = "result " + (ok ? "ok" : "error");
}

function unsaved(on) {
  if (on !== undefined) on ? sessionStorage.setItem(UNSAVED, "1") : sessionStorage.removeItem(UNSAVED);
  el.unsaved.hidden = !sessionStorage.getItem(UNSAVED);
}

async function send(p) {
  const f = fields[p.name];
  const r = check(p, f.input.value);
  if (r.error) {
    f.input.setAttribute("aria-invalid", "true");
    say(f.msg, r.error, false);
    f.input.focus();
    return;
  }
  f.button.disabled = true;
  say(f.msg, "…", true);
  try {
    await api.setParam(p.n, r.value);
    unsaved(true);
    fill(p, (await api.get("param=" + String(p.n).padStart(2, "0"))).trim());
    say(f.msg, t("par.applied", { v: f.input.value + (p.unit ? " " + unit(p) : "") }), true);
  } catch (e) {
    f.input.setAttribute("aria-invalid", "true");
    say(f.msg, e.message, false);
  } finally {
    f.button.disabled = false;
  }
}

// first: what the user typed before the values arrived is kept (then marked as not sent)
async function load(first) {
  try {
    const vals = (await api.get("allparam")).trim().split(",");
    for (const p of TABLES.params) {
      if (vals[p.n - 1] !== undefined) fill(p, vals[p.n - 1], first && fields[p.name].touched);
    }
  } catch (e) {
    say(el.result, e.message, false);
  }
}

function field(p) {
  const id = "p-" + p.name;
  const f = (fields[p.name] = {});
  f.input = h("input", {
    id, name: p.name, type: "text", inputmode: p.min < 0 ? "text" : "decimal", autocomplete: "off",
    "aria-describedby": id + "-meta " + id + "-help " + id + "-msg", "data-testid": "param-" + p.name,
    oninput: () => {
      f.touched = true;
      const dirty = f.value === undefined || f.input.value.trim() !== show(f.value, p.decimals);
      f.box.classList.toggle("dirty", dirty);
      f.pending.hidden = !dirty;
    },
  });
  f.button = h("button", { type: "submit" }, t("par.send"));
  f.msg = h("div", { id: id + "-msg", class: "result", "aria-live": "polite", "data-testid": "msg-" + p.name });
  f.changed = h("span", { class: "badge", hidden: true }, t("par.changed"));
  f.pending = h("span", { class: "badge", hidden: true }, t("par.pending"));
  const help = getLang() === "fr" ? t("ph." + p.name) : p.help;
  f.box = h("form", {
    class: "field", novalidate: true, onsubmit: (e) => { e.preventDefault(); send(p); },
  },
  h("label", { for: id }, t("p." + p.name), " ", h("code", null, p.name)),
  h("div", { class: "line" }, f.input, p.unit ? h("span", { class: "unit" }, unit(p)) : null, f.button),
  h("div", { class: "meta", id: id + "-meta" }, range(p), " · ",
    t("par.default", { v: show(p.default, p.decimals) }), f.changed, f.pending),
  h("div", { class: "help", id: id + "-help" }, help), f.msg);
  return f.box;
}

async function act(name, danger) {
  const what = t("act." + name);
  if (danger && !(await confirmAction(t("act." + name + ".q"), what, t("cancel")))) return;
  let result;
  let good = false;
  say(el.result, "…", true);
  try {
    result = (await api.action(name)).trim();
    good = true;
    if (name === "saveparam" || name === "loadparam" || name === "format") unsaved(false);
  } catch (e) {
    result = e.message;
  }
  say(el.result, t("act.result", { what, result }), good);
  toast(t("act.result", { what, result }), good ? "ok" : "error");
  await load();
}

export default {
  id: "params",
  title: "nav.params",
  mount(root) {
    fields = {};
    el = {};
    const grouped = new Set(GROUPS.flatMap((g) => g[1]));
    const groups = GROUPS.concat([["other", TABLES.params.filter((p) => !grouped.has(p.name)).map((p) => p.name)]]);
    const byName = Object.fromEntries(TABLES.params.map((p) => [p.name, p]));
    const button = (name, danger) => h("button", {
      type: "button", class: danger ? "danger" : "ghost", "data-action": name, onclick: () => act(name, danger),
    }, t("act." + name));
    root.append(h("div", { class: "pa" },
      h("p", { class: "intro" }, t("par.intro")),
      (el.unsaved = h("p", { class: "warn", hidden: true, "data-testid": "unsaved" }, t("par.unsaved"))),
      groups.filter((g) => g[1].some((n) => byName[n])).map(([g, names]) => h("section", { "aria-labelledby": "h-par-" + g },
        h("h2", { id: "h-par-" + g }, t("par.g." + g)),
        h("div", { class: "form-grid" }, names.filter((n) => byName[n]).map((n) => field(byName[n]))))),
      h("section", { "aria-labelledby": "h-par-act" }, h("h2", { id: "h-par-act" }, t("par.actions")),
        h("div", { class: "actions" }, button("saveparam"), button("loadparam"), button("restart"),
          button("saveindex"), button("resetindex", true), button("format", true)),
        (el.result = h("div", { class: "result", "aria-live": "polite", "data-testid": "params-result" })))));
    unsaved();
    load(true);
  },
  unmount() {},
};
