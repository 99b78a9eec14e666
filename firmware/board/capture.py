"""The sampling loop shared by every board: one mains cycle of V/I pairs into integer sums
(or its first half-cycle, when that already shows a step).

The ESP32 board passes its ADC `read_u16` bound methods and `time.ticks_us`; the simulated
board passes its models. So the code that runs on the chip is the code under test.

It is viper because stock MicroPython on the ESP32 has no hard interrupts: timing comes from
busy-waiting on the µs clock inside native code, and the sums stay in machine registers.
It allocates nothing. Sums are bounded below 2**30 for SAMPLES pairs of 12-bit values
centred within MID_SPAN of the rails (host_tests/test_int_bounds.py), because viper ints
are 32 bits on the chip and array('i') values above 2**30 would be boxed when read back.
"""
import micropython
from router.window import (N, SV, SI, SVV, SII, SVI, SVI1, SV1I, T0, T1,
                           NRISE, TRISE, NFALL, TFALL, CLIP, LATE, NGLITCH, RUN,
                           SVI_B, SV_B, SI_B,
                           IN_N, IN_PERIOD, IN_VMID, IN_IMID, IN_START, IN_REF, IN_TOL, REF_BIAS,
                           MAX_WAIT_US)


@micropython.viper
def capture(read_v, read_i, ticks_us, acc) -> int:
    """Sample n+1 pairs from acc[IN_START], one every acc[IN_PERIOD]/256 µs; the first pair
    only seeds the lags. read_v/read_i return read_u16-scaled counts (12-bit << 4).
    Ticks wrap at 2**30. Stops after n/2 pairs (the first half-cycle) when their Σ v·i is
    further than acc[IN_TOL] from acc[IN_REF] - REF_BIAS: a step the router should answer
    at once.
    Returns the pairs accumulated.
    """
    a = ptr32(acc)
    mask = 0x3FFFFFFF
    n = a[int(IN_N)]
    period_q8 = a[int(IN_PERIOD)]
    v_mid = a[int(IN_VMID)]
    i_mid = a[int(IN_IMID)]
    # IN_REF is offset by REF_BIAS: a ptr32 load is not sign-extended on a 64-bit host
    ref = int(a[int(IN_REF)]) - int(REF_BIAS)
    tol = int(a[int(IN_TOL)])
    sv = 0
    si = 0
    svv = 0
    sii = 0
    svi = 0
    svi1 = 0
    sv1i = 0
    svi_b = 0
    sv_b = 0
    si_b = 0
    half = n >> 1
    nrise = 0
    trise = 0
    nfall = 0
    tfall = 0
    nglitch = 0
    run = 0     # samples since v last changed sign
    cand = 0    # pending crossing: +1 rising, -1 falling, 0 none
    ct = 0      # its interpolated instant
    clip = 0
    late = 0
    pv = 0
    pi = 0
    pt = 0
    t = 0
    t0 = int(ticks_us()) & mask
    wait = (a[int(IN_START)] - t0) & mask
    if wait < int(MAX_WAIT_US):
        t0 = a[int(IN_START)]
    k = 0
    while k <= n:
        slot = (t0 + ((k * period_q8) >> 8)) & mask
        while ((int(ticks_us()) - slot) & mask) >= 0x20000000:
            pass
        t = int(ticks_us()) & mask
        rv = int(read_v()) >> 4
        ri = int(read_i()) >> 4
        lag = (t - slot) & mask
        if lag > late:
            late = lag
        if rv <= 0 or rv >= 4095 or ri <= 0 or ri >= 4095:
            clip += 1
        v = rv - v_mid
        i = ri - i_mid
        if k > 0:
            sv += v
            si += i
            svv += v * v
            sii += i * i
            svi += v * i
            svi1 += v * pi
            sv1i += pv * i
            if k > half:
                svi_b += v * i
                sv_b += v
                si_b += i
            elif k == half and tol > 0:
                d = svi - ref
                if d < 0:
                    d = 0 - d
                if d > tol:
                    n = k     # the first half-cycle shows a step: end here
        # A sign change is a zero crossing only once the new sign has held RUN samples; one
        # that reverts sooner is a glitch (a spike, not the mains). The instant is
        # interpolated between the samples around zero; the gap is capped so that gap x
        # count stays within 32 bits after a pre-emption. A crossing too close to the end
        # of the window to be confirmed is left to the next window.
        if k > 0:
            if (pv < 0 and v >= 0) or (pv >= 0 and v < 0):
                if cand != 0:
                    nglitch += 1
                    cand = 0
                elif run >= int(RUN) or run == k - 1:
                    dt = (t - pt) & mask
                    if dt > 0xFFFF:
                        dt = 0xFFFF
                    if pv < 0:
                        cand = 1
                        ct = (pt + dt * (0 - pv) // (v - pv)) & mask
                    else:
                        cand = -1
                        ct = (pt + dt * pv // (pv - v)) & mask
                else:
                    nglitch += 1
                run = 0
            else:
                run += 1
                if cand != 0 and run >= int(RUN):
                    if cand > 0:
                        if nrise == 0:
                            trise = ct
                        nrise += 1
                    else:
                        if nfall == 0:
                            tfall = ct
                        nfall += 1
                    cand = 0
        pv = v
        pi = i
        pt = t
        k += 1
    a[int(N)] = n
    a[int(SV)] = sv
    a[int(SI)] = si
    a[int(SVV)] = svv
    a[int(SII)] = sii
    a[int(SVI)] = svi
    a[int(SVI1)] = svi1
    a[int(SV1I)] = sv1i
    a[int(T0)] = t0
    a[int(T1)] = t
    a[int(NRISE)] = nrise
    a[int(TRISE)] = trise
    a[int(NFALL)] = nfall
    a[int(TFALL)] = tfall
    a[int(CLIP)] = clip
    a[int(LATE)] = late
    a[int(NGLITCH)] = nglitch
    a[int(SVI_B)] = svi_b
    a[int(SV_B)] = sv_b
    a[int(SI_B)] = si_b
    return n
