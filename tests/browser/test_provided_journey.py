"""The round's owner provides last year's outturn from a CSV file; the preparer sees it green
and fixed in the bridge grid, fills in a step, and the plan page draws the bridge."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.conftest import build_world
from tests.plans.conftest import make_round

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_provided_outturn_and_the_bridge(page, live_server, tmp_path):
    from plans.services import CURRENT_TEMPLATE, template_load

    build_world()
    version, _ = template_load(path=CURRENT_TEMPLATE)
    make_round(template_version=version)

    sign_in(page, "admin@example.nhs.uk")
    page.goto("/rounds/2026-27/")
    page.get_by_role("link", name="Provided figures").click()
    path = tmp_path / "outturn.csv"
    path.write_text("organisation,line,month,value\n"
                    + "".join(f"ZA1,LYFOT,{m},-500\n" for m in range(1, 13)))  # fmt: skip
    page.get_by_label("CSV file of figures").set_input_files(str(path))
    page.get_by_role("button", name="Provide the figures").click()
    expect(page.get_by_text("12 figures given or changed for 1 organisations")).to_be_visible()
    expect(page.locator("#provided-summary")).to_contain_text("(6,000)")
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, "member@example.nhs.uk")
    page.goto("/rounds/2026-27/ZA1/")
    page.get_by_role("button", name="Start the plan").click()
    page.get_by_role("link", name="Bridge from last year", exact=True).click()
    row = page.locator("tr.ob-row--provided")
    expect(row).to_contain_text("Last year's forecast outturn")
    expect(row).to_contain_text("provided")
    expect(
        page.get_by_role("textbox", name="Last year's forecast outturn: surplus / (deficit) Apr")
    ).to_have_count(0)  # noqa: E501
    inflation = page.get_by_role(
        "textbox", name="Inflation: cost pressures net of the price uplift Apr"
    )  # noqa: E501
    inflation.fill("-120")
    inflation.press("Tab")
    expect(page.locator("#total-BRINF-x")).to_have_text("(120)")

    page.goto("/rounds/2026-27/ZA1/")
    table = page.locator("#bridge-table")
    expect(table).to_contain_text("Last year's forecast outturn: surplus / (deficit)")
    expect(table).to_contain_text("(6,000)")
    expect(table).to_contain_text("(120)")
    # The chart is drawn (Chart.js sizes its canvas when it draws).
    expect(page.locator("#bridge-chart")).to_have_attribute("style", re.compile("width"),
                                                            timeout=30000)  # fmt: skip
    assert page.console_errors == []
