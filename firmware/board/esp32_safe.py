"""The ESP32 in safe mode (safemode.py): the SSR gate and the relay held low, the clock and
the Wi-Fi radio; no ADC, RMT, PCNT, 1-Wire, and no watchdog.

It is the part of board/esp32.py's interface that the HTTP API, the Wi-Fi and the clock use,
and nothing more: it imports neither esp32.RMT nor the viper capture, so a MicroPython
whose RMT differs (before v1.27) or a damaged module of the router cannot stop it. The
gate's pull-down (docs/hardware.md) holds the SSR off even before the pins are set here.
"""
import time
import machine
from machine import Pin
from board.config import PIN_SSR, PIN_RELAY

# seconds from 1970 to the port's epoch (as board/esp32.py)
_EPOCH = 946684800 if time.gmtime(0)[0] == 2000 else 0


def power_on():
    """This boot follows a power-up or a brown-out (or, on the classic ESP32, the EN
    button, which it reports as a power-up), not a reset: a start it cut short was not the
    firmware's failure (safemode.Guard.begin)."""
    return machine.reset_cause() == machine.PWRON_RESET


class Esp32Safe:
    NAME = "esp32"

    def __init__(self, data_dir="/data"):
        self.data_dir = data_dir
        self._gate = Pin(PIN_SSR, Pin.OUT, value=0)
        self._relay = Pin(PIN_RELAY, Pin.OUT, value=0)
        self.ticks_us = time.ticks_us
        self.ticks_ms = time.ticks_ms
        self._ms = 0
        self._last = time.ticks_ms()

    def utc(self):
        return time.time() + _EPOCH

    def set_utc(self, t):
        g = time.gmtime(int(t) - _EPOCH)
        machine.RTC().datetime((g[0], g[1], g[2], g[6], g[3], g[4], g[5], 0))

    def seconds(self):
        now = time.ticks_ms()
        self._ms += time.ticks_diff(now, self._last)
        self._last = now
        return self._ms / 1000

    def reboot(self):
        machine.reset()

    def chip_id(self):
        return "".join("%02x" % b for b in machine.unique_id())

    def radio(self):
        from board.esp32_wifi import Esp32Wifi
        return Esp32Wifi()

    def ssr_off(self):
        self._gate.init(Pin.OUT, value=0)

    def relay(self, on):
        self._relay.value(0)      # never on in safe mode

    def temperature(self):
        return None

    def pulses(self):
        return 0

    def wdt_start(self, ms=None):
        pass                      # safe mode never starts the watchdog

    def wdt_running(self):
        return False

    def wdt_feed(self):
        pass

    def wdt_stretch(self, ms):
        pass

    def between_windows(self, next_start=None):
        """Milliseconds to sleep until `next_start` (a ticks_us tick), as Esp32Board."""
        if next_start is None:
            return 0
        ahead = time.ticks_diff(next_start, time.ticks_us())
        return ahead // 1000 if ahead > 0 else 0
