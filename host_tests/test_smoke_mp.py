from conftest import run_mp


def test_runner_runs_firmware_modules_under_micropython():
    r = run_mp("import sys, json\nfrom router.ticks import tdiff\n"
               "print(json.dumps([sys.implementation.name, tdiff(5, 0x3FFFFFFF)]))")
    assert r == ["micropython", 6]
