// The page frame: navigation between views (#dashboard, #charts, ...), language and theme
// switches, the router's online badge and the admin-password dialog.
import { t, getLang, setLang } from "./i18n.js";
import { h } from "./dom.js";
import * as api from "./api.js";
import * as live from "./live.js";
import dashboard from "./dashboard.js";
import charts from "./charts.js";
import wizard from "./wizard.js";
import params from "./params.js";
import setup from "./setup.js";
import admin from "./admin.js";

const VIEWS = [dashboard, charts, wizard, params, setup, admin];
const THEMES = ["auto", "light", "dark"];
const THEME_ICONS = ["◐", "☀", "☾"];
const $ = (id) => document.getElementById(id);
let current = null;

function viewFromHash() {
  const id = location.hash.replace(/^#\/?/, "").split("/")[0];
  return VIEWS.find((v) => v.id === id) || VIEWS[0];
}

function renderNav() {
  const nav = $("nav");
  nav.replaceChildren(...VIEWS.map((v) => h("a", {
    href: "#" + v.id, "aria-current": current === v ? "page" : null,
  }, t(v.title))));
  $("lang").textContent = t("lang.switch");
  $("lang").setAttribute("aria-label", t("lang.label"));
  const theme = document.documentElement.dataset.theme;
  $("theme").textContent = THEME_ICONS[THEMES.indexOf(theme)];
  $("theme").setAttribute("aria-label", t("theme." + theme));
  $("theme").title = t("theme." + theme);
}

function show() {
  if (current && current.unmount) current.unmount();
  current = viewFromHash();
  const el = $("view");
  el.replaceChildren();
  document.title = t(current.title) + " · MaxPV!";
  current.mount(el);
  renderNav();
}

function showOnline(s) {
  const pill = $("online");
  const key = s.error ? "online.unreachable" : s.online ? "online.running" : "online.offline";
  pill.textContent = t(key);
  pill.className = "pill " + (s.online ? "good" : "bad");
}

function askPassword() {
  return new Promise((resolve) => {
    const dlg = $("login");
    $("login-text").textContent = t("login.text");
    $("login-label").textContent = t("login.label");
    $("login-ok").textContent = t("login.ok");
    $("login-cancel").textContent = t("cancel");
    $("login-pass").value = "";
    dlg.onclose = () => resolve(dlg.returnValue === "ok" ? $("login-pass").value : null);
    dlg.showModal();
  });
}

function start() {
  const saved = localStorage.getItem("maxpv.theme");
  document.documentElement.dataset.theme = THEMES.includes(saved) ? saved : "auto";
  document.documentElement.lang = getLang();
  $("lang").onclick = () => {
    setLang(getLang() === "fr" ? "en" : "fr");
    show();
    if (live.last) showOnline(live.last);
  };
  $("theme").onclick = () => {
    const next = THEMES[(THEMES.indexOf(document.documentElement.dataset.theme) + 1) % 3];
    document.documentElement.dataset.theme = next;
    localStorage.setItem("maxpv.theme", next);
    renderNav();
  };
  api.onPasswordNeeded(askPassword);
  window.addEventListener("hashchange", show);
  live.subscribe(showOnline);
  show();
  live.start();
}

start();
