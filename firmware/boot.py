# Runs first on the device; kept tiny so that it cannot fail.
import micropython

try:
    import machine
    machine.freq(240000000)
except Exception:
    pass
if hasattr(micropython, "alloc_emergency_exception_buf"):
    micropython.alloc_emergency_exception_buf(128)
