"""The dashboard in a real browser (Debian's chromium) on the firmware under MicroPython: live
values that follow the simulated house, the SSR and relay commands, language and theme, and
nothing fetched from outside the machine."""
import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from test_api import launch, get, ok


@pytest.fixture(scope="module")
def fw(tmp_path_factory):
    f = launch(tmp_path_factory.mktemp("flash"), scenario="clear_day")
    yield f
    f.stop()


@pytest.fixture
def page(browser, fw):
    p = browser.page(fw.base)
    p.wait_for_function("document.querySelector('[data-testid=vrms]').textContent.includes('V')")
    yield p
    assert p.outside == [], "requests that left the machine: %r" % p.outside
    assert {urlsplit(u).hostname for u in p.requests} == {"127.0.0.1"}
    assert p.console_errors == []
    p.context.close()


def contrast(locator):
    """WCAG contrast ratio between an element's text and its background colour."""
    return locator.evaluate("""el => {
        const lum = c => {
            const [r, g, b] = c.match(/[\\d.]+/g).slice(0, 3).map(x => {
                x /= 255;
                return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4);
            });
            return 0.2126 * r + 0.7152 * g + 0.0722 * b;
        };
        const s = getComputedStyle(el);
        const [a, b] = [lum(s.color), lum(s.backgroundColor)].sort((x, y) => y - x);
        return (a + 0.05) / (b + 0.05);
    }""")


def watts(page, testid):
    text = page.get_by_test_id(testid).text_content()
    return float(re.sub(r"[^\d,.-]", "", text).replace(",", "."))


def test_the_dashboard_follows_the_house(page, fw):
    ok(fw.base, "/api/set?ssrmode&value=stop")        # so the heater does not absorb the step
    ok(fw.base, "/api/set?relaymode&value=stop")
    ok(fw.base, "/sim/set?load=0")
    v = page.get_by_test_id("vrms").text_content()
    assert re.fullmatch(r"23\d,\d V", v), v             # the sim's 232 V mains, French decimals
    page.wait_for_timeout(2500)
    before = watts(page, "flow-house")
    ok(fw.base, "/sim/set?load=3000")
    page.wait_for_function("""b => {
        const t = document.querySelector('[data-testid=flow-house]').textContent;
        return parseFloat(t.replace(/[^0-9,.-]/g, '').replace(',', '.')) > b + 2000; }""",
                           arg=before, timeout=8000)
    assert re.fullmatch(r"\d\d:\d\d:\d\d", page.get_by_test_id("time").text_content())
    ok(fw.base, "/sim/set?load=0")
    ok(fw.base, "/api/set?ssrmode&value=auto")
    ok(fw.base, "/api/set?relaymode&value=auto")


@pytest.mark.parametrize("which", ["ssr", "relay"])
def test_mode_buttons_change_the_router_and_show_the_result(page, fw, which):
    group = page.get_by_role("group", name=re.compile("SSR" if which == "ssr" else "Relais"))
    for mode, state in (("FORCE", "FORCE"), ("STOP", "STOP"), ("AUTO", None)):
        group.get_by_role("button", name=mode).click()
        result = page.get_by_test_id(which + "-result")
        page.wait_for_function("([el, m]) => el.textContent.includes('→ ' + m + ' : Request "
                               "successfully processed')", arg=[result.element_handle(), mode])
        answer = ok(fw.base, "/api/get?%sstate" % which)
        if state:
            assert answer == state
        else:
            assert answer in ("ON", "OFF", "MAX")
        shown = page.get_by_test_id(which + "-state")
        page.wait_for_function("([el, s]) => el.textContent.startsWith(s)",
                               arg=[shown.element_handle(), answer])
        expect(group.get_by_role("button", pressed=True)).to_have_text(mode)


def test_a_refused_command_is_shown_not_hidden(page, fw):
    # an admin password makes the router refuse commands without it: the page must say so
    ok(fw.base, "/api/set?adminpass&value=secret")
    try:
        page.get_by_role("group", name=re.compile("SSR")).get_by_role("button", name="FORCE").click()
        page.get_by_role("button", name="Annuler").click()          # the password dialog
        result = page.get_by_test_id("ssr-result")
        page.wait_for_function("el => el.textContent.includes('Unauthorized')",
                               arg=result.element_handle())
        assert ok(fw.base, "/api/get?ssrstate") != "FORCE"
        # the browser logs the 401 it was meant to get; nothing else may be there
        page.console_errors[:] = [e for e in page.console_errors if "status of 401" not in e]
    finally:
        auth = {"Authorization": "Basic YWRtaW46c2VjcmV0"}            # admin:secret
        assert get(fw.base, "/api/set?adminpass&value=", auth)[0] == 200


def test_one_request_a_second_keeps_it_live(page):
    # each request costs the router loop time on the ESP32: the page must not multiply them
    start = len(page.requests)
    page.wait_for_timeout(5000)
    polls = page.requests[start:]
    live = [u for u in polls if u.endswith("/api/get?alldata&extended&states&clock")]
    heater = [u for u in polls if u.endswith("/api/get?heater")]      # every 2 s
    assert 4 <= len(live) <= 6 and 2 <= len(heater) <= 3, polls
    assert len(live) + len(heater) == len(polls), polls


def test_language_and_theme_switches(page):
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.get_by_role("heading", name="Flux de puissance").is_visible()
    page.get_by_role("button", name="Switch to English").click()
    assert page.get_by_role("heading", name="Power flow").is_visible()
    assert page.get_by_role("link", name="Dashboard").get_attribute("aria-current") == "page"
    assert page.locator("html").get_attribute("lang") == "en"
    page.wait_for_function("document.querySelector('[data-testid=vrms]').textContent.includes('.')")
    page.reload()                                                   # the choice is remembered
    assert page.get_by_role("heading", name="Power flow").is_visible()
    page.get_by_role("button", name="Passer en français").click()
    assert page.get_by_role("heading", name="Flux de puissance").is_visible()

    bg = "getComputedStyle(document.body).backgroundColor"
    light = page.evaluate(bg)
    page.get_by_role("button", name=re.compile("Thème : auto")).click()     # auto -> light
    assert page.evaluate(bg) == light                                      # headless: light
    page.get_by_role("button", name=re.compile("Thème : clair")).click()    # light -> dark
    assert page.locator("html").get_attribute("data-theme") == "dark"
    assert page.evaluate(bg) != light
    page.get_by_role("button", name=re.compile("Thème : sombre")).click()   # back to auto


def test_a_lost_mains_shows_offline_and_the_anomaly_in_words(page, fw):
    ok(fw.base, "/sim/set?mains=off")
    try:
        page.wait_for_function("document.getElementById('online').textContent === 'Hors ligne'",
                               timeout=8000)
        assert "secteur absent" in page.get_by_test_id("anomalies").text_content()
    finally:
        ok(fw.base, "/sim/set?mains=on")
    page.wait_for_function("document.getElementById('online').textContent === 'En marche'",
                           timeout=10000)


def test_a_clock_not_synchronised_says_so(browser, tmp_path):
    from test_captive_dns import free_udp_port
    f = launch(tmp_path, scenario="clear_day", args=("--ntp", "127.0.0.1:%d" % free_udp_port()))
    try:
        p = browser.page(f.base)
        expect(p.get_by_test_id("time")).to_have_text(
            re.compile(r"non synchronisée \(depuis le démarrage : 00:00:\d\d\)"))
        assert p.console_errors == [] and p.outside == []
        p.context.close()
    finally:
        f.stop()


def test_usable_at_360_px(browser, fw):
    p = browser.page(fw.base, width=360, height=740)
    try:
        p.wait_for_function("document.querySelector('[data-testid=vrms]').textContent.includes('V')")
        assert p.evaluate("document.documentElement.scrollWidth") <= 360      # no sideways scroll
        for name in ("STOP", "AUTO", "FORCE"):
            box = p.get_by_role("group", name=re.compile("SSR")).get_by_role("button", name=name).bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= 360 and box["height"] >= 40
        browser.shot(p, "dashboard-360")
        pressed = p.get_by_role("group", name=re.compile("SSR")).get_by_role("button", pressed=True)
        assert contrast(pressed) >= 4.5                 # WCAG AA for the state a user acts on
        p.locator("html").evaluate("el => el.dataset.theme = 'dark'")
        assert contrast(pressed) >= 4.5
        browser.shot(p, "dashboard-360-dark")
        assert p.outside == []
    finally:
        p.context.close()


def test_a_command_refused_as_busy_is_sent_again(page, fw):
    """While the router's connections are all taken (a busy LAN, another phone), it answers a
    new one 503 at once without reading it: the page sends the command again a second later
    instead of showing an error."""
    import socket
    import threading
    import time
    taken, stop = [], threading.Event()

    def hold():
        # 2 connections being handled (idle: held up to the 5 s head timeout), and the 4
        # places of the waiting line kept full (each waits up to 1 s for a slot)
        taken.extend(socket.create_connection(("127.0.0.1", fw.port)) for _ in range(2))
        while not stop.is_set():
            taken.extend(socket.create_connection(("127.0.0.1", fw.port)) for _ in range(4))
            stop.wait(0.5)
    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    try:
        time.sleep(0.3)
        assert get(fw.base, "/api/get?ping")[0] == 503
        page.get_by_role("group", name=re.compile("SSR")).get_by_role("button", name="STOP").click()
        time.sleep(1.2)
    finally:
        stop.set()
        holder.join()
        for c in taken:
            c.close()
    result = page.get_by_test_id("ssr-result")
    page.wait_for_function("el => el.textContent.includes('→ STOP : Request successfully processed')",
                           arg=result.element_handle())
    assert ok(fw.base, "/api/get?ssrstate") == "STOP"
    ok(fw.base, "/api/set?ssrmode&value=auto")
    # the browser logs the 503s it was meant to get
    page.console_errors[:] = [e for e in page.console_errors if "status of 503" not in e]


def test_a_damaged_record_found_at_boot_is_reported_on_the_dashboard(browser, tmp_path):
    """A damaged energy file is set aside at boot, not silently replaced: the API counts it
    (data 30, /api/get?storage says which) and the dashboard tells the owner."""
    import json
    flash = tmp_path / "flash"
    flash.mkdir()
    (flash / "energy.json").write_text('{"crc": 1, "body": "{\\"wh\\": [1, 2"}')
    f = launch(flash, scenario="clear_day")
    try:
        assert ok(f.base, "/api/get?data=30") == "1"
        recent = json.loads(get(f.base, "/api/get?storage")[1])["recent"]
        assert recent[-1]["record"] == "energy" and "bad-1" in recent[-1]["what"], recent
        assert (flash / "energy.bad-1.json").exists()
        p = browser.page(f.base)
        warn = p.get_by_test_id("storage")
        expect(warn).to_be_visible()
        expect(warn).to_contain_text("1 défaut(s)")
        expect(warn).to_contain_text("energy: ")
        assert p.console_errors == []
        p.context.close()
    finally:
        f.stop()
