"""Window sums -> electrical quantities, and the analog anomaly bits.

Two rates:
- `window()` runs after every capture (the hot path: integers only, no allocation). Each
  window spans one measured mains period, so the window mean of each channel is its DC
  offset exactly and is removed there (means, variances and covariance in 1/16 count²);
  a window cut short after its first half-cycle at a step (`expect()`) is centred on the
  tracked offsets instead.
  It yields the window's active power in centiwatts for the controller, tracks each
  channel's zero for the next capture and for the analog-anomaly check, and keeps the
  window in a ring.
- `report()` runs once a second (floats allowed): Vrms, Irms, P, S, cos φ, frequency,
  samples per second and the anomaly bits over the windows of that second.

Calibration keeps the roles of EcoPV's parameters, in ESP32 12-bit counts:
V_CALIB volts per count; P_CALIB VA per count² (so I_CALIB = P_CALIB / V_CALIB);
PHASE_CALIB moves the current against the voltage by (16 - PHASE_CALIB)/16 of a sample
period (16 = no shift, 12.5 µs a step at 50 Hz); P_OFFSET W is subtracted from the import
(EcoPV's sign: its default -15 added 15 W of import).
"""
import math
from array import array
from micropython import const
from router.fixed import to_q, mulq, mean_q4, clamp
from router.window import (N, SV, SI, SVV, SII, SVI, SVI1, SV1I, T0, T1, CLIP, LATE,
                           SVI_B, SV_B, SI_B, SAMPLES, IN_REF, IN_TOL, REF_BIAS)
from router import status

RING = const(80)        # windows kept between reports (> mains cycles per second)
F = const(5)            # fields per window in the ring
F_N = const(0)          # sample pairs
F_VAR_V = const(1)      # variance of v, count² x 16
F_VAR_I = const(2)
F_P = const(3)          # active power, cW
F_FLAGS = const(4)      # anomaly bits
Q4_MAX = const(32767)   # a mean beyond ±2047 counts is nonsense (and its square must fit)
D_MAX = const(1 << 24)
STEADY_WINDOWS = const(16)  # windows agreeing with the tracked zeros before they are trusted
DRIFT_WINDOWS = const(4)    # windows pulling a zero the same way before it is a drift
MAINS_MIN_V = 100       # below this the mains is considered absent
# Calibration factors this arithmetic is proven for (host_tests/test_int_bounds.py): the
# full-scale window power must stay a small int in cW. The nominal board needs V_CALIB
# ~0.31 and P_CALIB ~0.015; the ranges leave room for other dividers and burdens.
V_CALIB_RANGE = (0.01, 2.0)
P_CALIB_RANGE = (0.0001, 0.2)
PHASE_CALIB_RANGE = (-16, 48)


class Report:
    """Once-a-second figures (what the API and the status line show)."""

    def __init__(self):
        self.vrms = 0.0
        self.irms = 0.0
        self.p = 0.0          # W, import positive
        self.s = 0.0          # VA
        self.cosphi = 0.0     # signed, like EcoPV (negative while exporting)
        self.hz = 0.0
        self.samples = 0      # sample pairs processed per second
        self.windows = 0      # windows per second
        self.status = 0       # anomaly bits (4..7)
        self.seconds = 0.0    # time covered by this report



class Measure:
    def __init__(self, mid, mid_span, mid_tolerance, v_calib, p_calib, phase_calib, p_offset):
        self.mid = mid
        self.mid_lo = mid - mid_span
        self.mid_hi = mid + mid_span
        self.tol = mid_tolerance
        self.v_mid = mid            # zeros used by the next capture (counts)
        self.i_mid = mid
        self.v_mid_q8 = mid << 8    # tracked zeros (1/256 count)
        self.i_mid_q8 = mid << 8
        self.ring = array("i", [0] * (RING * F))
        self.head = 0
        self.count = 0
        self.present = False
        self.p_cw = 0
        self.p2_cw = 0
        self.p2_ok = False
        self.steady = 0
        self.drift = 0
        self.var_v = 0
        self.calibrate(v_calib, p_calib, phase_calib, p_offset)

    def restart(self):
        """Forget the tracked zeros and the windows not yet reported."""
        self.v_mid = self.i_mid = self.mid
        self.v_mid_q8 = self.i_mid_q8 = self.mid << 8
        self.count = 0
        self.steady = 0

    def calibrate(self, v_calib, p_calib, phase_calib, p_offset):
        """Apply calibration parameters (live: takes effect at the next window)."""
        self.v_calib = v_calib
        self.i_calib = p_calib / v_calib
        self.kp_m, self.kp_e = to_q(p_calib * 100 / 16)   # count² x 16 -> cW
        # cW -> Σ v·i over a half-cycle of SAMPLES/2 pairs (the capture's step test)
        self.ks_m, self.ks_e = to_q(SAMPLES / 2 / (p_calib * 100))
        self.fs_cw = int(p_calib * 100 * 2047 * 2047)   # the ADC's full scale, cW
        self.pc = 16 - phase_calib
        self.off_cw = int(p_offset * 100)
        self.raw_cw = self.off_cw    # a half-cycle's raw Σ v·i as power, minus its reading
        self.vmin_q4 = int((MAINS_MIN_V / v_calib) ** 2 * 16)

    def expect(self, acc, p_cw, tol_cw):
        """Ask the next capture to stop after its first half-cycle if that half-cycle's
        power is further than tol_cw from p_cw (tol_cw 0: never). Hot path.

        The capture sums v·i raw: around the integer zeros, without PHASE_CALIB's
        correction nor P_OFFSET. What those change in a half-cycle's reading is taken from
        the last half-cycle read (raw_cw), so that the reference is on the capture's own
        terms: a PHASE_CALIB far from 16 moves a phase-fired half-cycle by tens of watts,
        as much as the tolerance."""
        fs = self.fs_cw
        acc[IN_REF] = REF_BIAS + mulq(clamp(p_cw + self.raw_cw, fs), self.ks_m, self.ks_e)
        acc[IN_TOL] = mulq(clamp(tol_cw, fs), self.ks_m, self.ks_e) if tol_cw > 0 else 0

    def _half(self, acc, n):
        """A window cut short after one half-cycle (a step): its power, centred on the
        tracked zeros as window()'s last half-cycle is; the zeros are not tracked from it
        (a half-cycle's mean is not the offset)."""
        svi = mean_q4(acc[SVI], n)
        p = self._centred(acc, n, svi, SV, SI, self._corr(acc, n, svi))
        self.p_cw = self.p2_cw = p
        self.raw_cw = mulq(svi, self.kp_m, self.kp_e) - p   # what the capture compares
        var_v = mean_q4(acc[SVV], n)
        self.var_v = var_v
        self.present = var_v >= self.vmin_q4
        self._ring(acc, n, var_v, mean_q4(acc[SII], n), p, status.ANALOG if acc[CLIP] else 0)
        return p

    def _corr(self, acc, n, svi):
        """PHASE_CALIB's correction of the mean v·i `svi` (1/16 count²)."""
        pc = self.pc
        if pc > 0:
            return (clamp(mean_q4(acc[SV1I], n) - svi, D_MAX) * pc) >> 4
        if pc < 0:
            return -((clamp(mean_q4(acc[SVI1], n) - svi, D_MAX) * pc) >> 4)
        return 0

    def _centred(self, acc, n, svi, k_v, k_i, corr):
        """Power (cW) of n pairs of mean v·i `svi` whose Σ v and Σ i are at k_v, k_i,
        centred on the tracked zeros rather than on their own means."""
        tv = (self.v_mid_q8 - (self.v_mid << 8)) >> 4
        ti = (self.i_mid_q8 - (self.i_mid << 8)) >> 4
        mv = clamp(mean_q4(acc[k_v], n), Q4_MAX)
        mi = clamp(mean_q4(acc[k_i], n), Q4_MAX)
        cov = svi - ((tv * mi) >> 4) - ((ti * mv) >> 4) + ((tv * ti) >> 4) + corr
        return mulq(cov, self.kp_m, self.kp_e) - self.off_cw

    def window(self, acc):
        """Process one captured window. Hot path: integers only, allocates nothing."""
        n = acc[N]
        if n < SAMPLES:
            return self._half(acc, n)
        mv = clamp(mean_q4(acc[SV], n), Q4_MAX)
        mi = clamp(mean_q4(acc[SI], n), Q4_MAX)
        var_v = mean_q4(acc[SVV], n) - ((mv * mv) >> 4)
        var_i = mean_q4(acc[SII], n) - ((mi * mi) >> 4)
        svi = mean_q4(acc[SVI], n)
        corr = self._corr(acc, n, svi)
        cov = svi - ((mv * mi) >> 4) + corr
        p = mulq(cov, self.kp_m, self.kp_e) - self.off_cw
        self.p_cw = p
        # The window's last half-cycle alone (the freshest 10 ms, for the controller to see a
        # step that came mid-window), with the whole window's phase correction. It is centred
        # on the *tracked* zeros: when the current changes mid-window, the window's own mean
        # is no longer the offset (its two lobes differ), and a half-cycle's large mean
        # voltage would turn that error into tens of watts.
        nb = n - (n >> 1)
        svib = mean_q4(acc[SVI_B], nb)
        self.p2_cw = self._centred(acc, nb, svib, SV_B, SI_B, corr)
        self.raw_cw = mulq(svib, self.kp_m, self.kp_e) - self.p2_cw
        self.p2_ok = self.steady >= STEADY_WINDOWS and self.drift < 2
        self.var_v = var_v
        self.present = var_v >= self.vmin_q4

        flags = status.ANALOG if acc[CLIP] else 0
        # Track each channel's zero: the window mean, relative to the zero it was taken with.
        # One window's pull is limited to ±2 counts, so a window whose mean is not the offset
        # (a load step mid-window) barely moves it; a pull beyond that DRIFT_WINDOWS windows
        # in a row is a real drift, followed at full speed. The zeros count as settled (good
        # for the half-cycle figure) once windows have agreed with them for a while.
        dv = (self.v_mid << 8) + (mv << 4) - self.v_mid_q8
        di = (self.i_mid << 8) + (mi << 4) - self.i_mid_q8
        if -512 < dv < 512 and -512 < di < 512:
            self.drift = 0
            if self.steady < STEADY_WINDOWS:
                self.steady += 1
        else:
            self.drift += 1
        if self.drift < DRIFT_WINDOWS:
            dv = clamp(dv, 512)
            di = clamp(di, 512)
        self.v_mid_q8 += dv >> 3
        self.i_mid_q8 += di >> 3
        v0 = (self.v_mid_q8 + 128) >> 8
        i0 = (self.i_mid_q8 + 128) >> 8
        if v0 - self.mid > self.tol or self.mid - v0 > self.tol or \
                i0 - self.mid > self.tol or self.mid - i0 > self.tol:
            flags |= status.ANALOG
        self.v_mid = self.mid_lo if v0 < self.mid_lo else self.mid_hi if v0 > self.mid_hi else v0
        self.i_mid = self.mid_lo if i0 < self.mid_lo else self.mid_hi if i0 > self.mid_hi else i0

        self._ring(acc, n, var_v, var_i, p, flags)
        return p

    def _ring(self, acc, n, var_v, var_i, p, flags):
        # A sample more than half a slot late: the capture was pre-empted.
        if acc[LATE] > ((acc[T1] - acc[T0]) & 0x3FFFFFFF) // (2 * n):
            flags |= status.RATE
        r = self.ring
        k = self.head * F
        r[k + F_N] = n
        r[k + F_VAR_V] = var_v
        r[k + F_VAR_I] = var_i
        r[k + F_P] = p
        r[k + F_FLAGS] = flags
        self.head += 1
        if self.head == RING:
            self.head = 0
        if self.count < RING:
            self.count += 1

    def report(self, out, sync, seconds):
        """Summarise the windows since the last report into `out` (a Report). Not hot."""
        r = self.ring
        c = self.count
        k = (self.head - c) % RING
        sn = 0
        svv = 0.0
        sii = 0.0
        sp = 0.0
        flags = 0
        for _ in range(c):
            b = k * F
            n = r[b + F_N]
            sn += n
            svv += r[b + F_VAR_V] * n
            sii += r[b + F_VAR_I] * n
            sp += r[b + F_P] * n
            flags |= r[b + F_FLAGS]
            k = (k + 1) % RING
        self.count = 0
        if sn:
            out.vrms = self.v_calib * math.sqrt(max(svv, 0.0) / sn / 16)
            out.irms = self.i_calib * math.sqrt(max(sii, 0.0) / sn / 16)
            out.p = sp / sn / 100
        else:
            out.vrms = out.irms = out.p = 0.0
        out.s = out.vrms * out.irms
        out.cosphi = max(-1.0, min(1.0, out.p / out.s)) if out.s > 1 else 0.0
        out.hz = 256e6 / sync.period_q8 if sync.locked else 0.0
        out.seconds = seconds
        out.samples = int(sn / seconds + 0.5) if seconds > 0 else 0
        out.windows = c
        if sync.locked and c < 0.25 * out.hz * seconds:
            flags |= status.RATE     # the router loop is starved: most cycles go unmeasured
        if sync.spurious:
            flags |= status.ZC_SPURIOUS
            sync.spurious = False
        if not sync.locked:
            flags |= status.SYNC_LOST
        out.status = flags & status.ANOMALIES
        return out
