"""The real browser for the UI tests: Debian's chromium driven by Playwright, headless, with
every request recorded so a test can assert that nothing left the machine."""
import os
import shutil
from urllib.parse import urlsplit

from playwright.sync_api import sync_playwright

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "build", "screenshots")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-default-apps", "--disable-extensions"]
LOCAL = {"127.0.0.1", "localhost"}


class Browser:
    def __init__(self):
        self.pw = sync_playwright().start()
        self.chromium = self.pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)

    def page(self, base, width=1000, height=900, lang="fr"):
        """A fresh page (own storage) on the firmware at `base`. page.requests lists every URL
        the page asked for; page.outside those that were not for this machine (refused)."""
        ctx = self.chromium.new_context(viewport={"width": width, "height": height},
                                        locale="fr-FR" if lang == "fr" else "en-GB")
        page = ctx.new_page()
        page.requests = []
        page.outside = []
        page.console_errors = []

        def route(r):
            url = r.request.url
            page.requests.append(url)
            host = urlsplit(url).hostname
            if url.startswith("data:") or host in LOCAL:
                r.continue_()
            else:
                page.outside.append(url)
                r.abort()

        ctx.route("**/*", route)
        page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))
        page.on("pageerror", lambda e: page.console_errors.append(str(e)))
        page.set_default_timeout(10000)
        page.goto(base + "/")
        return page

    def shot(self, page, name):
        os.makedirs(SHOTS, exist_ok=True)
        path = os.path.join(SHOTS, name + ".png")
        page.screenshot(path=path, full_page=True)
        return path

    def close(self):
        self.chromium.close()
        self.pw.stop()
