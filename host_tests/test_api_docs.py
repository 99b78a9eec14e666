"""docs/api.md and docs/openapi.yaml are generated from the firmware's endpoint table
(firmware/api/endpoints.py, each handler documented by its docstring): every row is
documented, every example works against the firmware, and an endpoint added to the table is
served and documented with nothing else to change."""
import asyncio
import concurrent.futures
import os
import sys

import yaml

from conftest import ROOT
from test_api import api, get  # noqa: F401  (the running firmware fixture)

sys.path.insert(0, os.path.join(ROOT, "tools"))
import docs  # noqa: E402
from api import endpoints as E  # noqa: E402


def test_every_row_of_the_table_is_documented():
    rows = docs.endpoints()
    assert len(rows) == len(E.ENDPOINTS) > 25
    for path, key, usage, what, _ in rows:
        assert len(what) > 5, (path, key)
        assert usage.split("&")[0].split("=")[0] in (key, "alldata"), (key, usage)
    assert {p for p, *_ in rows} == {p for p, _, _ in E.PATHS}


def test_every_documented_example_works(api):  # noqa: F811
    examples = [(path, ex) for path, _, _, _, ex in docs.endpoints() if ex]
    assert len(examples) > 15
    for path, example in examples:
        code, body, _ = get(api, "%s?%s" % (path, example))
        assert code == 200 and body, (path, example, code, body)


def test_openapi_lists_the_same_endpoints():
    spec = yaml.safe_load(open(os.path.join(ROOT, "docs", "openapi.yaml")))
    assert spec["openapi"].startswith("3.")
    listed = {(p, prm["name"]) for p, ops in spec["paths"].items() if "get" in ops
              for prm in ops["get"]["parameters"] if prm["name"] != "value"}
    assert listed == {(p, k) for p, k, *_ in E.ENDPOINTS}
    # the POST paths (an update's upload), in both documents
    posted = {p for p, ops in spec["paths"].items() if "post" in ops}
    assert posted == {p for p, *_ in E.POSTS} != set()
    md = open(os.path.join(ROOT, "docs", "api.md")).read()
    for p, *_ in E.POSTS:
        assert "| `POST %s`" % p in md


def test_generated_docs_are_current():
    assert docs.main(["--check"]) == 0


def test_an_endpoint_is_one_row_and_its_handler(monkeypatch):
    from api.app import make_app
    from api.http import Headers, Request

    def answer(backend, args):
        """the answer to everything
        example: answer"""
        return "42"

    monkeypatch.setattr(E, "ENDPOINTS", E.ENDPOINTS + (("/api/get", "answer", "answer", answer),))
    # documented ...
    assert "| `/api/get?answer` | the answer to everything |" in docs.api_md()
    spec = yaml.safe_load(docs.openapi_yaml())
    assert "answer" in [p["name"] for p in spec["paths"]["/api/get"]["get"]["parameters"]]
    # ... served, and named when a request carries no key the path knows
    app = make_app(E.Backend(None, None, None, None, None, None))

    async def get(q):
        r = await app.dispatch(Request("GET", "/api/get?" + q, Headers(), ("127.0.0.1", 1)))
        return r.status, r.body.decode()

    def fetch(q):     # in a thread of its own: the browser tests leave an event loop in this one
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, get(q)).result()

    assert fetch("answer") == (200, "42")
    code, body = fetch("question")
    assert code == 400 and body.startswith("Unknown request") and body.endswith("remoterelay or answer")
