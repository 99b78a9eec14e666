"""Fake `machine` for running board/esp32.py under the MicroPython unix port (host tests).

It shadows the unix port's `machine` (a module a .py file may extend). Everything records
what the firmware asked for; nothing goes to a device. Never deploy this file.

The parts of the ESP32 that the board's correctness depends on are modelled, from the
same sources as the board's docstring:
- `mem32` is a register file; the GPIO matrix output selectors live at
  GPIO_FUNC0_OUT_SEL_CFG + 4*pin. `Pin.init(mode=OUT)` routes the pin to its plain GPIO
  output (signal 256, as ESP-IDF's gpio_output_enable does) and the fake `esp32.RMT`
  routes it to channel c (signal 87 + c) when the channel is created;
- `pad_level(pin, t)` is what the pad really outputs at tick t: the GPIO level, or the
  level of the RMT train routed to it.
"""

GPIO_FUNC0_OUT_SEL_CFG = 0x3FF44530
SIG_GPIO_OUT = 256
RMT_SIG_OUT0 = 87
_freq = [160000000]


def out_sel_reg(pin_id):
    return GPIO_FUNC0_OUT_SEL_CFG + 4 * pin_id


class _Mem:
    """Word-addressed register file (reads of unwritten registers give 0)."""

    def __init__(self):
        self.regs = {}
        self.writes = 0

    def __getitem__(self, addr):
        return self.regs.get(addr, 0)

    def __setitem__(self, addr, value):
        self.regs[addr] = value & 0xFFFFFFFF
        self.writes += 1


mem32 = _Mem()


def routed(pin_id):
    """The matrix signal driving the pin's output (256 = plain GPIO, 87 + c = RMT c)."""
    return mem32[out_sel_reg(pin_id)] & 0x1FF


def pad_level(pin_id, t):
    """The level the pad outputs at tick t."""
    sig = routed(pin_id)
    if sig == SIG_GPIO_OUT:
        return Pin.pads[pin_id]["value"] if Pin.pads[pin_id]["mode"] == Pin.OUT else 0
    if RMT_SIG_OUT0 <= sig < RMT_SIG_OUT0 + 8:
        import esp32
        return esp32.RMT.channel(sig - RMT_SIG_OUT0).level_at(t)
    return 0


def freq(hz=None):
    if hz is None:
        return _freq[0]
    _freq[0] = hz


def idle():
    pass


def disable_irq():
    return 0


def enable_irq(state=0):
    pass


class Pin:
    IN = 1
    OUT = 3
    OPEN_DRAIN = 7
    PULL_DOWN = 1
    PULL_UP = 2
    IRQ_RISING = 1
    IRQ_FALLING = 2
    pads = {}     # pin id -> state shared by every Pin object of that id (as on the chip)

    def __init__(self, id, mode=-1, pull=-1, value=None):
        self.id = id
        if id not in Pin.pads:
            Pin.pads[id] = {"mode": None, "pull": None, "value": 0, "handler": None,
                            "trigger": 0, "inits": 0}
        self._pad = Pin.pads[id]
        self.init(mode, pull, value=value)

    def init(self, mode=-1, pull=-1, value=None):
        p = self._pad
        p["inits"] += 1
        if value is not None:
            p["value"] = 1 if value else 0
        if mode != -1 and mode is not None:
            p["mode"] = mode
            if mode == Pin.OUT or mode == Pin.OPEN_DRAIN:
                mem32[out_sel_reg(self.id)] = SIG_GPIO_OUT
        if pull != -1:
            p["pull"] = pull

    def value(self, v=None):
        if v is None:
            return self._pad["value"]
        self._pad["value"] = 1 if v else 0

    def on(self):
        self.value(1)

    def off(self):
        self.value(0)

    def irq(self, handler=None, trigger=3):
        self._pad["handler"] = handler
        self._pad["trigger"] = trigger

    @staticmethod
    def edge(pin_id, trigger):
        """Test helper: an edge on the pin runs its IRQ handler (a soft IRQ on the chip)."""
        p = Pin.pads[pin_id]
        if p["handler"] is not None and p["trigger"] & trigger:
            p["handler"](Pin(pin_id))


class ADC:
    ATTN_0DB = 0
    ATTN_2_5DB = 1
    ATTN_6DB = 2
    ATTN_11DB = 3
    sources = {}  # pin id -> list of 12-bit raw values played cyclically, or a callable
    created = []

    def __init__(self, pin, atten=None):
        self.pin = pin.id if isinstance(pin, Pin) else pin
        self.atten = atten
        self.reads = 0
        ADC.created.append(self)

    def read(self):
        src = ADC.sources.get(self.pin)
        if src is None:
            raw = 0
        elif callable(src):
            raw = src()
        else:
            raw = src[self.reads % len(src)]
        self.reads += 1
        return raw

    def read_u16(self):
        raw = self.read()
        return (raw << 4) | (raw >> 8)     # what the esp32 port returns for 12-bit reads


class WDT:
    """The chip's one watchdog as the esp32 port of v1.27/v1.28 drives it
    (ports/esp32/machine_wdt.c): the first WDT() starts it; a later one only reconfigures
    its timeout (esp_task_wdt_reconfigure, which restarts it: a feed); nothing stops it
    (no deinit); only a reset does (`reset()` here). `running`, `timeout_ms`: the
    hardware's state; each object records its own timeout and feeds."""
    instances = []
    running = False
    timeout_ms = None

    def __init__(self, id=0, timeout=5000):
        if id != 0:
            raise ValueError()
        if timeout <= 0:
            raise ValueError("WDT timeout too short")
        self.timeout = timeout
        self.feeds = 0
        WDT.running = True
        WDT.timeout_ms = timeout
        WDT.instances.append(self)

    def feed(self):
        self.feeds += 1


# machine.reset_cause() (the esp32 port's values); `cause[0]` is what the next boot reports
PWRON_RESET = 1
HARD_RESET = 2
WDT_RESET = 3
DEEPSLEEP_RESET = 4
SOFT_RESET = 5
cause = [PWRON_RESET]
resets = [0]


def reset_cause():
    return cause[0]


def reset():
    """A hard reset: the watchdog stops; the test sees SystemExit (nothing runs on)."""
    WDT.running = False
    WDT.timeout_ms = None
    resets[0] += 1
    cause[0] = HARD_RESET
    raise SystemExit("machine.reset()")


class Counter:
    RISING = 1
    FALLING = 2
    UP = 1
    DOWN = -1
    instances = []

    def __init__(self, id, src=None, *, edge=1, direction=1, filter_ns=0):
        self.id = id
        self.src = src
        self.edge = edge
        self.direction = direction
        self.filter_ns = filter_ns
        self.count = 0
        Counter.instances.append(self)

    def value(self, value=None):
        r = self.count
        if value is not None:
            self.count = value
        return r

    def pulse(self, n=1):
        """Test helper: n edges counted by the hardware."""
        self.count += n * self.direction


class RTC:
    """The real-time clock: records what the firmware sets."""
    set = None

    def datetime(self, t=None):
        if t is None:
            return RTC.set
        RTC.set = tuple(t)


def unique_id():
    return b"\x24\x6f\x28\x9a\x5a\x17"      # a MAC-like id: the AP is MaxPV-5A17


def time_pulse_us(pin, pulse_level, timeout_us=1000000):
    """As the port's: waits (up to timeout_us) for the pin to be at pulse_level, then times
    how long it stays there (-1: it never got there, -2: it did not end in time). The level
    is the pad's (pad_level: the RMT train routed to it) on the RMT's clock, polled as fast
    as the unix port goes."""
    import esp32
    now = esp32.RMT.now
    pid = pin.id if isinstance(pin, Pin) else pin
    t0 = now()
    while pad_level(pid, now()) != pulse_level:
        if (now() - t0) & 0x3FFFFFFF >= timeout_us:
            return -1
    t1 = now()
    while pad_level(pid, now()) == pulse_level:
        if (now() - t1) & 0x3FFFFFFF >= timeout_us:
            return -2
    return (now() - t1) & 0x3FFFFFFF
