"""The web UI as the firmware serves it: what the build puts in the image, the size budget,
and the HTTP side (gzip, types, caching, the original page names, the config download)."""
import gzip
import json
import os
import re
import urllib.request

import pytest

from conftest import WWW
from test_api import get, launch
import flash
import web


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **kw):
        return None


def fetch(base, path):
    """(status, headers, raw body) without following redirects or decoding gzip."""
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(base + path, timeout=5) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


@pytest.fixture(scope="module")
def fw(tmp_path_factory):
    f = launch(tmp_path_factory.mktemp("flash"))
    yield f
    f.stop()


def test_the_gzipped_ui_fits_the_budget():
    total = sum(os.path.getsize(os.path.join(WWW, n)) for n in os.listdir(WWW))
    print("web UI: %d bytes gzipped (budget %d)" % (total, web.BUDGET))
    assert 20000 < total <= 80 * 1024        # the chart library alone is ~22 KB gzipped
    assert sorted(n.split(".")[-2] for n in os.listdir(WWW)) == ["css", "html", "js"]


def test_the_build_is_reproducible_and_the_image_carries_the_same_files(tmp_path):
    files = flash.build(str(tmp_path / "device"))
    www = sorted(f for f in files if f.startswith("www/"))
    assert www == sorted("www/" + n for n in os.listdir(WWW))
    for f in www:
        assert (tmp_path / "device" / f).read_bytes() == open(os.path.join(WWW, f[4:]), "rb").read(), f


def test_over_budget_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(web, "BUDGET", 2000)
    with pytest.raises(web.OverBudget):
        web.build(str(tmp_path / "www"))


def test_the_page_and_its_assets_are_served_gzipped_with_types_and_caching(fw):
    status, h, body = fetch(fw.base, "/")
    assert status == 200 and h["Content-Encoding"] == "gzip"
    assert h["Content-Type"].startswith("text/html") and h["Cache-Control"] == "no-cache"
    html = gzip.decompress(body).decode()
    assets = re.findall(r'(?:src|href)="(app\.[0-9a-f]{10}\.(?:js|css))"', html)
    assert sorted(a.rsplit(".", 1)[1] for a in assets) == ["css", "js"]
    for a in assets:
        status, h, body = fetch(fw.base, "/" + a)
        assert status == 200 and h["Content-Encoding"] == "gzip", a
        assert h["Content-Type"].startswith("text/javascript" if a.endswith("js") else "text/css")
        assert h["Cache-Control"] == "max-age=31536000"     # the name changes with the content
        assert body == open(os.path.join(WWW, a + ".gz"), "rb").read()
    js = gzip.decompress(fetch(fw.base, "/" + [a for a in assets if a.endswith("js")][0])[2])
    assert b"uplot" in js.lower()                            # the chart library is bundled, no CDN
    assert not re.search(rb"https?://(?!www\.w3\.org)", js.replace(b"http://127.0.0.1", b""))


@pytest.mark.parametrize("page,target", [("/main.html", "/"), ("/index.html", "/"),
                                         ("/graph.html", "/#charts"), ("/wizard.html", "/#wizard"),
                                         ("/configuration.html", "/#params"),
                                         ("/admin.html", "/#admin")])
def test_the_original_page_names_lead_to_the_matching_view(fw, page, target):
    status, h, _ = fetch(fw.base, page)
    assert status == 302 and h["Location"] == target


@pytest.mark.parametrize("path", ["/nope.js", "/index.html.gz", "/main.py", "/..%2fmain.py",
                                  "/%2e%2e/boot.py", "/app.js"])
def test_nothing_but_the_built_files_is_served(fw, path):
    status, _, body = fetch(fw.base, path)
    assert status == 404, (path, body[:100])


def test_dlconfig_downloads_the_configuration(fw):
    status, h, body = fetch(fw.base, "/DLconfig")
    assert status == 200 and "attachment" in h["Content-Disposition"]
    assert json.loads(body) == json.loads(get(fw.base, "/api/get?configmaxpv")[1])


def test_without_the_ui_in_the_image_the_home_page_says_what_to_do(tmp_path):
    f = launch(tmp_path / "flash", www=str(tmp_path / "nothing"))
    try:
        status, body, ctype = get(f.base, "/")
        assert status == 200 and "tools/web.py" in body and "/api/" in body
        assert get(f.base, "/api/get?ping")[1] == "running"
    finally:
        f.stop()
