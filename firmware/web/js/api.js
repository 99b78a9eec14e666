// The MaxPV! API as the UI uses it: every call returns the body text or throws ApiError with
// the router's own message, so each view can show what a command did.
import { t } from "./i18n.js";

const AUTH = "maxpv.auth";

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// Asked for the admin password when the router wants one (set by main.js: a dialog).
let askPassword = async () => null;
export function onPasswordNeeded(fn) {
  askPassword = fn;
}

// A 503 is the router refusing a connection before reading it (too many at once, or short of
// memory): nothing was done, so the call is made again after the Retry-After second.
const BUSY_TRIES = 3;
const pause = (ms) => new Promise((done) => setTimeout(done, ms));

async function call(path, retry = true) {
  const headers = { "X-Requested-With": "maxpv-ui" };   // no browser login box on a 401
  const auth = sessionStorage.getItem(AUTH);
  if (auth) headers.Authorization = auth;
  let r;
  for (let k = 1; ; k++) {
    try {
      r = await fetch(path, { headers, cache: "no-store" });
    } catch (e) {
      throw new ApiError(0, t("unreachable"));
    }
    if (r.status !== 503 || k === BUSY_TRIES) break;
    await r.text();
    await pause(1000 * (Number(r.headers.get("Retry-After")) || 1));
  }
  const body = await r.text();
  if (r.status === 401 && retry) {
    const pw = await askPassword();
    if (pw !== null) {
      sessionStorage.setItem(AUTH, "Basic " + btoa("admin:" + pw));
      return call(path, false);
    }
  }
  if (!r.ok) throw new ApiError(r.status, body.trim() || r.statusText);
  return body;
}

// An update bundle POSTed to /api/update with XMLHttpRequest, whose upload events give the
// progress (fetch has none): `progress(fraction)`. The password as `call` asks for it.
export async function upload(file, progress, retry = true) {
  const r = await new Promise((done) => {
    const x = new XMLHttpRequest();
    x.open("POST", "/api/update");
    x.setRequestHeader("X-Requested-With", "maxpv-ui");
    const auth = sessionStorage.getItem(AUTH);
    if (auth) x.setRequestHeader("Authorization", auth);
    x.upload.onprogress = (e) => e.lengthComputable && progress(e.loaded / e.total);
    x.onload = () => done({ status: x.status, body: x.responseText });
    x.onerror = () => done({ status: 0, body: t("unreachable") });
    x.send(file);
  });
  if (r.status === 401 && retry) {
    const pw = await askPassword();
    if (pw !== null) {
      sessionStorage.setItem(AUTH, "Basic " + btoa("admin:" + pw));
      return upload(file, progress, false);
    }
  }
  if (r.status !== 200) throw new ApiError(r.status, r.body.trim() || String(r.status));
  return r.body;
}

const q = encodeURIComponent;
export const get = (what) => call("/api/get?" + what);
export const setParam = (n, value) => call("/api/set?param=" + String(n).padStart(2, "0") + "&value=" + q(value));
export const setMode = (which, mode) => call("/api/set?" + which + "&value=" + mode);
export const setConfig = (obj) => call("/api/set?configmaxpv&value=" + q(JSON.stringify(obj)));
export const setWifi = (obj) => call("/api/set?wifi&value=" + q(JSON.stringify(obj)));
export const setAdminPass = (pw) => call("/api/set?adminpass&value=" + q(pw));
export const action = (name) => call("/api/action?" + name);
export const history = (which) => call("/api/history?" + which);
export function forgetPassword() {
  sessionStorage.removeItem(AUTH);
}
