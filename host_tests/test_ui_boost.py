"""The water heater in a real browser (Debian's chromium) against the firmware under
MicroPython on the simulated board: the dashboard's Boost button, the heater's reason in
words, the tank temperature; the administration page's boost, keep-warm, anti-legionella,
modes and API settings, and the remote relay's state line."""
import json
import re
import urllib.parse

import pytest
from playwright.sync_api import expect

from test_api import get, launch, ok


@pytest.fixture(scope="module")
def fw(tmp_path_factory):
    f = launch(tmp_path_factory.mktemp("flash"), scenario="clear_day")
    yield f
    f.stop()


def config(fw):
    return json.loads(get(fw.base, "/api/get?configmaxpv")[1])


def set_config(fw, **kv):
    ok(fw.base, "/api/set?configmaxpv&value=" + urllib.parse.quote(json.dumps(kv)))


def secs(text):
    m, s = re.search(r"(\d\d):(\d\d)\s+min", text).groups()
    return int(m) * 60 + int(s)


def errors(page):
    # the browser logs every 4xx answer; those are expected where a refusal is the point
    return [e for e in page.console_errors if "Failed to load resource" not in e]


@pytest.fixture
def dash(browser, fw):
    p = browser.page(fw.base)
    expect(p.get_by_test_id("heater-reason")).not_to_have_text("–")
    yield p
    assert p.outside == [] and errors(p) == []
    p.context.close()


def test_boost_starts_shows_its_time_left_and_stops(dash, fw):
    set_config(fw, boost_duration=120, boost_ratio=100)
    ok(fw.base, "/api/set?ssrmode&value=auto")
    ok(fw.base, "/api/action?boostoff")
    page = dash
    reason = page.get_by_test_id("heater-reason")
    left = page.get_by_test_id("boost-left")
    button = page.get_by_test_id("boost")
    expect(reason).to_have_text("Routage du surplus")
    expect(button).to_have_text("Boost")
    expect(left).to_have_text("")

    button.click()
    expect(page.get_by_test_id("boost-result")).to_have_text(
        "Boost → marche : Request successfully processed")
    assert ok(fw.base, "/api/get?booststate") == "ON"
    expect(reason).to_have_text("Boost")
    expect(left).to_have_text(re.compile(r"^Boost manuel à 100 % : reste (2:00|1:59)\s+h$"))
    expect(button).to_have_text("Arrêter le boost")

    page.click("#lang")                                  # English
    reason = page.get_by_test_id("heater-reason")
    left = page.get_by_test_id("boost-left")
    button = page.get_by_test_id("boost")
    expect(reason).to_have_text("Boost")
    expect(left).to_have_text(re.compile(r"^manual boost at 100 %: (2:00|1:59)\s+h left$"))
    expect(button).to_have_text("Stop the boost")

    # under an hour: mm:ss, counting down
    set_config(fw, boost_duration=2)
    ok(fw.base, "/api/action?booston")                   # a running boost starts again
    expect(left).to_have_text(re.compile(r"^manual boost at 100 %: 0[12]:\d\d\s+min left$"))
    first = left.text_content()
    expect(left).not_to_have_text(first, timeout=4000)
    assert secs(left.text_content()) < secs(first) <= 120

    button.click()
    expect(page.get_by_test_id("boost-result")).to_have_text(
        "Boost → off: Request successfully processed")
    assert ok(fw.base, "/api/get?booststate") == "OFF"
    expect(reason).to_have_text("Surplus routing")
    expect(left).to_have_text("")
    expect(button).to_have_text("Boost")
    set_config(fw, boost_duration=120)


def test_a_refused_boost_says_why(dash, fw):
    ok(fw.base, "/api/action?boostoff")
    set_config(fw, boost_ratio=0)
    try:
        dash.get_by_test_id("boost").click()
        result = dash.get_by_test_id("boost-result")
        expect(result).to_contain_text("Boost → marche : Bad request: boost refused: ")
        expect(result).to_have_class(re.compile("error"))
        assert ok(fw.base, "/api/get?booststate") == "OFF"
        expect(dash.get_by_test_id("heater-reason")).to_have_text("Routage du surplus")
    finally:
        set_config(fw, boost_ratio=100)


def test_the_tank_temperature_and_the_grid_heat(dash, fw):
    probe = float(ok(fw.base, "/api/get?data=28"))
    assert probe > 0                                     # the simulated tank has its probe
    temp = dash.get_by_test_id("temp")
    expect(temp).to_have_text(re.compile(r"^\d+,\d °C$"))
    assert abs(float(temp.text_content()[:-3].replace(",", ".")) - probe) < 2
    expect(dash.get_by_test_id("grid-heat")).to_have_text(re.compile(r"^\d+,\d{3} kWh$"))


def test_no_probe_is_said(browser, fw):
    page = browser.page(fw.base)
    page.click("#lang")

    def no_probe(route):          # data 28 as a board without a DS18B20 gives it
        r = route.fetch()
        f = r.text().split(",")
        f[27] = "-99"
        route.fulfill(response=r, body=",".join(f))

    page.route(re.compile(r"/api/get\?alldata"), no_probe)
    expect(page.get_by_test_id("temp")).to_have_text("— (no probe)")
    page.click("#lang")
    expect(page.get_by_test_id("temp")).to_have_text("— (pas de sonde)")
    assert page.outside == [] and errors(page) == []
    page.context.close()


# the settings this firmware added, each with a value other than its default
NEW = {"boost_energy_active": 1, "boost_energy_hour": 19, "boost_energy_wh": 4500,
       "keepwarm_active": 1, "keepwarm_min": 38, "keepwarm_offpeak": 1,
       "offpeak_start": "23:30", "offpeak_end": "07:15", "legionella_active": 1,
       "legionella_day": 2, "legionella_hour": 14, "persist_modes": 0, "api_layout": "3.60",
       "temp_limit_active": 1, "max_temp": 70}


def test_every_setting_is_offered_and_the_new_ones_are_saved(browser, fw):
    before = config(fw)
    page = browser.page(fw.base, width=360, height=780)
    page.goto(fw.base + "/#admin")
    expect(page.get_by_test_id("cfg-mqtt_port")).to_have_value(str(before["mqtt_port"]))
    for k in before:                                     # every key of config.py's table
        expect(page.get_by_test_id("cfg-" + k)).to_have_count(1)
    assert page.evaluate("[...document.querySelectorAll('.pa input, .pa select')].every(i => i.labels.length)")
    legends = page.locator("form legend").all_inner_texts()
    assert legends == ["Wi-Fi", "Réseau", "MQTT", "Boost", "Température, maintien, anti-légionelle",
                       "RelayPlus", "Relais distant", "Modes et API", "Heure"]
    day = page.get_by_test_id("cfg-legionella_day")
    expect(day.locator("option")).to_have_text(["lundi", "mardi", "mercredi", "jeudi", "vendredi",
                                                "samedi", "dimanche"])
    expect(day).to_have_value("6")
    expect(page.locator("label[for=c-keepwarm_min]")).to_have_text("Température minimale (°C)")
    expect(page.locator("#c-keepwarm_active-hint")).to_contain_text("3 °C")
    expect(page.get_by_test_id("cfg-offpeak_start")).to_have_value("22:00")
    browser.shot(page, "admin-heater-360")

    # a time of day out of range: refused at the field, nothing sent
    page.get_by_test_id("cfg-offpeak_start").fill("25:00")
    page.get_by_test_id("config-save").click()
    expect(page.get_by_test_id("cmsg-offpeak_start")).to_have_text("Heure HH:MM attendue, de 00:00 à 23:59")
    expect(page.get_by_test_id("cfg-offpeak_start")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_test_id("config-result")).to_contain_text("rien n'a été envoyé")
    assert [u for u in page.requests if "configmaxpv&value" in u] == []
    assert config(fw) == before

    for k, v in NEW.items():
        assert before[k] != v, k
        field = page.get_by_test_id("cfg-" + k)
        kind = field.evaluate("el => el.type")
        if kind == "checkbox":
            field.set_checked(bool(v))
        elif kind == "select-one":
            field.select_option(str(v))
        else:
            field.fill(str(v))
    page.get_by_test_id("config-save").click()
    expect(page.get_by_test_id("config-result")).to_contain_text("Request successfully processed")
    after = config(fw)
    assert {k: after[k] for k in NEW} == NEW
    assert {k: v for k, v in after.items() if k not in NEW} == {k: v for k, v in before.items() if k not in NEW}
    posted = [u for u in page.requests if "configmaxpv&value=" in u][-1]
    assert json.loads(urllib.parse.unquote(posted.split("value=", 1)[1])) == NEW
    page.reload()
    expect(page.get_by_test_id("cfg-legionella_day")).to_have_value("2")
    expect(page.get_by_test_id("cfg-offpeak_end")).to_have_value("07:15")
    expect(page.get_by_test_id("cfg-api_layout")).to_have_value("3.60")
    expect(page.get_by_test_id("cfg-persist_modes")).not_to_be_checked()

    page.click("#lang")
    expect(page.locator("label[for=c-keepwarm_min]")).to_have_text("Minimum temperature (°C)")
    expect(page.get_by_test_id("cfg-legionella_day")).to_have_value("2")
    expect(page.get_by_test_id("cfg-legionella_day").locator("option:checked")).to_have_text("Wednesday")
    assert page.outside == [] and errors(page) == []
    page.context.close()
    set_config(fw, **{k: before[k] for k in NEW})


def test_the_remote_relay_state_line(browser, fw):
    page = browser.page(fw.base)
    page.goto(fw.base + "/#admin")
    line = page.get_by_test_id("remoterelay-state")
    expect(line).to_have_text("Relais distant désactivé.")
    fieldset = page.locator("fieldset", has=page.get_by_test_id("cfg-remoterelay_ip"))
    expect(fieldset.get_by_test_id("remoterelay-state")).to_have_count(1)
    start = len([u for u in page.requests if u.endswith("/api/get?remoterelay")])
    page.wait_for_timeout(3500)
    assert len([u for u in page.requests if u.endswith("/api/get?remoterelay")]) > start
    page.click("#lang")
    expect(page.get_by_test_id("remoterelay-state")).to_have_text("Remote relay is off.")
    assert page.outside == [] and errors(page) == []
    page.context.close()
