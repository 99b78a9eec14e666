"""Under MicroPython, for host_tests/test_power_cut.py: the power history's saves on the
simulated board's flash (board/sim/flash.py), as fast as they go, until the test cuts the
power. History samples once per half-hour of the clock; this driver moves the clock on by a
half-hour per sample, so that every tick is a save.

    micropython powercut_history.py DATA_DIR FLASH_FAULTS [boot]

(`boot`: stop after the boot line.)

Prints, one line each (the unix port writes stdout unbuffered: a line printed is in the
file when the power goes):
    boot <last epoch or 0> <samples> <store faults as JSON>
    T <epoch>          a sample is about to be saved
    W <epoch> <1|0>    ... and its save succeeded (1) or was reported failed (0)
"""
import json
import sys

from board.sim.flash import FaultyFlash
from net.clock import VALID_EPOCH
from records.history import History, INTERVAL_S
from records.store import Store


def main(root, faults, boot_only):
    store = Store(root, FaultyFlash(faults))
    h = History(store)
    last = h.samples[-1][0] if h.samples else 0
    print("boot %d %d %s" % (last, len(h.samples), json.dumps(store.faults)))
    if boot_only:
        return
    epoch = max(last, VALID_EPOCH // INTERVAL_S * INTERVAL_S + 100 * INTERVAL_S)
    while True:
        epoch += INTERVAL_S
        print("T %d" % epoch)
        n = store.fault_count
        h.tick(epoch, epoch % 1000, 1, 2, 3, 4)
        print("W %d %d" % (epoch, 1 if store.fault_count == n else 0))


main(sys.argv[1], sys.argv[2], len(sys.argv) > 3)
