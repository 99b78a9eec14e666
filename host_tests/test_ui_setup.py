"""The first boot with a phone, in a real browser (Debian's chromium at 360 px) against the
firmware under MicroPython on the simulated board started as `make sim WIFI=setup` starts
it: a phone's probe lands on the setup page, the page lists the simulated networks, a
wrong password is reported with the access point still up, the right one joins; then the
board serves the dashboard in station mode and configmaxpv shows the saved settings,
without the password. The screenshots are docs/setup.md's."""
import json

import pytest
from playwright.sync_api import expect

from test_api import Firmware, get
from test_captive_dns import free_udp_port

PHONE = dict(width=360, height=780)


@pytest.fixture
def fresh(tmp_path):
    # four times real time: the access point's minute after joining passes in 15 s
    fw = Firmware(tmp_path, scenario="clear_day", speed="4",
                  args=["--wifi", "setup", "--dns-port", str(free_udp_port())])
    yield fw
    fw.stop()


def network(fw):
    return json.loads(get(fw.base, "/api/get?network")[1])


def no_sideways_scroll(page):
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_phone_goes_from_the_setup_access_point_to_the_dashboard(browser, fresh):
    fw = fresh
    page = browser.page(fw.base, **PHONE)
    # the phone's "is there internet?" probe opens the setup page
    page.goto(fw.base + "/generate_204")
    assert page.url == fw.base + "/#setup"
    state = page.get_by_test_id("net-state")
    expect(state).to_contain_text("Point d'accès de configuration « MaxPV-5A17 » ouvert")
    expect(page.get_by_test_id("net-Maison")).to_be_visible(timeout=20000)
    names = page.locator(".nets .name").all_inner_texts()
    assert names == ["Maison", "Livebox-7A3C", "FreeWifi_secure", "Atelier"]
    no_sideways_scroll(page)
    browser.shot(page, "setup-360")

    # a wrong password: said so, nothing saved, the access point stays
    page.get_by_test_id("net-Maison").click()
    expect(page.get_by_test_id("setup-ssid")).to_have_value("Maison")
    page.get_by_test_id("setup-pass").fill("pas-le-bon")
    page.get_by_test_id("setup-save").click()
    result = page.get_by_test_id("setup-result")
    expect(result).to_contain_text("Mot de passe refusé par « Maison »", timeout=20000)
    assert network(fw)["mode"] == "setup"
    assert json.loads(get(fw.base, "/api/get?configmaxpv")[1])["wifi_ssid"] == ""
    browser.shot(page, "setup-wrong-password-360")

    # a password the page knows the router would refuse is not even sent
    page.get_by_test_id("setup-pass").fill("court")
    page.get_by_test_id("setup-save").click()
    expect(result).to_contain_text("8 à 63 caractères")

    # the right one joins; the page gives the address to open
    page.get_by_test_id("setup-pass").fill("soleil2026")
    page.get_by_test_id("setup-hostname").fill("chauffe-eau")
    page.get_by_test_id("setup-save").click()
    expect(result).to_contain_text("Connecté à « Maison » : adresse 127.0.0.1, http://chauffe-eau.local",
                                   timeout=20000)
    expect(result).to_contain_text("se ferme dans une minute")
    no_sideways_scroll(page)
    browser.shot(page, "setup-joined-360")

    # a minute later the access point is gone and the board is on the home network
    for _ in range(300):
        if network(fw)["mode"] == "station":
            break
        page.wait_for_timeout(100)
    n = network(fw)
    assert n["mode"] == "station" and n["ap"] is None and n["ssid"] == "Maison"
    assert get(fw.base, "/generate_204")[0] == 404
    page.goto(fw.base + "/")
    expect(page.get_by_test_id("flow-grid")).not_to_have_text("–")
    expect(page.get_by_test_id("network")).to_contain_text("Connecté à « Maison » (-58 dBm)", timeout=15000)
    cfg = json.loads(get(fw.base, "/api/get?configmaxpv")[1])
    assert (cfg["wifi_ssid"], cfg["wifi_pass"], cfg["hostname"], cfg["dhcp"]) == \
        ("Maison", "********", "chauffe-eau", 1)
    assert not page.outside and not [e for e in page.console_errors if "Failed to load resource" not in e]

    # in English too
    page.goto(fw.base + "/#setup")
    page.locator("#lang").click()
    expect(page.get_by_test_id("net-state")).to_contain_text("Connected to 'Maison'")
