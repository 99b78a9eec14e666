"""The parameters and administration views in a real browser (Debian's chromium), against the
real firmware under MicroPython on the simulated board: what the user does on the page must be
what the API then shows, and what the page refuses must change nothing."""
import base64
import json
import urllib.parse

import pytest
from playwright.sync_api import expect

from test_api import get, launch, ok

PHONE = dict(width=360, height=780)


@pytest.fixture(scope="module")
def fw(tmp_path_factory):
    fw = launch(tmp_path_factory.mktemp("flash"), scenario="load_steps", speed="1")
    # a saved configuration takes over the port at the next boot: keep this one
    ok(fw.base, "/api/set?configmaxpv&value=" + urllib.parse.quote(json.dumps({"http_port": fw.port})))
    yield fw
    fw.stop()


def view(browser, fw, name, **size):
    page = browser.page(fw.base, **(size or PHONE))
    page.goto(fw.base + "/#" + name)
    return page


def allparam(fw):
    return ok(fw.base, "/api/get?allparam")


def config(fw):
    return json.loads(get(fw.base, "/api/get?configmaxpv")[1])


def sent(page, what):
    return [u for u in page.requests if what in u]


def param_form(page, name):
    return page.locator("form.field", has=page.get_by_test_id("param-" + name))


def until(page, check, timeout_ms=10000):
    """Polls `check` while the page keeps running (never time.sleep with a page open)."""
    for _ in range(timeout_ms // 100):
        if check():
            return
        page.wait_for_timeout(100)
    assert check()


def errors(page):
    # the browser logs every 4xx answer; those are expected here (refusals are the point)
    return [e for e in page.console_errors if "Failed to load resource" not in e]


def answer(page, yes):
    page.locator("dialog.confirm button[value=%s]" % ("yes" if yes else "no")).click()


def test_parameters_are_checked_applied_and_read_back(browser, fw):
    page = view(browser, fw, "params")
    expect(page.get_by_test_id("param-P_RESISTANCE")).to_have_value("2000")
    # the original's four groups, in order, with every parameter labelled
    assert page.locator(".pa h2").all_inner_texts()[:4] == ["Installation", "Calibrage", "Régulation", "Relais secondaire"]
    inputs = page.locator(".pa form.field input")
    assert inputs.count() == 16
    assert page.evaluate("[...document.querySelectorAll('.pa input')].every(i => i.labels.length)")
    first = page.locator("section", has=page.locator("#h-par-installation")).locator("input")
    assert [first.nth(i).get_attribute("name") for i in range(3)] == ["P_INSTALLPV", "P_RESISTANCE", "CNT_CALIB"]
    browser.shot(page, "params-360")

    # out of range, and not a whole number: refused on the page, nothing sent, nothing changed
    before = allparam(fw)
    page.get_by_test_id("param-P_RESISTANCE").fill("20000")
    param_form(page, "P_RESISTANCE").get_by_role("button").click()
    expect(page.get_by_test_id("msg-P_RESISTANCE")).to_contain_text("Hors plage : de 100 à 10000 W")
    expect(page.get_by_test_id("param-P_RESISTANCE")).to_have_attribute("aria-invalid", "true")
    page.get_by_test_id("param-P_MARGIN").fill("12,5")
    page.get_by_test_id("param-P_MARGIN").press("Enter")
    expect(page.get_by_test_id("msg-P_MARGIN")).to_contain_text("Nombre entier attendu")
    assert sent(page, "/api/set") == []
    assert allparam(fw) == before

    # valid edits ("," accepted): applied, read back, marked as differing from the default
    page.get_by_test_id("param-P_MARGIN").fill(" 25 ")
    page.get_by_test_id("param-P_MARGIN").press("Enter")
    expect(page.get_by_test_id("msg-P_MARGIN")).to_have_text("Appliqué : 25 W")
    assert ok(fw.base, "/api/get?param=06") == "25"
    expect(param_form(page, "P_MARGIN").locator(".badge").first).to_be_visible()
    page.get_by_test_id("param-CNT_CALIB").fill("1,5")
    param_form(page, "CNT_CALIB").get_by_role("button").click()
    expect(page.get_by_test_id("msg-CNT_CALIB")).to_contain_text("Appliqué : 1,5")
    assert ok(fw.base, "/api/get?param=15") == "1.500"
    expect(page.get_by_test_id("unsaved")).to_be_visible()

    # save: the router's answer is shown and the unsaved warning goes
    page.locator("[data-action=saveparam]").click()
    expect(page.get_by_test_id("params-result")).to_have_text(
        "Enregistrer les paramètres : Request successfully processed")
    expect(page.get_by_test_id("unsaved")).to_be_hidden()

    # destructive actions ask first; cancelling sends nothing
    page.locator("[data-action=resetindex]").click()
    answer(page, False)
    page.locator("[data-action=format]").click()
    answer(page, False)
    page.wait_for_timeout(300)
    assert sent(page, "resetindex") == [] and sent(page, "format") == []
    assert ok(fw.base, "/api/get?param=06") == "25"
    page.locator("[data-action=format]").click()
    answer(page, True)
    expect(page.get_by_test_id("params-result")).to_have_text(
        "Revenir aux valeurs par défaut : Request successfully processed")
    expect(page.get_by_test_id("param-P_MARGIN")).to_have_value("10")
    assert ok(fw.base, "/api/get?param=06") == "10" and ok(fw.base, "/api/get?param=15") == "1.000"
    # nothing saved any more: load says so, next to the action
    page.locator("[data-action=loadparam]").click()
    expect(page.get_by_test_id("params-result")).to_contain_text("no saved parameters")
    assert page.outside == [] and errors(page) == []
    page.context.close()


def test_language_switch_changes_labels(browser, fw):
    page = view(browser, fw, "params", width=1000, height=900)
    expect(page.locator("#h-par-calibration")).to_have_text("Calibrage")
    expect(page.locator("label[for=p-P_RESISTANCE]")).to_contain_text("Puissance de la résistance")
    page.click("#lang")
    expect(page.locator("#h-par-calibration")).to_have_text("Calibration")
    expect(page.locator("label[for=p-P_RESISTANCE]")).to_contain_text("Heater resistor power")
    expect(page.locator("#p-P_RESISTANCE-help")).to_have_text("Power of the water-heater resistor at 230 V")
    page.goto(fw.base + "/#admin")
    expect(page.locator("#h-adm-pass")).to_have_text("Admin password")
    expect(page.locator("label[for=c-mqtt_port]")).to_have_text("Broker port")
    page.click("#lang")
    expect(page.locator("label[for=c-mqtt_port]")).to_have_text("Port du broker")
    page.context.close()


def test_configuration_is_checked_and_only_changes_are_sent(browser, fw):
    page = view(browser, fw, "admin")
    expect(page.get_by_test_id("cfg-mqtt_port")).to_have_value("1883")
    assert page.evaluate("[...document.querySelectorAll('.pa input')].every(i => i.labels.length)")
    browser.shot(page, "admin-360")
    before = config(fw)

    # refused on the page: message at the field, nothing sent
    page.get_by_test_id("cfg-mqtt_port").fill("70000")
    page.get_by_test_id("config-save").click()
    expect(page.get_by_test_id("cmsg-mqtt_port")).to_have_text("Nombre entier de 1 à 65535 attendu")
    expect(page.get_by_test_id("config-result")).to_contain_text("rien n'a été envoyé")
    page.get_by_test_id("cfg-mqtt_port").fill("1883")
    page.get_by_test_id("cfg-ip").fill("192.168.1.256")
    page.get_by_test_id("config-save").click()
    expect(page.get_by_test_id("cmsg-ip")).to_contain_text("IPv4")
    assert sent(page, "configmaxpv&value") == []
    page.get_by_test_id("cfg-ip").fill(before["ip"])

    # refused by the router (a rule across two keys): its message, at the field it names
    page.get_by_test_id("cfg-RelayPlus_min").fill("600")
    page.get_by_test_id("cfg-RelayPlus_max").fill("100")
    page.get_by_test_id("config-save").click()
    expect(page.get_by_test_id("config-result")).to_contain_text("RelayPlus_max must not be below RelayPlus_min")
    expect(page.get_by_test_id("cmsg-RelayPlus_max")).to_contain_text("Bad request")
    assert config(fw) == before

    # a change applied: only the changed keys go, the router's answer says what waits for a reboot
    page.get_by_test_id("cfg-RelayPlus_min").fill(str(before["RelayPlus_min"]))
    page.get_by_test_id("cfg-RelayPlus_max").fill(str(before["RelayPlus_max"]))
    page.get_by_test_id("cfg-mqtt_port").fill("1884")
    page.get_by_test_id("cfg-hostname").fill("chauffe-eau")
    page.get_by_test_id("cfg-boost_timer_active").check()
    page.get_by_test_id("config-save").click()
    result = page.get_by_test_id("config-result")
    expect(result).to_contain_text("Request successfully processed (applied at the next reboot: hostname)")
    expect(result).to_contain_text("prochain redémarrage")
    after = config(fw)
    assert (after["mqtt_port"], after["hostname"], after["boost_timer_active"]) == (1884, "chauffe-eau", 1)
    posted = sent(page, "configmaxpv&value=")
    body = json.loads(urllib.parse.unquote(posted[-1].split("value=", 1)[1]))
    assert body == {"mqtt_port": 1884, "hostname": "chauffe-eau", "boost_timer_active": 1}
    page.get_by_test_id("config-save").click()
    expect(result).to_have_text("Aucune modification à enregistrer.")

    # the MQTT password: sent once, then never shown; kept unless cleared on purpose
    page.get_by_test_id("cfg-mqtt_pass").fill("s3cret")
    page.get_by_test_id("config-save").click()
    expect(result).to_contain_text("Request successfully processed")
    until(page, lambda: config(fw)["mqtt_pass"] == "********")
    page.reload()
    expect(page.get_by_test_id("cfg-mqtt_port")).to_have_value("1884")
    expect(page.get_by_test_id("cfg-mqtt_pass")).to_have_value("")
    assert "s3cret" not in page.content() and "********" not in page.evaluate(
        "[...document.querySelectorAll('input')].map(i => i.value).join()")
    page.get_by_test_id("cfg-mqtt_port").fill("1885")
    page.get_by_test_id("config-save").click()
    expect(result).to_contain_text("Request successfully processed")
    until(page, lambda: config(fw)["mqtt_port"] == 1885)
    assert config(fw)["mqtt_pass"] == "********"           # another save keeps it
    page.get_by_test_id("cfg-mqtt_pass-clear").check()
    page.get_by_test_id("config-save").click()
    expect(result).to_contain_text("Request successfully processed")
    until(page, lambda: config(fw)["mqtt_pass"] == "")
    assert page.outside == [] and errors(page) == []
    page.context.close()


def test_time_zone_and_servers(browser, fw):
    page = view(browser, fw, "admin")
    zone = page.get_by_test_id("cfg-time_zone")
    expect(zone).to_have_value("Europe/Paris")
    expect(zone.locator("option")).to_have_text(["Europe/Paris (heure légale, été et hiver)",
                                                 "UTC (heure solaire de MaxPV! 3.1)"])
    servers = page.get_by_test_id("cfg-ntp_servers")
    # the configuration loaded first (the page asks for more at once since the self-test's
    # and the update's sections: typed before it arrived, the value was replaced)
    expect(servers).to_have_value("pool.ntp.org,time.google.com")
    servers.fill("pool.ntp.org, 10.0.0.1:99999")
    page.get_by_test_id("config-save").click()
    expect(page.get_by_test_id("cmsg-ntp_servers")).to_contain_text("séparés par des virgules")
    assert sent(page, "configmaxpv&value") == []
    servers.fill("ntp.home.lan,10.0.0.1:123")
    zone.select_option("UTC")
    page.get_by_test_id("config-save").click()
    expect(page.get_by_test_id("config-result")).to_contain_text("time_zone, ntp_servers)")
    after = config(fw)
    assert (after["time_zone"], after["ntp_servers"]) == ("UTC", "ntp.home.lan,10.0.0.1:123")
    assert page.outside == [] and errors(page) == []
    page.context.close()
    ok(fw.base, "/api/set?configmaxpv&value=" + urllib.parse.quote(json.dumps(
        {"time_zone": "Europe/Paris", "ntp_servers": "pool.ntp.org,time.google.com"})))


def test_export_and_import_round_trip(browser, fw, tmp_path):
    page = view(browser, fw, "admin")
    expect(page.get_by_test_id("cfg-mqtt_port")).not_to_have_value("")
    with page.expect_download() as dl:
        page.get_by_test_id("export").click()
    exported = json.loads(open(dl.value.path(), encoding="utf-8").read())
    assert exported == config(fw)

    # a file of another MaxPV! version may carry keys this firmware does not know: the router
    # applies the rest and names them
    changed = dict(exported, mqtt_period=30, ftp_active=0)
    good = tmp_path / "config.json"
    good.write_text(json.dumps(changed))
    page.get_by_label("Importer une configuration").set_input_files(str(good))
    out = page.get_by_test_id("import-result")
    expect(out).to_contain_text("Request successfully processed")
    expect(out).to_contain_text("ignored: ftp_active")
    expect(page.get_by_test_id("cfg-mqtt_period")).to_have_value("30")
    assert config(fw) == dict(exported, mqtt_period=30)

    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    page.get_by_label("Importer une configuration").set_input_files(str(bad))
    expect(out).to_contain_text("Fichier illisible")
    bad.write_text("[1, 2]")
    page.get_by_label("Importer une configuration").set_input_files(str(bad))
    expect(out).to_contain_text("Fichier illisible : ce n'est pas une configuration JSON ({…})")
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"mqtt_port": "80000"}))
    page.get_by_label("Importer une configuration").set_input_files(str(wrong))
    expect(out).to_contain_text("Bad request: mqtt_port must be within 1..65535")
    assert config(fw) == dict(exported, mqtt_period=30)
    assert page.outside == [] and errors(page) == []
    page.context.close()


def test_admin_password_set_asked_for_and_removed(browser, fw):
    auth = {"Authorization": "Basic " + base64.b64encode(b"admin:pa ss:1").decode()}
    page = view(browser, fw, "admin")
    try:
        page.locator("#adm-pw1").fill("pa ss:1")
        page.locator("#adm-pw2").fill("pa ss:2")
        page.get_by_test_id("pass-set").click()
        expect(page.get_by_test_id("pass-result")).to_have_text("Les deux saisies diffèrent.")
        assert sent(page, "adminpass") == []
        page.locator("#adm-pw2").fill("pa ss:1")
        page.get_by_test_id("pass-set").click()
        expect(page.get_by_test_id("pass-result")).to_contain_text("Mot de passe défini")
        assert get(fw.base, "/api/set?param=06&value=11")[0] == 401

        # a change from the page: the login dialog, then it goes through
        page.goto(fw.base + "/#params")
        expect(page.get_by_test_id("param-P_MARGIN")).to_have_value("10")
        page.get_by_test_id("param-P_MARGIN").fill("30")
        page.get_by_test_id("param-P_MARGIN").press("Enter")
        expect(page.locator("#login")).to_be_visible()
        page.locator("#login-pass").fill("pa ss:1")
        page.locator("#login-ok").click()
        expect(page.get_by_test_id("msg-P_MARGIN")).to_have_text("Appliqué : 30 W")
        assert ok(fw.base, "/api/get?param=06") == "30"

        # another browser that does not give it: the router's refusal, at the field
        other = view(browser, fw, "params")
        expect(other.get_by_test_id("param-P_MARGIN")).to_have_value("30")
        other.get_by_test_id("param-P_MARGIN").fill("40")
        other.get_by_test_id("param-P_MARGIN").press("Enter")
        other.locator("#login-cancel").click()
        expect(other.get_by_test_id("msg-P_MARGIN")).to_contain_text("Unauthorized")
        assert ok(fw.base, "/api/get?param=06") == "30"
        other.context.close()

        # removed from the page (this browser has the password now), after a confirmation
        page.goto(fw.base + "/#admin")
        page.get_by_test_id("pass-remove").click()
        answer(page, False)
        page.wait_for_timeout(200)
        assert not [u for u in page.requests if u.endswith("adminpass&value=")]
        page.get_by_test_id("pass-remove").click()
        answer(page, True)
        expect(page.get_by_test_id("pass-result")).to_have_text("Mot de passe supprimé.")
        assert get(fw.base, "/api/set?param=06&value=10")[0] == 200
    finally:
        get(fw.base, "/api/set?adminpass&value=", auth)
        page.context.close()


def test_reboot_factory_reset_and_versions(browser, fw):
    page = view(browser, fw, "admin")
    expect(page.get_by_test_id("v.fw")).to_have_text(ok(fw.base, "/api/get?versionmaxpv"))
    expect(page.get_by_test_id("v.api")).to_have_text("3.1")
    expect(page.get_by_test_id("v.web")).not_to_have_text("–")
    up = lambda: ok(fw.base, "/api/get?data=21")     # noqa: E731  D:HH:MM:SS
    secs = lambda u: sum(int(x) * m for x, m in zip(u.split(":"), (86400, 3600, 60, 1)))  # noqa: E731

    page.get_by_test_id("reboot").click()
    answer(page, False)
    page.wait_for_timeout(1500)
    assert sent(page, "rebootesp") == []
    before = secs(up())
    assert before >= 2

    page.get_by_test_id("reboot").click()
    answer(page, True)
    out = page.get_by_test_id("sys-result")
    expect(out).to_have_text("Redémarrage en cours…")
    expect(out).to_have_text("Le routeur est de nouveau en marche.", timeout=40000)
    assert secs(up()) < before                      # uptime started again
    assert config(fw)["mqtt_port"] != 1883          # kept across the reboot (set by earlier tests)

    page.get_by_test_id("factory").click()
    expect(page.locator("dialog.confirm")).to_contain_text("valeurs d'usine")
    answer(page, True)
    expect(out).to_have_text("Redémarrage en cours…")
    expect(out).to_have_text("Le routeur est de nouveau en marche.", timeout=40000)
    cfg = config(fw)
    assert cfg["mqtt_port"] == 1883 and cfg["hostname"] == "maxpv"
    expect(page.get_by_test_id("cfg-mqtt_port")).to_have_value("1883")
    assert page.outside == []
    page.context.close()
