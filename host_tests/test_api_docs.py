"""docs/api.md and docs/openapi.yaml are generated from one endpoint table (tools/docs.py):
every key the firmware's API accepts is in it, every example in it works against the
firmware, and the OpenAPI description lists exactly those endpoints."""
import os
import re
import sys

import yaml

from conftest import ROOT, FIRMWARE
from test_api import api, get  # noqa: F401  (the running firmware fixture)

sys.path.insert(0, os.path.join(ROOT, "tools"))
import docs  # noqa: E402


def accepted_keys():
    """(path, key) for every query key a handler of firmware/api/app.py tests for."""
    src = open(os.path.join(FIRMWARE, "api", "app.py")).read()
    out = set()
    for block in re.split(r'@app\.get\(', src)[1:]:
        path = re.match(r'"([^"]+)"', block).group(1)
        keys = set(re.findall(r'"(\w+)" in a\b', block))
        keys |= set(re.findall(r'\("(\w+)", rt\.set_\w+_mode\)', block))
        out |= {(path, k) for k in keys}
    return out


def test_every_accepted_key_is_documented():
    documented = {(p, k) for p, k, *_ in docs.ENDPOINTS}
    accepted = accepted_keys()
    assert len(accepted) > 20
    assert accepted <= documented, sorted(accepted - documented)
    assert documented <= accepted, sorted(documented - accepted)


def test_every_documented_example_works(api):  # noqa: F811
    for path, key, _, _, example in docs.ENDPOINTS:
        if example:
            code, body, _ = get(api, "%s?%s" % (path, example))
            assert code == 200 and body, (path, example, code, body)


def test_openapi_lists_the_same_endpoints():
    spec = yaml.safe_load(open(os.path.join(ROOT, "docs", "openapi.yaml")))
    assert spec["openapi"].startswith("3.")
    listed = {(p, prm["name"]) for p, ops in spec["paths"].items()
              for prm in ops["get"]["parameters"] if prm["name"] != "value"}
    assert listed == {(p, k) for p, k, *_ in docs.ENDPOINTS}


def test_generated_docs_are_current():
    assert docs.main(["--check"]) == 0
