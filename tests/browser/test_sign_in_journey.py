"""A person signs in, finds their organisation and a partner's, cannot see another system's,
makes an API token, and signs out; the pages raise no console or CSP errors."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.conftest import build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_preparer_journey(page, live_server):
    build_world()
    sign_in(page, "member@example.nhs.uk")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Member")
    expect(page.get_by_text("Nothing needs your attention right now.")).to_be_visible()
    page.get_by_role("link", name="Alpha Hospitals NHS Trust").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Alpha Hospitals NHS Trust")

    # Open book: a partner organisation in the same system is visible.
    page.get_by_role("link", name="System One").click()
    page.get_by_role("link", name="Beta Community NHS Trust").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Beta Community NHS Trust")

    # Another system's organisation does not exist, as far as this person can tell.
    response = page.goto("/organisations/ZX1/")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    assert page.console_errors == [
        "Failed to load resource: the server responded with a status of 404 (Not Found)"
    ]
    page.console_errors.clear()

    # A personal API token, shown once.
    page.goto("/account/tokens/")
    page.get_by_label("Token name").fill("Upload script")
    page.get_by_label("30 days").check()
    page.get_by_role("button", name="Make token").click()
    expect(page.locator("#new-token")).to_have_text(re.compile(r"^obk_\w+"))

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You have signed out")
    assert page.console_errors == []


def test_wrong_password_is_explained_and_the_skip_link_works(page, live_server):
    build_world()
    sign_in(page, "member@example.nhs.uk", "not the password")
    expect(page.get_by_role("alert")).to_contain_text("is not right")
    # The error summary takes focus, so a screen reader announces it first.
    expect(page.locator(".nhsuk-error-summary")).to_be_focused()
    page.goto("/login/")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
    # The NHS.UK frontend script ran (it marks the page as scripted).
    assert "js-enabled" in page.locator("body").get_attribute("class")
    assert page.console_errors == []
