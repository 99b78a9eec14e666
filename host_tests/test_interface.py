"""The router's one interface (realtime.py): readers see one state, commands check their
input and change nothing when refused, and nothing outside realtime.py reaches past it."""
import os
import re

import pytest

from conftest import FIRMWARE, ROOT, run_router
import main
from board.sim.board import SimBoard
from realtime import Refused, NothingSaved
from records.store import Store
from router.status import STOP, FORCE, AUTO
from router.energy import ROUTED, PRODUCED

# what main.py, api/ and the services may use of the router
INTERFACE = {"state", "running", "set_ssr_mode", "set_relay_mode", "boost_on", "boost_off",
             "heater_state", "storage_state", "set_param", "save_params",
             "load_params", "format_params", "reset_energy", "save_energy", "restart", "param",
             "param_text", "params_text", "window_figures", "step", "next_start", "summary"}


def router(tmp_path=None):
    b = SimBoard("clear_day")
    return b, main.make_router(b, Store(str(tmp_path)) if tmp_path else None)


def test_outside_realtime_the_router_is_reached_only_through_its_interface():
    used = {}
    for d, _, files in os.walk(FIRMWARE):
        for f in files:
            path = os.path.join(d, f)
            if not f.endswith(".py") or path == os.path.join(FIRMWARE, "realtime.py"):
                continue
            for name in re.findall(r"\brt\.(\w+)", open(path, encoding="utf-8").read()):
                used.setdefault(name, set()).add(os.path.relpath(path, ROOT))
    assert used, "the grep found nothing: the test would pass whatever the code does"
    assert {"state", "set_ssr_mode", "summary"} <= set(used)
    outside = {k: sorted(v) for k, v in used.items() if k not in INTERFACE}
    assert outside == {}


def test_outside_the_router_only_its_tables_are_imported():
    # main.py builds the router (measure, mains, params); the API, the records and the
    # network side may take the router's tables and constants, never its machinery
    allowed = {"status", "energy", "params"}
    seen = set()
    for folder in ("api", "records", "net"):
        for d, _, files in os.walk(os.path.join(FIRMWARE, folder)):
            for f in files:
                if f.endswith(".py"):
                    text = open(os.path.join(d, f), encoding="utf-8").read()
                    for mod in re.findall(r"from router(?:\.(\w+))? import (\w+)", text):
                        seen.add(mod[0] or mod[1])
    assert seen and seen <= allowed, seen - allowed


def test_the_state_is_complete_before_the_first_second(tmp_path):
    b, rt = router(tmp_path)
    st = rt.state
    assert st.at is None and not rt.running()
    assert st.index == st.day_ref == (0, 0, 0, 0.0, 0)      # never None: "today" reads 0
    assert st.ssr_mode == AUTO and st.relay_mode == AUTO and st.delays is None
    run_router(b, rt, 2.5)
    assert rt.running() and st.vrms > 220 and st.index[ROUTED] > 0


def test_commands_show_in_the_state_at_once(tmp_path):
    b, rt = router(tmp_path)
    run_router(b, rt, 2.5)
    rt.set_ssr_mode(FORCE)
    rt.set_relay_mode(STOP)
    assert (rt.state.ssr_mode, rt.state.relay_mode) == (FORCE, STOP)
    rt.reset_energy()
    assert rt.state.index[ROUTED] == 0 and rt.state.day_ref[ROUTED] == 0
    run_router(b, rt, 5)
    produced = rt.state.index[PRODUCED]        # Wh at CNT_CALIB = 1 Wh per pulse
    assert produced > 0
    rt.set_param(15, "2.5")                    # CNT_CALIB: the produced energy follows at once
    assert rt.state.index[PRODUCED] == 2.5 * produced
    rt.restart()
    assert (rt.state.ssr_mode, rt.state.relay_mode) == (AUTO, AUTO)
    # until the mains is locked again: offline (MaxPV!'s ping), not routing, sync lost
    assert not rt.running() and rt.state.routed == 0 and rt.state.status & 128
    run_router(b, rt, 1.5)
    assert rt.running()


@pytest.mark.parametrize("command,args", [
    ("set_ssr_mode", (5,)), ("set_relay_mode", (2,)), ("set_param", (6, "2001")),
    ("set_param", (6, "abc")), ("set_param", (17, "1")), ("load_params", ()),
])
def test_a_refused_command_says_why_and_changes_nothing(tmp_path, command, args):
    b, rt = router(tmp_path)
    run_router(b, rt, 1.5)
    before = (rt.state.ssr_mode, rt.state.relay_mode, rt.params_text())
    with pytest.raises(Refused) as e:
        getattr(rt, command)(*args)
    assert len(str(e.value)) > 10
    assert (rt.state.ssr_mode, rt.state.relay_mode, rt.params_text()) == before
    if command == "load_params":
        assert isinstance(e.value, NothingSaved)


def test_status_bits_are_named_in_order():
    from router import status
    assert [getattr(status, name) for name in status.BITS] == [1 << k for k in range(8)]
