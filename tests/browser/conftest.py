"""Browser suite: headless Debian Chromium driven by Playwright, against the stack `make run`
starts (moto + API + portal), on ports of its own (tests/browser/stack.py).

Each page gets axe-core (tests/browser/node_modules, installed by `make browser-tools`) and a
recorder of CSP violations as init scripts: the portal's CSP forbids inline scripts (and its
Trusted Types any script text), so `page.add_script_tag` is refused there, as it should be.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest

from tests.browser import stack

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 740}
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener(
    "securitypolicyviolation", (e) => window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`)
);
"""


@pytest.fixture(scope="session")
def local_stack():
    with stack.running_stack(stack.ROOT / "build" / "browser-stack.log"):
        yield


@pytest.fixture(scope="session")
def chromium(local_stack):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = stack.launch(playwright)
        yield browser
        browser.close()


class Visit:
    """One person's browser: the page, what it requested, and the checks made on every screen."""

    def __init__(self, browser, viewport: dict, label: str):
        self.label = label
        self.context = browser.new_context(
            locale="fr-FR", timezone_id="Europe/Paris", viewport=viewport, accept_downloads=True
        )
        self.context.set_default_timeout(20000)
        self.context.add_init_script(path=str(stack.AXE))
        self.context.add_init_script(script=RECORD_VIOLATIONS)
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.page = self.context.new_page()
        self.blocked: list[str] = []  # refused by the CSP before leaving the browser
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("requestfailed", lambda r: self.blocked.append(r.url) if r.failure == "csp" else None)
        self.page.on("dialog", self._dialog)
        self.confirm = True

    def _dialog(self, dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.accept() if dialog.type == "confirm" and self.confirm else dialog.dismiss()

    def screen(self, name: str) -> None:
        """Checks the screen shown: axe finds nothing serious, then a screenshot under build/."""
        page = self.page
        page.wait_for_selector("#contenu:not([aria-busy=true])")  # the router: screen shown, its data loaded
        violations = page.evaluate(
            """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
                .filter((v) => v.impact === "serious" || v.impact === "critical")
                .map((v) => ({
                    id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 5)
                }))"""
        )
        assert violations == [], f"{name}: {json.dumps(violations, ensure_ascii=False, indent=1)}"
        stack.SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(stack.SCREENSHOTS / f"{self.label}-{name}.png"), full_page=True)

    def csp_violations(self) -> list[str]:
        return self.page.evaluate("window.__cspViolations")

    def hosts(self) -> set[str]:
        """Where the browser sent requests (what the CSP refused never left)."""
        sent = [url for url in self.requests if url not in self.blocked]
        return {urlsplit(url).netloc for url in sent if urlsplit(url).scheme in ("http", "https")}


def _visit(browser, viewport: dict, label: str):
    visit = Visit(browser, viewport, label)
    yield visit
    stack.SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    visit.page.screenshot(path=str(stack.SCREENSHOTS / f"{label}-last.png"), full_page=True)  # where a failure stopped
    visit.context.close()


@pytest.fixture
def desktop(chromium):
    yield from _visit(chromium, DESKTOP, "desktop")


@pytest.fixture
def phone(chromium):
    yield from _visit(chromium, PHONE, "phone")
