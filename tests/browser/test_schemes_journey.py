"""A preparer lists efficiency schemes in the browser, with the keyboard: a mistake is named
and linked, the fix is saved, and the efficiency lines follow the schemes."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.conftest import build_world
from tests.plans.conftest import make_round

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_preparer_lists_schemes_and_the_efficiency_lines_follow(page, live_server):
    from plans.services import CURRENT_TEMPLATE, template_load

    build_world()
    version, _ = template_load(path=CURRENT_TEMPLATE)
    make_round(template_version=version)

    sign_in(page, "member@example.nhs.uk")
    page.goto("/rounds/2026-27/ZA1/")
    page.get_by_role("button", name="Start the plan").click()
    page.get_by_role("link", name="Efficiency schemes", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Efficiency schemes")

    # The name, then the choices, then the months, in order from the keyboard.
    name = page.get_by_role("textbox", name="Scheme Row 1")
    name.fill("Theatre utilisation")
    name.press("Tab")
    expect(page.get_by_role("combobox", name="Category Row 1")).to_be_focused()
    page.get_by_role("combobox", name="Category Row 1").select_option("Clinical productivity")
    page.get_by_role("combobox", name="Recurrence Row 1").select_option("Recurrent")
    page.get_by_role("combobox", name="Pay or non-pay Row 1").select_option("Pay")
    for month in ("Apr", "May", "Jun"):
        page.get_by_role("textbox", name=f"{month} Row 1").fill("1,250")
    page.get_by_role("button", name="Save efficiency schemes").click()

    # Nothing is saved; the summary has the focus and names the cell, which links to it.
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Row 1, Risk: choose Low, Medium or High")
    summary.get_by_role("link", name="Row 1, Risk: choose Low, Medium or High").click()
    risk = page.get_by_role("combobox", name="Risk Row 1")
    expect(risk).to_be_focused()
    expect(page.get_by_role("textbox", name="Scheme Row 1")).to_have_value("Theatre utilisation")
    risk.select_option("Medium")
    page.get_by_role("button", name="Save efficiency schemes").click()

    expect(page.get_by_text("Saved the efficiency schemes.")).to_be_visible()
    expect(page.locator("#table-feeds")).to_contain_text("Recurrent efficiency – pay, £000")
    expect(page.locator("#table-feeds")).to_contain_text("3,750")
    expect(page.locator("#by-risk")).to_contain_text("Medium")

    # The efficiency grid shows the schemes added up, read only, and links back.
    page.goto("/rounds/2026-27/ZA1/sections/efficiency/")
    expect(page.locator("#derived-EFRP-1")).to_have_text("1,250")
    expect(page.locator("#total-EFRP-x")).to_have_text("3,750")
    page.get_by_role("link", name="from the schemes").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Efficiency schemes")
    # The refused save answered 422, which the browser logs; nothing else went wrong.
    assert [e for e in page.console_errors if "422" not in e] == []
