"""The self-test's measurements on the chip (Esp32Board.probe): imported only while the
self-test runs, so a board that does not run it keeps none of this in its heap.

Each probe holds the processor well under a millisecond, less than the ~3 ms the router
leaves between its windows (realtime.MIN_GAP_US), so the self-test's runner (selftest.py) can
call them between windows without the router missing its next one.

- "adc": the cost of one read_u16 of the voltage channel: ADC_READS reads timed on the µs
  clock, less the same loop without the read (the interpreter's own cost, which the viper
  capture does not have in full). ~0.5 ms at ~15 µs a read.
- "rmt": the RMT's start latency, the delay from the call to write_pulses to the gate's
  first edge, which firing.build assumes to be config.RMT_LATENCY_US. One short gate pulse
  (PULSE_US high after LOW_US low) is written to an idle channel that the pin is switched to
  (as fire() does), and machine.time_pulse_us reads the pad back: it waits for the rising
  edge and returns the high time, and the edge is then at the clock after it less that
  time. Reading the pad back needs its input buffer: MicroPython's Pin.OUT configures
  the pad as input and output, and on the classic ESP32 the pin is put back to it
  (Pin.init) before the pulse, as _cut() does, the GPIO matrix then choosing who drives the
  output; elsewhere the pad is as ESP-IDF's RMT driver left it (output only, unless it
  reads back), and the latency may then be not measurable. The figure includes a few µs of
  time_pulse_us's own return. Where the pad cannot
  be read (no edge within the timeout, or a width that is not the pulse's) the latency is
  "not measurable", with the reason. Where the pin cannot be switched between channels (a
  chip other than the classic ESP32, or a surprise at start-up: the board's docstring) a
  write to the single channel while a train runs would wait for it, so the pulse is sent
  only when it is idle. The pulse reaches the SSR: sent while the SSR is stopped, it may
  fire the heater for the rest of one half-cycle (10 ms) at most.
"""
import machine
from machine import Pin
from router.ticks import tdiff

ADC_READS = 32
LOW_US = 300          # before the edge: time_pulse_us must be waiting when it comes
PULSE_US = 50
TIMEOUT_US = 3000
WIDTH_TOL_US = 15     # the high time read back must be the pulse's, to this


def run(b, what):
    if what == "adc":
        return adc(b)
    if what == "rmt":
        return rmt(b)
    raise ValueError(what)


def adc(b):
    ticks = b.ticks_us
    read = b._read_v
    n = ADC_READS
    k = 0
    t0 = ticks()
    while k < n:
        read()
        k += 1
    t1 = ticks()
    k = 0
    while k < n:
        k += 1
    t2 = ticks()
    return {"us": (tdiff(t1, t0) - tdiff(t2, t1)) / n}


def rmt(b):
    i = b._idle()
    if i < 0:
        return {"us": None, "how": "every RMT channel was busy"}
    if not b._sels and i != b._routed:
        return {"us": None, "how": "the gate pin cannot be switched to an idle channel"}
    gate = b._gate
    if b._sels:
        # the pad's input buffer on (and the output low) before the matrix gives the pin to
        # channel i; elsewhere Pin.init would take the pin from the RMT for good
        gate.init(Pin.OUT)
        b._mem32[b._sel_reg] = b._sels[i]
        b._routed = i
    train = b._bufs[2]
    train[0] = LOW_US
    train[1] = PULSE_US
    ticks = b.ticks_us
    t0 = ticks()
    b._write[i](train, 0)
    width = machine.time_pulse_us(gate, 1, TIMEOUT_US)
    t1 = ticks()
    b.trains += 1
    b._cut()
    if width < 0:
        return {"us": None, "how": "the gate pin's level could not be read back (no edge "
                "within %d µs)" % TIMEOUT_US}
    if abs(width - PULSE_US) > WIDTH_TOL_US:
        return {"us": None, "how": "the gate pin read back a %d µs pulse where %d µs was sent"
                % (width, PULSE_US)}
    return {"us": tdiff(t1, t0) - width - LOW_US,
            "how": "a %d µs gate pulse timed back on the pin with machine.time_pulse_us"
            % PULSE_US}
