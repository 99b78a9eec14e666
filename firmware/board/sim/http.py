"""The simulated house's controls over HTTP, served beside the API by the firmware on the
simulated board (SimBoard.serve_controls); never part of the device image:

    GET /sim/state                     the sim's ground truth and what it is doing, as JSON;
                                       "now": what a perfect meter shows, averaged over about
                                       the last second (vrms V, irms A, p W grid import +)
    GET /sim/set?load=W                an extra house load of W watts (0 removes it)
    GET /sim/set?pv=F                  PV production times F (0..2; clouds, 1 = the sun's)
    GET /sim/set?thermostat=open|closed|auto
    GET /sim/set?mains=off|on          a grid outage
    GET /sim/set?clamp=open|closed     the CT clamp taken off the cable (no current through it;
                                       what the board picks up by itself remains)
    GET /sim/set?wifi=down|nodhcp|up   every Wi-Fi network out of range (the box is off); in
                                       range but no DHCP answer; back (board/sim/radio.py)
    GET /sim/set?phone=on|off          a phone on the setup access point, or not
"""
import json
from .world import between

TEXT = {"Content-Type": "text/plain; charset=utf-8"}
# the controls that take one word of a list: /sim/set?KEY=WORD
CHOICES = (("thermostat", ("open", "closed", "auto")), ("mains", ("on", "off")),
           ("clamp", ("open", "closed")), ("wifi", ("down", "nodhcp", "up")),
           ("phone", ("on", "off")))


def register(app, board):
    world = board.world
    sc = board.scenario

    @app.get("/sim/state")
    async def sim_state(req):
        t = board.truth()
        st = world.state
        s0 = world.truth.second_ago()
        now = None
        if s0 is not None:
            b = between(s0, t)
            now = {"seconds": b["seconds"], "vrms": b["vrms"], "irms": b["irms"], "p": b["p"]}
        return json.dumps({
            "seconds": board.seconds(), "mains_on": st.mains_on, "hz": st.hz,
            "pv_w": world.p_pv, "loads_w": [w for w, _ in st.loads],
            "heater_powered": world.heater_powered(), "tank_c": world.tank_c,
            "relay_on": world.relay_on, "manual": sc.manual,
            "clamp": "open" if sc.manual.get("clamp") == "open" else "closed", "now": now,
            "truth": {"seconds": t[0], "grid_wh": t[1] / 3600, "heater_wh": t[2] / 3600,
                      "pv_wh": t[3] / 3600, "relay_wh": t[4] / 3600},
        }), 200, {"Content-Type": "application/json"}

    @app.get("/sim/set")
    async def sim_set(req):
        a = req.args
        m = dict(sc.manual)
        try:
            if "load" in a:
                w = float(a["load"])
                if not 0 <= w <= 20000:
                    raise ValueError("load must be 0..20000 W")
                m["load_w"] = w
            if "pv" in a:
                f = float(a["pv"])
                if not 0 <= f <= 2:
                    raise ValueError("pv must be 0..2")
                m["pv_factor"] = f
            for key, words in CHOICES:
                if key in a:
                    if a[key] not in words:
                        raise ValueError("%s must be %s or %s" % (key, ", ".join(words[:-1]),
                                                                words[-1]))
                    m[key] = a[key]
            if not m or m == sc.manual and not a:
                raise ValueError("nothing to set (load, pv, %s)" % ", ".join(k for k, _ in CHOICES))
        except ValueError as e:
            return "Bad request: %s" % e, 400, TEXT
        sc.manual = m
        return "Request successfully processed", 200, TEXT
