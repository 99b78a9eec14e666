"""Fake `ds18x20` for host tests (same API as micropython-lib's driver; never deploy).

`convert_temp()` starts a conversion on every sensor (it raises OneWireError when no
device answers the reset, like the real driver); `read_temp(rom)` returns
`DS18X20.temps[rom]`, or raises like a CRC error when `DS18X20.fail` is set. Calls are
counted so tests can check that the board never waits for a conversion.
"""
import onewire


class DS18X20:
    temps = {}        # bytes(rom) -> °C of the last completed conversion
    fail = False
    converts = 0
    reads = 0

    def __init__(self, ow):
        self.ow = ow

    def scan(self):
        return [rom for rom in self.ow.scan() if rom[0] in (0x10, 0x22, 0x28)]

    def convert_temp(self):
        self.ow.reset(True)
        DS18X20.converts += 1

    def read_temp(self, rom):
        DS18X20.reads += 1
        self.ow.reset(True)
        if DS18X20.fail:
            raise Exception("CRC error")
        return DS18X20.temps.get(bytes(rom), 85.0)
