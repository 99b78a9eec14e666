"""Where an update stands (update/state.json, written by otaboot.py and ota/upload.py), read
without importing otaboot. boot.py and main.py ask at every boot and /api/get?ota at every
look; importing otaboot for that would cost its names for good (MicroPython never frees an
interned name: ~2 KB of the chip's heap at every boot, bench/memory.py), though it has work
to do only while an update is staged, being swapped, on trial or being rolled back."""
STATE = "update/state.json"
IDLE = ("confirmed", "rolled_back")     # a boot has nothing to do


def read():
    """The state (a dict with "state"), or None: no update ever, or a state file that cannot
    be read."""
    import json
    try:
        with open(STATE) as f:
            s = json.load(f)
        return s if isinstance(s, dict) and "state" in s else None
    except (OSError, ValueError):
        return None
