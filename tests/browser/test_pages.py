"""Every page as the people who use it see it, in Chromium at 1280 px: the NHS.UK font (not the
browser's serif), nothing wider than the window, and no WCAG 2 A or AA violation by axe-core.
The pages are the demo's, as `make demo` shows them."""

from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
R = "/rounds/2026-27"
S = f"{R}/systems/borsetshire"

PAGES = {
    "borchester.preparer@openbook.invalid": [
        "/",
        "/rounds/",
        f"{R}/",
        f"{R}/ZB1/",
        f"{R}/ZB1/sections/finance/",
        f"{R}/ZB1/sections/workforce/",
        f"{R}/ZB1/sections/activity_elective/",
        f"{R}/ZB1/sections/performance/",
        f"{R}/ZB1/sections/finance/history/",
        f"{R}/ZB1/sections/finance/spread/",
        f"{R}/ZB1/narratives/summary/",
        f"{R}/ZB1/board-pack/",
        f"{R}/ZB1/upload/",
        f"{R}/ZB1/returns/",
        f"{R}/ZB1/returns/3/",
        "/organisations/",
        "/organisations/ZB1/",
        "/account/tokens/",
        "/account/sessions/",
        "/notifications/",
        "/notifications/settings/",
    ],
    "borchester.approver@openbook.invalid": [f"{R}/ZB1/submit/"],
    "borsetshire.lead@openbook.invalid": [
        "/",
        f"{R}/ZB2/",
        f"{R}/ZB2/sections/finance/",
        f"{R}/ZB2/compare/",
        f"{R}/ZB2/board-pack/",
        f"{R}/ZB2/accept/",
        "/notifications/",
        S + "/",
        S + "/balances/",
        S + "/control-totals/",
        S + "/fund/",
        S + "/agreements/",
        S + "/submit/",
        "/systems/borsetshire/",
        "/systems/borsetshire/audit/",
    ],
    "admin@openbook.invalid": ["/", "/people/import/"],
    "reviewer@openbook.invalid": [
        "/",
        f"{R}/regions/midshire/",
        "/regions/midshire/",
        "/notifications/",
    ],
}


def _check(page, url: str, axe: str) -> list[str]:
    """What is wrong with one page, in words (nothing: an empty list)."""
    response = page.goto(url)
    if response.status != 200:
        return [f"{url}: answered {response.status}"]
    found = page.evaluate(
        """() => ({
            font: getComputedStyle(document.body).fontFamily,
            wide: document.documentElement.scrollWidth,
            window: document.documentElement.clientWidth,
        })"""
    )
    problems = []
    if "arial" not in found["font"].lower() or "serif" in found["font"].replace("sans-serif", ""):
        problems.append(f"{url}: body font is {found['font']}")
    if found["wide"] > found["window"]:
        problems.append(f"{url}: the page is {found['wide']} px wide at {found['window']} px")
    page.evaluate(axe)
    violations = page.evaluate(
        """async () => (await axe.run(document, {
            runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
        })).violations.map(v => v.id + ": " + v.nodes.map(n => n.target.join(" ")).join(", "))"""
    )
    problems += [f"{url}: {v}" for v in violations]
    return problems


def test_every_page_reads_in_the_nhs_font_fits_the_window_and_passes_axe(browser, live_requests):
    live_server = live_requests
    call_command("seed")
    axe = AXE.read_text()
    problems = []
    for email, urls in PAGES.items():
        context = browser.new_context(
            base_url=live_server.url, viewport={"width": 1280, "height": 900}
        )
        page = context.new_page()
        sign_in(page, email, settings.DEMO_PASSWORD)
        for url in urls:
            problems += _check(page, url, axe)
        context.close()
    assert problems == []


def test_the_font_drawn_is_a_sans_serif_not_the_browsers_serif(page, live_server):
    """Not only what the stylesheet asks for: what Chromium actually draws the text with."""
    call_command("seed")
    sign_in(page, "borchester.preparer@openbook.invalid", settings.DEMO_PASSWORD)
    page.goto("/rounds/2026-27/ZB1/")
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    heading = cdp.send("DOM.querySelector", {"nodeId": root, "selector": "h1"})["nodeId"]
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": heading})["fonts"]
    names = [f["familyName"] for f in fonts]
    assert names and not any("Times" in n or "Serif" in n.replace("Sans", "") for n in names), names
