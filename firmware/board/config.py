"""The reference board: pin assignment and analog front-end constants, in one place.

Documented (with the wiring and the arithmetic behind each number) in docs/hardware.md.
The simulated board models this same front end, so nominal calibration factors derived
here are what a freshly flashed unit starts with.
"""
from micropython import const

# --- Pins: ESP32-WROOM-32 devkit. ADC1 only (ADC2 is unusable while Wi-Fi runs).
PIN_V = const(36)        # ADC1_CH0 (VP): mains voltage, transformer/ZMPT101B, biased
PIN_I = const(39)        # ADC1_CH3 (VN): grid current, SCT-013-000 + burden, biased
PIN_SSR = const(25)      # random-fire SSR gate, driven only by the RMT peripheral
PIN_RELAY = const(26)    # secondary relay module
PIN_PULSE = const(27)    # S0 pulse input of the PV production meter (pull-up, falling edge)
PIN_ONEWIRE = const(4)   # DS18B20 tank temperature (4.7 kΩ pull-up)

# --- ADC (12 bit, 11 dB attenuation). The linear part of the 11 dB range is
# 150..2450 mV, so both channels are biased at its middle and swing at most ±1.0 V.
ADC_MV_PER_LSB = 0.806   # ~3300 mV / 4095 (chip-to-chip spread is absorbed by calibration)
BIAS_MV = 1300
MID = const(1613)        # BIAS_MV / ADC_MV_PER_LSB: nominal zero of both channels (counts)
MID_SPAN = const(300)    # the capture's zero is kept within MID ± MID_SPAN (31-bit bound)
MID_TOLERANCE = const(150)  # a tracked zero further than this from MID is an analog anomaly

# --- Voltage channel: 230 V rms -> 0.85 V peak at the pin (253 V, +10 %, -> 0.94 V).
V_MV_PER_VOLT = 850 / (230 * 1.41421356)
# --- Current channel: SCT-013-000 (100 A : 50 mA, i.e. 2000:1) into a 33 Ω burden.
CT_RATIO = 2000
BURDEN_OHM = 33
I_MV_PER_AMP = 1000 * BURDEN_OHM / CT_RATIO    # 16.5 mV/A: 60 A peak = 1.0 V

# Nominal calibration (the roles of EcoPV's V_CALIB and P_CALIB, in ESP32 12-bit counts).
V_CALIB = ADC_MV_PER_LSB / V_MV_PER_VOLT             # volts per count, ~0.309
I_CALIB = ADC_MV_PER_LSB / I_MV_PER_AMP              # amps per count, ~0.0488
P_CALIB = V_CALIB * I_CALIB                          # VA per count², ~0.0151
PHASE_CALIB = 17   # 16 = no shift; +1 (12.5 µs) compensates I being read one conversion after V

# --- Sampling and firing.
V_TO_I_SKEW_US = const(11)   # I is read one conversion after V (phase-corrected by PHASE_CALIB)
RMT_LATENCY_US = const(30)   # call-to-first-edge of esp32.RMT.write_pulses (calibrate on HW)
GATE_GUARD_US = const(300)   # gate released this long before the predicted next zero
MIN_DELAY_US = const(150)    # earliest firing after a zero (the SSR needs voltage to latch)
