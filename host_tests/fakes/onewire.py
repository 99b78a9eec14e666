"""Fake `onewire` for host tests: a bus whose devices the test sets (never deploy)."""


class OneWireError(Exception):
    pass


class OneWire:
    SKIP_ROM = 0xCC
    devices = []      # ROM codes (bytearray of 8) present on the bus

    def __init__(self, pin):
        self.pin = pin

    def reset(self, required=False):
        present = bool(OneWire.devices)
        if required and not present:
            raise OneWireError
        return present

    def scan(self):
        return [bytearray(r) for r in OneWire.devices]
