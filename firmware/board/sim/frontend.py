"""The analog front end as the ESP32 sees it: sensor -> bias -> 12-bit ADC at 11 dB.

Models what makes a real unit need calibration: per-channel bias and gain error, white
noise, the ESP32's compressive non-linearity near the top of the 11 dB range, rail clipping.
Returns `read_u16`-scaled values like `machine.ADC.read_u16` (raw << 4 | raw >> 8).
"""
from board import config


class AdcChannel:
    def __init__(self, rng, mv_per_unit, bias_mv=config.BIAS_MV, gain=1.0, noise_lsb=2.0,
                 nonlinear=0.0):
        self.rng = rng
        self.mv_per_unit = mv_per_unit   # mV at the pin per volt (V channel) or amp (I channel)
        self.bias_mv = bias_mv
        self.gain = gain                 # ADC gain error (1.0 = nominal)
        self.noise = noise_lsb
        self.nonlinear = nonlinear       # LSB of compression at full scale

    def raw(self, x):
        mv = self.bias_mv + x * self.mv_per_unit
        r = mv * self.gain / config.ADC_MV_PER_LSB
        if self.nonlinear:
            d = (r - 2048) / 2048
            r -= self.nonlinear * d * d * d
        r += self.noise * self.rng.gauss()
        r = int(r + 0.5)
        if r < 0:
            return 0
        if r > 4095:
            return 4095
        return r

    def read_u16(self, x):
        r = self.raw(x)
        return (r << 4) | (r >> 8)
