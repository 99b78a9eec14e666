"""Bits of the router status byte (EcoPV's meaning, kept for MaxPV! clients)."""
from micropython import const

ROUTING = const(1)      # the SSR diverted something in the last second
FULL = const(2)         # routing at ~100 %
RELAY = const(4)        # secondary relay on
EXPORTING = const(8)    # net export over the last second
ANALOG = const(16)      # ADC at a rail, or a channel's zero out of its expected range
RATE = const(32)        # acquisition-rate anomaly: capture pre-empted, or too few windows
ZC_SPURIOUS = const(64)  # a zero crossing where the mains cannot have one
SYNC_LOST = const(128)  # no consistent mains zero crossing: firing stopped
ANOMALIES = const(0xF0)
