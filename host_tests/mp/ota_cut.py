"""A boot's update swap (otaboot.boot(), what main.py runs first) cut by a power cut before
the Nth change of the flash: it says CUT and stops there until the test kills it (SIGKILL,
nothing more runs: no finally, no flush of the firmware's). N = 0: no cut, the whole swap.

    micropython ota_cut.py N        (from the flash root, as the board's boot runs it)
"""
import sys
import time

import otaboot

n = int(sys.argv[1])
done = [0]


def cut(op, path):
    done[0] += 1
    if done[0] == n:
        print("CUT %d %s %s" % (n, op, path))
        while True:
            time.sleep(1)


otaboot.CUT = cut
trial = otaboot.boot()
print("DONE %d %s" % (done[0], trial))
