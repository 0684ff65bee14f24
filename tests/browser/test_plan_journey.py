"""The organisation's journey: fill part of the grid in the browser, upload an Excel file with
an error and see the cell named, fix it, an approver submits; a partner sees the submitted
plan; an outsider from another system gets not-found."""

import io
import re

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.conftest import build_world
from tests.plans.conftest import make_round

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
FINANCE = "Finance – income & expenditure"


def sign_out(page):
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You have signed out")


def test_preparer_approver_partner_outsider(page, live_server, tmp_path):
    build_world()
    make_round()

    # The preparer starts the plan and fills a cell; the surplus follows without a reload.
    sign_in(page, "member@example.nhs.uk")
    page.goto("/rounds/2026-27/ZA1/")
    page.get_by_role("button", name="Start the plan").click()
    page.get_by_role("link", name=FINANCE, exact=True).click()
    cell = page.get_by_role("textbox", name="Other patient care income Apr")
    cell.fill("1,000")
    cell.press("Tab")
    expect(page.locator("#derived-F900-1")).to_have_text("1,000")
    # A value out of bounds is refused in place, with the reason.
    page.get_by_role("textbox", name="Other patient care income May").fill("-5")
    page.get_by_role("textbox", name="Other patient care income May").press("Tab")
    expect(page.locator("#err-cell-F110-x-2")).to_contain_text("must be zero or more")

    # Download the workbook, fill it in with one mistake, upload it.
    page.goto("/rounds/2026-27/ZA1/")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download as Excel").click()
    path = tmp_path / "plan.xlsx"
    download_info.value.save_as(path)
    wb = load_workbook(path)
    ws = wb[FINANCE]
    for row in range(5, ws.max_row + 1):
        if ws[f"A{row}"].value == "F100":
            for col in "EFGHIJKLMNOP":
                ws[f"{col}{row}"] = 2500
    ws["F6"] = "lots"
    wb["Narratives"]["C2"] = "We plan to break even."
    wb.save(path)
    page.get_by_role("link", name="Upload a completed file").click()
    page.get_by_label("Excel workbook (.xlsx) or CSV file").set_input_files(str(path))
    page.get_by_role("button", name="Upload").click()
    problems = page.locator("#upload-problems")
    expect(problems).to_contain_text(f"{FINANCE}!F6")
    expect(problems).to_contain_text("is not a number")

    # Fix it and upload again.
    wb = load_workbook(path)
    wb[FINANCE]["F6"] = 20
    buffer = io.BytesIO()
    wb.save(buffer)
    page.get_by_label("Excel workbook (.xlsx) or CSV file").set_input_files(
        {"name": "plan.xlsx", "mimeType": "application/octet-stream", "buffer": buffer.getvalue()}
    )
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("status")).to_contain_text("Uploaded:")
    sign_out(page)

    # The approver submits on the board's behalf.
    sign_in(page, "approver@example.nhs.uk")
    page.goto("/rounds/2026-27/ZA1/")
    page.get_by_role("link", name="Submit the plan").click()
    page.get_by_label("Day").fill("20")
    page.get_by_label("Month").fill("11")
    page.get_by_label("Year").fill("2026")
    page.get_by_label(re.compile("I confirm the board has approved")).check()
    page.get_by_role("button", name="Submit the plan").click()
    expect(page.get_by_role("status")).to_contain_text("Plan submitted as version 1.")
    sign_out(page)

    # A partner in the same system sees the submitted figures, read-only.
    sign_in(page, "partner@example.nhs.uk")
    page.goto("/rounds/2026-27/ZA1/sections/finance/")
    expect(page.get_by_text("Showing Version 1")).to_be_visible()
    expect(page.locator("#cell-F110-x-1")).to_have_text("1,000")
    assert page.locator("input[name^='v:']").count() == 0
    sign_out(page)

    # An outsider from another system: not found.
    sign_in(page, "outsider@example.nhs.uk")
    response = page.goto("/rounds/2026-27/ZA1/")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
