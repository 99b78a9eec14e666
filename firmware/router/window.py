"""Layout of one capture window in an `array('i')`: what the router asks for (IN_*) and the
sums the board's capture writes back.

This is the contract between `board/capture.py` and the router. The inputs travel in the
array because viper functions are only safe with up to four arguments on every port.
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
NRISE = const(10)  # rising zero crossings of v (confirmed: the new sign held RUN samples)
TRISE = const(11)  # interpolated tick of the first rising crossing
NFALL = const(12)  # falling zero crossings of v seen
TFALL = const(13)  # interpolated tick of the first falling crossing
CLIP = const(14)   # samples at the ADC rails (0 or 4095) on either channel
LATE = const(15)   # worst lateness of a sample against its slot, µs
NGLITCH = const(16)  # sign changes of v that reverted within RUN samples (not the mains)
SVI_B = const(22)  # Σ v·i over the second half of the window (its last half-cycle)
SV_B = const(23)   # Σ v over the second half
SI_B = const(24)   # Σ i over the second half
IN_N = const(17)      # in: sample pairs to accumulate
IN_PERIOD = const(18)  # in: sample period, 1/256 µs
IN_VMID = const(19)   # in: zero of the voltage channel (counts)
IN_IMID = const(20)   # in: zero of the current channel (counts)
IN_START = const(21)  # in: tick of the first (lead) sample; if already past, start at once
IN_REF = const(25)    # in: REF_BIAS + the Σ v·i the first half-cycle should show (the
                      #     command's model; biased because ptr32 loads are unsigned)
IN_TOL = const(26)    # in: the window ends after its first half-cycle if that Σ v·i is
                      #     further than this from IN_REF (a step); 0: never cut short
LEN = const(27)
REF_BIAS = const(1 << 29)   # > |Σ v·i| of any half-cycle (host_tests/test_int_bounds.py)
MAX_WAIT_US = const(25000)  # a start further ahead than this is a caller bug: start at once

ADC_MAX = const(4095)  # 12-bit converter
SAMPLES = const(100)   # sample pairs per window: one mains cycle (the period adapts, see mains.py)
RUN = const(8)         # samples a new sign must hold to be a zero crossing (1.6 ms at 50 Hz)
