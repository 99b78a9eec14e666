// French by default (the original's language), English on request; the choice is kept in the
// browser. Each view adds its own strings with addStrings({key: [fr, en]}).
const S = {};
const KEY = "maxpv.lang";
const LANGS = ["fr", "en"];
let lang = LANGS.includes(localStorage.getItem(KEY)) ? localStorage.getItem(KEY) : "fr";

export function addStrings(table) {
  Object.assign(S, table);
}

export function getLang() {
  return lang;
}

export function setLang(l) {
  lang = l;
  localStorage.setItem(KEY, l);
  document.documentElement.lang = l;
}

// t("key", {n: 3}) -> the string in the current language, with {n} replaced
export function t(key, vars) {
  const e = S[key];
  let s = e ? e[lang === "fr" ? 0 : 1] : key;
  if (vars) for (const k in vars) s = s.split("{" + k + "}").join(vars[k]);
  return s;
}

// numbers as the language writes them ("1 234,5" / "1,234.5")
export function num(x, decimals = 0) {
  if (x === null || x === undefined || Number.isNaN(x)) return "–";
  return x.toLocaleString(lang === "fr" ? "fr-FR" : "en-GB", {
    minimumFractionDigits: decimals, maximumFractionDigits: decimals,
  });
}

addStrings({
  "nav.dashboard": ["Tableau de bord", "Dashboard"],
  "nav.charts": ["Graphiques", "Charts"],
  "nav.wizard": ["Assistant", "Wizard"],
  "nav.params": ["Paramètres", "Parameters"],
  "nav.setup": ["Wi-Fi", "Wi-Fi"],
  "nav.admin": ["Administration", "Administration"],
  "lang.switch": ["EN", "FR"],
  "lang.label": ["Switch to English", "Passer en français"],
  "theme.auto": ["Thème : auto", "Theme: auto"],
  "theme.light": ["Thème : clair", "Theme: light"],
  "theme.dark": ["Thème : sombre", "Theme: dark"],
  "online.running": ["En marche", "Running"],
  "online.offline": ["Hors ligne", "Offline"],
  "online.unreachable": ["Injoignable", "Unreachable"],
  "login.text": ["Ce routeur est protégé par un mot de passe administrateur.",
    "This router is protected by an admin password."],
  "login.label": ["Mot de passe", "Password"],
  "login.ok": ["Valider", "Sign in"],
  "cancel": ["Annuler", "Cancel"],
  "confirm": ["Confirmer", "Confirm"],
  "sent.ok": ["Fait", "Done"],
  "error": ["Erreur", "Error"],
  "unreachable": ["Routeur injoignable", "Router unreachable"],
});
