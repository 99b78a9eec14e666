"""The Charts view in a real browser (Debian's chromium) against the real firmware under
MicroPython on the simulated board. The day_compressed scenario runs the clock 240 times
faster, so a 30-minute history point appears every 7.5 s of wall time."""
import re
import time

import pytest
from playwright.sync_api import expect

from test_api import get, launch

# uPlot instance of a figure (the view hangs it on the element for these tests)
U = "(k) => document.querySelector('[data-chart=\"' + k + '\"]').chart"
LIVE = ["power", "vrms", "delays"]

# opaque pixels of the chart's canvas close to a CSS colour variable: proof that a series was
# drawn in the theme's colour (axes and grid use other colours, fills are translucent)
PIXELS = """([k, v]) => {
  const u = document.querySelector('[data-chart="' + k + '"]').chart;
  const hex = getComputedStyle(document.documentElement).getPropertyValue('--' + v).trim();
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  const c = u.ctx.canvas, d = u.ctx.getImageData(0, 0, c.width, c.height).data;
  let n = 0;
  for (let i = 0; i < d.length; i += 4)
    if (d[i + 3] > 200 && Math.abs(d[i] - r) + Math.abs(d[i + 1] - g) + Math.abs(d[i + 2] - b) < 60) n++;
  return n;
}"""


@pytest.fixture(scope="module")
def fw(tmp_path_factory):
    fw = launch(tmp_path_factory.mktemp("flash"), scenario="day_compressed", speed="1")
    fw.started = time.monotonic()
    yield fw
    fw.stop()


def ev(page, key, body):
    return page.evaluate("(k) => { const u = (%s)(k); return %s; }" % (U, body), key)


def open_charts(browser, fw, width=1000, height=900, routes=()):
    page = browser.page(fw.base, width=width, height=height)
    for pattern, handler in routes:
        page.route(pattern, handler)
    page.evaluate("location.hash = 'charts'")
    page.wait_for_selector("[data-chart=hpower]")
    return page


def finish(page):
    assert page.outside == []
    assert page.console_errors == []
    page.context.close()


def csv_columns(body):
    rows = [line.split(",") for line in body.split("\r\n")[1:] if line]
    return [[int(r[0]) / 1000 for r in rows]] + [[float(r[i]) for r in rows] for i in range(1, len(rows[0]))] \
        if rows else []


def test_live_charts_fill_and_move_every_second(fw, browser):
    page = open_charts(browser, fw)
    page.wait_for_function("(%s)('delays').data[0].length > 5 && (%s)('power').data[0].length > 5" % (U, U),
                           timeout=15000)
    for k in LIVE:
        xs = ev(page, k, "u.data[0]")
        assert all(b - a > 0.5 for a, b in zip(xs, xs[1:])), (k, xs)
    last = ev(page, "vrms", "u.data[0].at(-1)")
    page.wait_for_function("(%s)('vrms').data[0].at(-1) >= %f" % (U, last + 1.5), timeout=5000)
    # the sim's mains: about 230 V, always measured
    volts = ev(page, "vrms", "u.data[1]")
    assert all(v is not None and 200 < v < 260 for v in volts), volts
    # grid split into import (>= 0) and export (<= 0): never both at once
    imp, exp = ev(page, "power", "u.data[1]"), ev(page, "power", "u.data[2]")
    assert all(i >= 0 and e <= 0 and (i == 0 or e == 0) for i, e in zip(imp, exp))
    assert max(imp) > 50           # the house draws from the grid at night
    assert ev(page, "delays", "[u.scales.y.min, u.scales.y.max]") == [0, 10]
    assert page.evaluate(PIXELS, ["vrms", "accent"]) > 100
    assert page.evaluate(PIXELS, ["power", "import"]) > 100
    # the live charts are titled and captioned as figures
    heads = page.locator("figure.chart figcaption h3").all_inner_texts()
    assert heads[:3] == ["Bilan de puissance (W)", "Tension (V)", "Retards de déclenchement du SSR (ms)"]
    # leaving the view destroys its charts
    page.evaluate("location.hash = 'dashboard'")
    expect(page.locator(".uplot")).to_have_count(0)
    finish(page)


def test_language_theme_and_narrow_screen(fw, browser):
    page = open_charts(browser, fw, width=360, height=800)
    page.wait_for_function("(%s)('vrms').data[0].length > 3" % U)
    for k in LIVE + ["hpower", "hrelay"]:
        w = ev(page, k, "u.width")
        assert 250 < w <= 340, (k, w)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    browser.shot(page, "charts-360")

    page.click("#lang")
    h3 = page.locator("figure[data-chart=power] h3")
    expect(h3).to_have_text("Power balance (W)")
    expect(page.locator("figure[data-chart=hpower] h3")).to_have_text("Power history (W)")
    expect(page.locator("figure[data-chart=hpower] .ch-note")).to_contain_text("per 30 min")
    assert ev(page, "power", "u.series[1].label") == "Import"
    page.wait_for_function("(%s)('vrms').data[0].length > 3" % U)   # re-mounted with the ring's data

    # dark theme: the canvas is redrawn in the dark palette's colours
    light = page.evaluate(PIXELS, ["vrms", "accent"])
    page.evaluate("document.documentElement.dataset.theme = 'dark'")
    assert page.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--accent').trim()") == "#6cb2ff"
    assert light > 50
    page.wait_for_function("(a) => (%s)(a) > 50" % PIXELS, arg=["vrms", "accent"])

    page.set_viewport_size({"width": 900, "height": 800})
    page.wait_for_function("(%s)('vrms').width > 380" % U)   # two columns of ~420 px
    finish(page)


def test_history_messages_when_empty_or_failing(fw, browser):
    def empty(route):
        route.fulfill(status=200, content_type="text/plain",
                      body="Time,Import réseau,Export réseau,Production PV,Routage ECS\r\n")

    def broken(route):
        route.fulfill(status=503, content_type="text/plain", body="history store busy")

    page = open_charts(browser, fw, routes=[(re.compile(r"/api/history\?power"), empty),
                                            (re.compile(r"/api/history\?relay"), broken)])
    expect(page.locator("[data-chart=hpower] .msg")).to_contain_text("Pas encore d'historique")
    expect(page.locator("[data-chart=hrelay] .msg")).to_have_text("Historique indisponible : history store busy")
    assert page.locator("[data-chart=hpower] .plot").is_hidden()
    page.context.close()


def test_history_shows_the_api_points_and_zooms(fw, browser):
    # enough points for a zoom: a new one every 7.5 s of wall time
    deadline = time.monotonic() + 60
    while get(fw.base, "/api/history?power")[1].count("\r\n") < 5:
        assert time.monotonic() < deadline, "no history from the firmware"
        time.sleep(0.5)        # no page is open here
    bodies = {}

    def record(route):
        resp = route.fetch()
        bodies[route.request.url.rsplit("?", 1)[1]] = resp.text()
        route.fulfill(response=resp)

    page = open_charts(browser, fw, routes=[(re.compile(r"/api/history\?"), record)])
    page.wait_for_function("(%s)('hpower').data[0].length > 3 && (%s)('hrelay').data[0].length > 3" % (U, U))
    power, relay = csv_columns(bodies["power"]), csv_columns(bodies["relay"])
    assert len(power) == 5 and len(relay) == 2
    assert ev(page, "hpower", "u.data") == power
    assert ev(page, "hrelay", "u.data") == relay
    assert page.locator("[data-chart=hpower] .msg").is_hidden()
    assert page.evaluate(PIXELS, ["hpower", "import"]) > 20
    expect(page.locator("[data-chart=hpower] .ch-note")).to_contain_text("moyennes par 30 min")
    expect(page.locator("[data-chart=hpower] .ch-note")).to_contain_text("double-cliquer")

    # drag across the middle half: the x scale narrows to it; double-click gives it all back
    xs = power[0]
    over = page.locator("[data-chart=hpower] .u-over")
    over.scroll_into_view_if_needed()
    box = over.bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.25, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.75, y, steps=8)
    page.mouse.up()
    lo, hi = ev(page, "hpower", "[u.scales.x.min, u.scales.x.max]")
    span = xs[-1] - xs[0]
    assert xs[0] + 0.1 * span < lo < hi < xs[-1] - 0.1 * span, (lo, hi, xs)
    page.mouse.dblclick(box["x"] + box["width"] / 2, y)
    # the whole history, with a quarter hour of margin each side for the bars
    assert ev(page, "hpower", "[u.scales.x.min, u.scales.x.max]") == [xs[0] - 900, xs[-1] + 900]
    finish(page)
