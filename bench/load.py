"""The load a real board carries besides routing, for bench/regulation_run.py: the firmware's
own HTTP, MQTT and flash work, run between windows on the simulated board and charged to
its clock (SimBoard.charge: host CPU time times the scenario's cpu_factor).

What runs is the firmware's code, not a model of it:
- HTTP: a whole request over a loopback socket to api/server.py's listener in this process
  (accept, the asyncio streams, the head read and checked, the guard, the endpoint, the
  answer written), the client's few system calls included;
- MQTT: the publish cycle of net/mqtt_link.py, one message per step as it sends them, each
  built from the router's state (net/mqtt_topics.py) and encoded by net/mqtt.py;
- flash: the energy record written by records/store.py (`Realtime.save_energy`), on an
  in-memory file system here: what the host's own file system costs says nothing of the
  chip's. The chip's flash is charged instead as FLASH_ERASE_MS per save: LittleFS may
  erase a 4 KB sector for it, and while the flash erases, the ESP32 runs only code in IRAM
  (ESP-IDF's SPI flash documentation, "Concurrency Constraints"), so the loop stalls; the
  RMT goes on firing the train it was given.

PROFILES name the loads: each job is (name, period s, first at s). "normal" is an owner's
everyday: the web UI open (its live poll every second, its chart's history every minute),
Home Assistant's REST poll every 5 s, MQTT every second, the energy save every 300 s (the
first at 25 s, so that every run has one).

Each step is charged as one block: the real server yields while it reads a request's lines,
so on the chip it spreads the same work over a few gaps. Charging it whole is the worse case
for the router.
"""
import asyncio
import gc
import socket
import time
from router.ticks import tdiff

UI_LIVE = "/api/get?alldata&extended&states&clock"    # web/js/live.js, every second
UI_HISTORY = ("/api/history?power", "/api/history?relay")  # web/js/charts.js, every minute
HA_POLL = "/api/get?alldata"                           # a REST sensor's poll
# A 4 KB sector erase, typical, on the 4 MB SPI flash of ESP32 modules (Winbond W25Q32JV
# datasheet, tSE 45 ms typ. / 400 ms max.; GigaDevice GD25Q32C 50 ms typ.).
FLASH_ERASE_MS = 45
CALIBRATION_RUNS = 9
# The host's speed: _reference() took REF_HOST_US on the host whose pystone figure gives
# the board's CPU_FACTOR (board/sim/board.py), timed in the same run as Proc0(500) (5.05
# ms, 15.0 times as long). Costs measured on a slower or busier host are scaled back to it.
REF_HOST_US = 337


def _reference():
    """A little of everything the firmware's handlers do: formatting, dict, int maths."""
    d = {}
    s = 0
    for k in range(200):
        key = "k%d" % (k & 15)
        d[key] = d.get(key, 0) + k
        s += len(key) * 3 // 2
    return s


def host_speed(runs=15):
    """REF_HOST_US over this host's fastest run of _reference() now (1: as fast)."""
    best = None
    for _ in range(runs):
        gc.collect()
        t = time.ticks_us()
        _reference()
        d = tdiff(time.ticks_us(), t)
        best = d if best is None or d < best else best
    return REF_HOST_US / best

PROFILES = {
    "idle": (),
    "normal": (("ui", 1, 0.5), ("ui_history", 60, 0.7), ("ha", 5, 0.3), ("mqtt", 1, 0.1),
               ("flash", 300, 25)),
}


class _RamFs:
    """records/store.py's file system, in memory."""

    def __init__(self):
        self.files = {}

    def makedirs(self, path):
        pass

    def write(self, path, text):
        self.files[path] = text

    def read(self, path):
        try:
            return self.files[path]
        except KeyError:
            raise OSError(2)

    def exists(self, path):
        return path in self.files

    def rename(self, a, b):
        self.files[b] = self.read(a)
        del self.files[a]

    def remove(self, path):
        self.read(path)
        del self.files[path]


class _Broker:
    """The MQTT client's stream to a broker that takes everything at once."""

    out_buf = b""        # as MicroPython's Stream: nothing left for drain()

    def write(self, b):
        pass


class Load:
    """The jobs of a profile over the router `rt` on the simulated board `board`."""

    def __init__(self, board, rt, profile):
        from api.app import make_app
        from api.endpoints import Backend
        from net.clock import Clock
        from records.store import Store
        from records.config import Config
        from records.history import History
        from records.admin import Admin
        self.board = board
        self.rt = rt
        store = Store("/bench", _RamFs())
        rt.store = store
        self.config = Config(store)
        self.app = make_app(Backend(rt, Clock(board), self.config, History(store),
                                    Admin(store), lambda: None))
        self.addr = None
        jobs = PROFILES.get(profile)
        if jobs is None:          # "ui+mqtt": those jobs of the normal load alone
            jobs = [j for j in PROFILES["normal"] if j[0] in profile.split("+")]
        self.jobs = [[name, period, first] for name, period, first in jobs]
        self.pending = []         # steps of started jobs, one per gap
        self.cost = {}            # job -> host µs per step at REF_HOST_US speed (calibrate())
        self.speed = 1.0
        self.steps = {}           # job -> steps run
        self.answers = {}         # path -> the status line of its last answer

    def _listen(self):
        """The API's listener on a free loopback port (two benchmarks run at once)."""
        from api.server import _Listener
        for port in range(18100, 18200):
            sock = socket.socket()
            try:
                sock.bind(socket.getaddrinfo("127.0.0.1", port)[0][-1])
            except OSError:
                sock.close()
                continue
            sock.setblocking(False)
            sock.listen(4)
            self.server = _Listener(sock, self.app.handle_request)
            self.addr = socket.getaddrinfo("127.0.0.1", port)[0][-1]
            return
        raise OSError("no free port for the bench's HTTP server")

    async def start(self, costs=None):
        """Listen, and take each job's cost per step from `costs` (calibrate()'s figures,
        measured once for every run of a table) or measure them now."""
        self._listen()
        await asyncio.sleep_ms(0)             # the listener waits for connections
        if costs:
            self.cost = dict(costs)
        else:
            await self.calibrate()

    async def calibrate(self, runs=CALIBRATION_RUNS):
        """Each job's cost per step: the median step of its fastest run of `runs`, timed step
        by step, the host's garbage collection kept out of the timing (the board's model has
        the chip's, gc_ms). One figure per job, so that the host's hiccups (its scheduler,
        the other benchmark process, its own collections), which the factor would multiply,
        do not decide the table."""
        self.speed = host_speed()
        for name, _, _ in self.jobs:
            best = None
            for _ in range(runs):
                times = []
                steps = self._steps(name)
                while True:
                    gc.collect()
                    t = time.ticks_us()
                    try:
                        work = next(steps)        # a step's coroutine (None: done in next())
                        if work is not None:
                            await work
                    except StopIteration:
                        break
                    times.append(tdiff(time.ticks_us(), t))
                times.sort()
                median = times[len(times) // 2]
                best = median if best is None or median < best else best
            self.cost[name] = best * self.speed

    async def gap(self):
        """The work of one gap between windows: the next step of each running job and of
        the jobs that fall due, each charged to the board at its calibrated cost."""
        now = self.board.seconds()
        for job in self.jobs:
            if now >= job[2]:
                job[2] += job[1]
                self.pending.append((job[0], self._steps(job[0])))
        keep = []
        for name, steps in self.pending:
            try:
                work = next(steps)
                if work is not None:
                    await work
            except StopIteration:
                continue
            self.board.charge(self.cost[name], FLASH_ERASE_MS * 1000 if name == "flash" else 0)
            self.steps[name] = self.steps.get(name, 0) + 1
            keep.append((name, steps))
        self.pending = keep

    def _steps(self, name):
        if name == "ui":
            return self._http(UI_LIVE)
        if name == "ui_history":
            return self._http(*UI_HISTORY)
        if name == "ha":
            return self._http(HA_POLL)
        if name == "mqtt":
            return self._mqtt()
        return self._flash()

    def _http(self, *paths):
        for path in paths:
            yield self._get(path)

    async def _get(self, path):
        c = socket.socket()
        c.connect(self.addr)
        c.send(b"GET %s HTTP/1.1\r\nHost: maxpv.local\r\n\r\n" % path.encode())
        c.setblocking(False)
        head = b""
        try:
            for _ in range(100000):
                await asyncio.sleep_ms(0)     # the server's tasks run
                try:
                    d = c.recv(4096)
                except OSError:               # nothing yet
                    continue
                if not d:
                    if head:
                        self.answers[path] = head.split(b"\r\n", 1)[0].decode()
                        return
                    break
                if len(head) < 64:
                    head += d
            raise RuntimeError("no answer to " + path)
        finally:
            c.close()

    def _mqtt(self):
        from net import mqtt_topics as T
        from net.mqtt import Client
        c = Client("maxpv-bench", 30)
        c.stream = _Broker()
        base = "maxpv"
        for row in T.TOPICS:
            topic, _, source = row.partition(":")
            yield c.publish(base + "/" + topic, T.value(self.rt, source))

    def _flash(self):
        yield self.rt.save_energy()

    def report(self, cpu_factor):
        """{job: (steps run, host µs per step at the reference speed, chip ms per step)}"""
        return {k: (self.steps.get(k, 0), round(us), us * cpu_factor / 1000 +
                    (FLASH_ERASE_MS if k == "flash" else 0)) for k, us in self.cost.items()}

