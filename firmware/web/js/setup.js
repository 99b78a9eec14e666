// Wi-Fi: where the router is on the network, and the setup page a phone lands on from the
// router's access point (the captive portal redirects every request to #setup). The networks
// come from the router's scan; "Save and connect" has the router try the network while its
// access point stays up, and shows how it went: only a network that was joined is saved.
import { t, addStrings } from "./i18n.js";
import { h } from "./dom.js";
import * as api from "./api.js";
import { IP, HOST, okWpa } from "./checks.js";

addStrings({
  "net.title": ["Réseau Wi-Fi", "Wi-Fi network"],
  "net.now": ["État", "Now"],
  "net.m.setup": ["Point d'accès de configuration « {ap} » ouvert ({ip})", "Setup access point '{ap}' open ({ip})"],
  "net.m.station": ["Connecté à « {ssid} » ({rssi} dBm), adresse {ip} — {url}", "Connected to '{ssid}' ({rssi} dBm), address {ip} — {url}"],
  "net.m.connecting": ["Connexion à « {ssid} » en cours…", "Connecting to '{ssid}'…"],
  "net.m.idle": ["Aucun réseau enregistré", "No network saved"],
  "net.m.host": ["Simulation : le réseau de l'ordinateur", "Simulation: the computer's network"],
  "net.also": ["et : {more}", "and: {more}"],
  "net.synced": ["heure synchronisée", "time synchronised"],
  "net.unsynced": ["heure non synchronisée", "time not synchronised"],
  "net.last": ["dernier échec : {why}", "last failure: {why}"],
  "net.choose": ["Choisir un réseau", "Choose a network"],
  "net.scanning": ["Recherche des réseaux…", "Looking for networks…"],
  "net.none": ["Aucun réseau trouvé.", "No network found."],
  "net.rescan": ["Actualiser la liste", "Refresh the list"],
  "net.open": ["ouvert", "open"],
  "net.secured": ["protégé", "secured"],
  "net.ssid": ["Nom du réseau (SSID)", "Network name (SSID)"],
  "net.pass": ["Mot de passe du réseau", "Network password"],
  "net.show": ["Afficher le mot de passe", "Show the password"],
  "net.dhcp": ["Adresse automatique (DHCP)", "Automatic address (DHCP)"],
  "net.ip": ["Adresse IP fixe", "Static IP address"],
  "net.subnet": ["Masque", "Subnet mask"],
  "net.gateway": ["Passerelle", "Gateway"],
  "net.dns": ["DNS", "DNS"],
  "net.hostname": ["Nom du routeur sur le réseau", "The router's name on the network"],
  "net.admin": ["Mot de passe administrateur (facultatif)", "Admin password (optional)"],
  "net.admin.help": ["Protège toute modification (utilisateur « admin »).", "Protects every change (user 'admin')."],
  "net.save": ["Enregistrer et connecter", "Save and connect"],
  "net.trying": ["Essai de « {ssid} »… le point d'accès reste ouvert.", "Trying '{ssid}'… the access point stays open."],
  "net.r.joined": ["Connecté à « {ssid} » : adresse {ip}, {url}. Reconnectez ce téléphone à votre réseau puis ouvrez {url} (ou l'adresse {ip}).",
    "Connected to '{ssid}': address {ip}, {url}. Reconnect this phone to your network, then open {url} (or the address {ip})."],
  "net.r.closing": ["Le point d'accès {ap} se ferme dans une minute.", "The access point {ap} closes in a minute."],
  "net.r.wrong_password": ["Mot de passe refusé par « {ssid} ». Rien n'est enregistré : corrigez et réessayez.",
    "'{ssid}' refused the password. Nothing was saved: correct it and try again."],
  "net.r.not_found": ["Réseau « {ssid} » introuvable (hors de portée ?). Rien n'est enregistré.",
    "Network '{ssid}' not found (out of range?). Nothing was saved."],
  "net.r.no_dhcp": ["Relié à « {ssid} », mais aucune adresse reçue (DHCP). Essayez une adresse fixe.",
    "Linked to '{ssid}' but no address came (DHCP). Try a static address."],
  "net.r.timeout": ["Pas de réponse de « {ssid} ». Rien n'est enregistré.", "No answer from '{ssid}'. Nothing was saved."],
  "net.r.failed": ["La connexion à « {ssid} » a échoué. Rien n'est enregistré.", "Joining '{ssid}' failed. Nothing was saved."],
  "net.r.not_saved": ["Connecté, mais la configuration n'a pas pu être enregistrée (mémoire flash).",
    "Connected, but the settings could not be saved (flash storage)."],
  "net.why.wrong_password": ["mot de passe refusé", "password refused"],
  "net.why.not_found": ["réseau introuvable", "network not found"],
  "net.why.no_dhcp": ["pas d'adresse (DHCP)", "no address (DHCP)"],
  "net.why.timeout": ["pas de réponse", "no answer"],
  "net.why.failed": ["échec de connexion", "connection failed"],
  "net.e.ssid": ["Choisissez ou saisissez un réseau.", "Choose or type a network."],
  "net.e.pass": ["8 à 63 caractères ASCII (WPA2), ou vide pour un réseau ouvert.", "8 to 63 ASCII characters (WPA2), or empty for an open network."],
  "net.e.ip": ["Adresse IPv4 attendue", "An IPv4 address is expected"],
  "net.e.host": ["Lettres, chiffres et « - » seulement", "Letters, digits and '-' only"],
});

let el = {};
let gen = 0;
const wait = (ms) => new Promise((r) => setTimeout(r, ms));

// one line saying where the router is (also on the dashboard)
export function describe(n) {
  const mode = n.mode === "setup" ? "net.m.setup" : "net.m." + n.mode;
  let s = t(mode, { ap: n.ap, ip: n.mode === "setup" ? n.ap_ip : n.ip, ssid: n.ssid, rssi: n.rssi, url: n.url });
  if (n.mode === "setup" && n.joined) s += " ; " + t("net.also", { more: t("net.m.station", n) });
  if (n.reason && !n.joined) s += " ; " + t("net.last", { why: t("net.why." + n.reason) });
  return s + " · " + t(n.synced ? "net.synced" : "net.unsynced");
}

async function state() {
  return JSON.parse(await api.get("network"));
}

function showState(n) {
  el.state.textContent = describe(n);
  el.state.className = n.joined ? "good" : n.mode === "setup" ? "warn" : "";
}

function bars(rssi) {
  return rssi >= -60 ? "▂▄▆█" : rssi >= -70 ? "▂▄▆" : rssi >= -80 ? "▂▄" : "▂";
}

function showNetworks(list, scanning) {
  el.list.replaceChildren(...list.map(([ssid, rssi, secured]) => h("li", null,
    h("button", { type: "button", class: "ghost net", "data-testid": "net-" + ssid,
      "aria-pressed": String(el.ssid.value === ssid),
      onclick: () => { el.ssid.value = ssid; showNetworks(list, false); el.pass.focus(); } },
    h("span", { class: "name" }, ssid),
    h("span", { class: "sig", "aria-label": rssi + " dBm" }, bars(rssi) + " " + rssi + " dBm"),
    h("span", { class: "lock" }, t(secured ? "net.secured" : "net.open"))))));
  el.scan.textContent = scanning ? t("net.scanning") : list.length ? "" : t("net.none");
}

async function scan() {
  const g = gen;
  for (let i = 0; i < 30 && g === gen; i++) {
    try {
      const r = JSON.parse(await api.get("networks"));
      if (g !== gen) return;
      showNetworks(r.networks, r.scanning);
      if (!r.scanning && (r.networks.length || i > 0)) return;
    } catch (e) {
      el.scan.textContent = e.message;
      return;
    }
    await wait(1500);
  }
}

function say(text, ok) {
  el.result.textContent = text;
  el.result.className = "result " + (ok ? "ok" : "error");
}

// the settings as the router checks them (config.py), or null after marking what is wrong
function settings() {
  const out = { wifi_ssid: el.ssid.value, wifi_pass: el.pass.value, dhcp: el.dhcp.checked ? 1 : 0,
    hostname: el.hostname.value.trim() };
  const bad = [];
  if (!out.wifi_ssid) bad.push([el.ssid, "net.e.ssid"]);
  if (!okWpa(out.wifi_pass)) bad.push([el.pass, "net.e.pass"]);
  if (!HOST.test(out.hostname)) bad.push([el.hostname, "net.e.host"]);
  if (!out.dhcp) {
    for (const k of ["ip", "subnet", "gateway", "dns1"]) {
      out[k] = el[k].value.trim();
      if (!IP.test(out[k])) bad.push([el[k], "net.e.ip"]);
    }
  }
  if (el.admin.value) out.adminpass = el.admin.value;
  for (const k of ["ssid", "pass", "hostname", "ip", "subnet", "gateway", "dns1"]) el[k].removeAttribute("aria-invalid");
  for (const [input] of bad) input.setAttribute("aria-invalid", "true");
  if (bad.length) {
    say(t(bad[0][1]), false);
    bad[0][0].focus();
    return null;
  }
  return out;
}

async function save(e) {
  e.preventDefault();
  const s = settings();
  if (!s) return;
  const g = gen;
  el.save.disabled = true;
  try {
    await api.setWifi(s);
    say(t("net.trying", { ssid: s.wifi_ssid }), true);
    for (let i = 0; i < 120 && g === gen; i++) {
      await wait(1000);
      const n = await state();
      if (g !== gen) return;
      showState(n);
      const r = n.trial && n.trial.result;
      if (!r || r === "trying") continue;
      const text = t("net.r." + r, { ssid: n.trial.ssid, ip: n.ip, url: n.url });
      say(r === "joined" && n.mode === "setup" ? text + " " + t("net.r.closing", { ap: n.ap }) : text, r === "joined");
      el.admin.value = "";
      return;
    }
  } catch (err) {
    say(err.message, false);
  } finally {
    el.save.disabled = false;
  }
}

function input(key, label, attrs) {
  const id = "net-" + key;
  el[key] = h("input", { id, "data-testid": "setup-" + key, ...attrs });
  return h("div", { class: "field" }, h("label", { for: id }, t(label)), el[key]);
}

async function fill() {
  const g = gen;
  try {
    const [n, cfg] = [await state(), JSON.parse(await api.get("configmaxpv"))];
    if (g !== gen) return;
    showState(n);
    el.ssid.value = el.ssid.value || n.ssid || "";
    el.dhcp.checked = cfg.dhcp === 1;
    for (const k of ["ip", "subnet", "gateway", "dns1", "hostname"]) el[k].value = cfg[k];
    el.statics.hidden = el.dhcp.checked;
  } catch (e) {
    el.state.textContent = e.message;
  }
}

async function follow() {
  const g = gen;
  while (g === gen) {
    await wait(3000);
    if (g !== gen || el.save.disabled) continue;
    try {
      showState(await state());
    } catch (e) { /* the badge in the header says the router is unreachable */ }
  }
}

export default {
  id: "setup",
  title: "nav.setup",
  mount(root) {
    el = {};
    gen++;
    const ip = { type: "text", inputmode: "decimal", maxlength: 15, autocomplete: "off" };
    root.append(h("div", { class: "pa" },
      h("section", { "aria-labelledby": "h-net" }, h("h2", { id: "h-net" }, t("net.title")),
        (el.state = h("p", { "data-testid": "net-state", "aria-live": "polite" }, "…"))),
      h("section", { "aria-labelledby": "h-net-choose" }, h("h2", { id: "h-net-choose" }, t("net.choose")),
        (el.list = h("ul", { class: "nets", "data-testid": "net-list" })),
        h("div", { class: "actions" }, (el.scan = h("span", { class: "muted", "aria-live": "polite" })),
          h("button", { type: "button", class: "ghost", onclick: scan, "data-testid": "net-rescan" }, t("net.rescan")))),
      h("form", { novalidate: true, onsubmit: save, "data-testid": "setup-form" },
        h("div", { class: "form-grid" },
          input("ssid", "net.ssid", { type: "text", maxlength: 32, autocomplete: "off" }),
          h("div", { class: "field" }, h("label", { for: "net-pass" }, t("net.pass")),
            (el.pass = h("input", { id: "net-pass", type: "password", maxlength: 64, autocomplete: "off", "data-testid": "setup-pass" })),
            h("label", { class: "switch" }, h("input", { type: "checkbox", onchange: (e) => { el.pass.type = e.target.checked ? "text" : "password"; } }), t("net.show"))),
          h("label", { class: "switch" }, (el.dhcp = h("input", { type: "checkbox", role: "switch", checked: true, "data-testid": "setup-dhcp",
            onchange: () => { el.statics.hidden = el.dhcp.checked; } })), t("net.dhcp")),
          input("hostname", "net.hostname", { type: "text", maxlength: 32, autocomplete: "off" })),
        (el.statics = h("div", { class: "form-grid", hidden: true },
          input("ip", "net.ip", ip), input("subnet", "net.subnet", ip), input("gateway", "net.gateway", ip), input("dns1", "net.dns", ip))),
        h("div", { class: "form-grid" },
          h("div", { class: "field" }, h("label", { for: "net-admin" }, t("net.admin")),
            (el.admin = h("input", { id: "net-admin", type: "password", maxlength: 64, autocomplete: "new-password", "data-testid": "setup-admin" })),
            h("div", { class: "help" }, t("net.admin.help")))),
        h("div", { class: "actions" }, (el.save = h("button", { type: "submit", "data-testid": "setup-save" }, t("net.save")))),
        (el.result = h("div", { class: "result", "aria-live": "polite", "data-testid": "setup-result" })))));
    fill();
    scan();
    follow();
  },
  unmount() {
    gen++;
  },
};
