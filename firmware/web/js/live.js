// The one poller: once a second it reads what the router shows, in one request (the
// original's page made five: on the ESP32 each costs the router loop time), and hands a
// snapshot to whichever view listens. It also keeps the last minutes
// so the live charts have a history the moment they open.
import * as api from "./api.js";

const PERIOD_MS = 1000;
const KEEP = 600;                // points (10 min at 1 Hz)
const listeners = new Set();
export const ring = { t: [], grid: [], pv: [], routed: [], vrms: [], dmin: [], davg: [], dmax: [] };
export let last = null;
let busy = false;

// data number (1-based, as /api/get?data=NN) -> number or null (N/A, nan, absent)
export function num(snap, n) {
  const v = snap && snap.data ? parseFloat(snap.data[n - 1]) : NaN;
  return Number.isFinite(v) ? v : null;
}

function keep(s) {
  const add = (k, v) => {
    ring[k].push(v);
    if (ring[k].length > KEEP) ring[k].shift();
  };
  add("t", s.at / 1000);
  add("grid", num(s, 3));
  add("pv", num(s, 13));
  add("routed", num(s, 5));
  add("vrms", num(s, 1));
  add("dmin", num(s, 16));
  add("davg", num(s, 17));
  add("dmax", num(s, 18));
}

async function tick() {
  if (busy) return;
  busy = true;
  const s = { at: Date.now() };
  try {
    const f = (await api.get("alldata&extended&states&clock")).trim().split(",");
    const n = TABLES.data.length;
    s.data = f.slice(0, n);
    [s.ssr, s.relay, s.ping, s.time, s.clock] = f.slice(n);
    s.online = s.ping === "running";
    keep(s);
  } catch (e) {
    s.error = e.message;
    s.online = false;
  }
  busy = false;
  last = s;
  for (const fn of listeners) fn(s);
}

export function subscribe(fn) {
  listeners.add(fn);
  if (last) fn(last);
  return () => listeners.delete(fn);
}

export function start() {
  tick();
  setInterval(tick, PERIOD_MS);
}

// ask for a fresh snapshot now (after a command), not at the next tick
export const refresh = tick;
