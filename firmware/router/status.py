"""The router's named states: the SSR and relay modes, and the bits of the status byte.

Numbers are EcoPV's, kept for MaxPV! clients: data 14/15 print the mode number, data 20 the
status byte as 8 binary digits, bit 7 first.
"""
from micropython import const

# --- Modes of the SSR and of the secondary relay
STOP = const(0)
FORCE = const(1)
AUTO = const(9)
MODES = (STOP, FORCE, AUTO)
# the words of /api/set?ssrmode|relaymode&value=...
MODE_WORDS = {"stop": STOP, "force": FORCE, "auto": AUTO}

# --- Bits of the status byte
ROUTING = const(1)      # the SSR diverted something in the last second
FULL = const(2)         # routing at ~100 %
RELAY = const(4)        # secondary relay on
EXPORTING = const(8)    # net export over the last second
ANALOG = const(16)      # ADC at a rail, or a channel's zero out of its expected range
RATE = const(32)        # acquisition-rate anomaly: capture pre-empted, or too few windows
ZC_SPURIOUS = const(64)  # a zero crossing where the mains cannot have one
SYNC_LOST = const(128)  # no consistent mains zero crossing: firing stopped
ANOMALIES = const(0xF0)
# the bits' names, bit 0 first (the web UI's words are keyed by them)
BITS = ("ROUTING", "FULL", "RELAY", "EXPORTING", "ANALOG", "RATE", "ZC_SPURIOUS", "SYNC_LOST")
