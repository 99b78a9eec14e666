"""Layout of one capture window: the sums a board's capture writes into an `array('i')`.

This is the contract between `board/capture.py` (producer) and the router (consumer).
All values are 31-bit safe by construction: see `host_tests/test_int_bounds.py`.
"""
from micropython import const

N = const(0)       # sample pairs accumulated (the lead sample is not counted)
SV = const(1)      # Σ v           v, i = 12-bit ADC count minus the mid-point passed in
SI = const(2)      # Σ i
SVV = const(3)     # Σ v²
SII = const(4)     # Σ i²
SVI = const(5)     # Σ v[k]·i[k]
SVI1 = const(6)    # Σ v[k]·i[k-1]   (current one sample earlier: phase correction)
SV1I = const(7)    # Σ v[k-1]·i[k]   (voltage one sample earlier)
T0 = const(8)      # tick (µs, 30-bit) of the lead sample
T1 = const(9)      # tick of the last sample
NRISE = const(10)  # rising zero crossings of v seen
TRISE = const(11)  # interpolated tick of the first rising crossing
NFALL = const(12)  # falling zero crossings of v seen
TFALL = const(13)  # interpolated tick of the first falling crossing
CLIP = const(14)   # samples at the ADC rails (0 or 4095) on either channel
LATE = const(15)   # worst lateness of a sample against its slot, µs
TRISE2 = const(16)  # interpolated tick of the last rising crossing (differs if NRISE > 1)
LEN = const(17)

ADC_MAX = const(4095)  # 12-bit converter
SAMPLES = const(100)   # sample pairs per window: one mains cycle (the period adapts, see mains.py)
