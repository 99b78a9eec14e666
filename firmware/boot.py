# Runs first on the device; kept tiny so that it cannot fail.
import micropython

try:
    import machine
    machine.freq(240000000)
except Exception:
    pass
if hasattr(micropython, "alloc_emergency_exception_buf"):
    micropython.alloc_emergency_exception_buf(128)

# An update staged over the network is swapped in here, before main.py is even compiled (it
# is one of the files swapped), or a new version that did not confirm its health rolled
# back: otaboot.py, imported only when otastate.py says there is work. Its failures are its
# own (it rolls back); nothing of it stays loaded.
def _update():
    from otastate import read, IDLE
    s = read()
    if s is not None and s["state"] not in IDLE:
        import otaboot
        otaboot.boot()
        import sys
        del sys.modules["otaboot"]
    import sys
    sys.modules.pop("otastate", None)     # main.py loads the version that now runs


try:
    _update()
except Exception:
    pass
del _update

# The oldest MicroPython the firmware runs on is v1.27 (esp32.RMT changed then): main.py then
# comes up in safe mode, saying so; said here first, as before v1.23 even its modules fail.
try:
    import sys
    if sys.implementation.version[:2] < (1, 27):
        print("MaxPV!: MicroPython %d.%d.%d is older than 1.27: the router will not start; "
              "flash a newer one (tools/flash.py flash)" % sys.implementation.version[:3])
except Exception:
    pass
