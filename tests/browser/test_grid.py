"""The plan grid behaves like a spreadsheet, in Chromium: arrows and Enter move without a page
load; a block pasted from a tab-separated clipboard lands cell by cell, all or nothing; undo
takes a paste back; figures read as finance teams read them; the print view holds the year."""

import re

import pytest
from django.conf import settings
from playwright.sync_api import expect

from demo.people import seed_demo
from demo.plans import seed_plans
from plans.models import Value
from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
GRID = "/rounds/2026-27/ZB1/sections/finance/"
ROWS = ["INCSPEC", "INCOOS", "INCPRIV"]  # three input lines, one under another
MONTHS = [2, 3, 4, 5]  # May to August


def stored(line: str, month: int):
    value = Value.objects.filter(
        version__submission__organisation__ods_code="ZB1",
        version__number=0,
        line__code=line,
        month=month,
    ).first()
    return None if value is None else value.value


def cell(page, line: str, month: int):
    return page.locator(f"input[name='v:{line}::{month}']")


def paste(page, text: str) -> None:
    """A real paste: the text on the system clipboard, then Ctrl+V in the focused cell."""
    page.evaluate("text => navigator.clipboard.writeText(text)", text)
    page.keyboard.press("Control+V")


@pytest.fixture
def grid(browser, live_requests):
    live_server = live_requests
    # The demo's people and plans (its money is not on the grid): seeded again for each test,
    # as the live server's tests empty the tables after each.
    seed_demo()
    seed_plans()
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, "borchester.preparer@openbook.invalid", settings.DEMO_PASSWORD)
    page.goto(GRID)
    expect(page.locator("#grid-tools")).to_be_visible()
    # A page load would wipe this; keys and saves must leave it in place.
    page.evaluate("window.stillHere = true")
    yield page
    assert errors == []
    context.close()


def test_arrows_and_enter_move_between_cells_without_a_page_load(grid):
    page = grid
    cell(page, "INCSPEC", 1).click()
    page.keyboard.press("ArrowRight")
    expect(cell(page, "INCSPEC", 2)).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(cell(page, "INCOOS", 2)).to_be_focused()
    page.keyboard.press("ArrowLeft")
    expect(cell(page, "INCOOS", 1)).to_be_focused()
    page.keyboard.press("ArrowUp")
    expect(cell(page, "INCSPEC", 1)).to_be_focused()
    # Typing replaces the figure; Enter saves it and moves down, Shift+Enter back up.
    page.keyboard.type("4321")
    page.keyboard.press("Enter")
    expect(cell(page, "INCOOS", 1)).to_be_focused()
    expect(page.locator("#grid-status")).to_have_text("Saved 1 figure.")
    assert stored("INCSPEC", 1) == 4321
    expect(cell(page, "INCSPEC", 1)).to_have_value("4,321")
    page.keyboard.press("Shift+Enter")
    expect(cell(page, "INCSPEC", 1)).to_be_focused()
    assert page.evaluate("window.stillHere") is True


def test_a_pasted_block_lands_in_twelve_cells_and_undo_takes_it_back(grid):
    page = grid
    before = {(line, m): stored(line, m) for line in ROWS for m in MONTHS}
    block = [[str(100 * r + m) for m in MONTHS] for r in range(1, 4)]
    cell(page, "INCSPEC", 2).click()
    paste(page, "\r\n".join("\t".join(row) for row in block) + "\r\n")
    expect(page.locator("#grid-status")).to_have_text("Pasted 12 figures.")
    for r, line in enumerate(ROWS):
        for c, m in enumerate(MONTHS):
            assert stored(line, m) == int(block[r][c]), (line, m)
            expect(cell(page, line, m)).to_have_value(block[r][c])
    # Undo takes the whole paste back as one step.
    page.get_by_role("button", name="Undo").click()
    expect(page.locator("#grid-status")).to_have_text("Undone: 12 figures.")
    for (line, m), value in before.items():
        assert stored(line, m) == value, (line, m)
    expect(cell(page, "INCOOS", 3)).to_have_value(
        f"{before[('INCOOS', 3)]:,f}".rstrip("0").rstrip(".")
    )
    assert page.evaluate("window.stillHere") is True


def test_one_bad_cell_in_a_pasted_block_stores_nothing_and_says_why(grid):
    page = grid
    before = {(line, m): stored(line, m) for line in ROWS for m in MONTHS}
    sends: list[str] = []
    page.on("request", lambda r: r.method == "POST" and sends.append(r.url))
    block = [["1", "2", "3", "4"], ["5", "six", "7", "8"], ["9", "10", "11", "12"]]
    cell(page, "INCSPEC", 2).click()
    paste(page, "\n".join("\t".join(row) for row in block))
    status = page.locator("#grid-status")
    expect(status).to_contain_text("Nothing was saved: 1 cell could not be accepted.")
    expect(status).to_contain_text("INCOOS, Jun: “six” is not a number")
    assert {(line, m): stored(line, m) for line in ROWS for m in MONTHS} == before
    bad = cell(page, "INCOOS", 3)
    expect(bad).to_have_attribute("aria-invalid", "true")
    expect(bad).to_have_value("six")
    expect(page.locator("#err-cell-INCOOS-x-3")).to_contain_text("is not a number")
    # Put right, the cell goes again with the rest of its block: all twelve, as one change.
    # Leaving a refused cell unchanged (the paste's first) does not send the block again.
    bad.click()
    page.keyboard.type("6")
    page.keyboard.press("Tab")
    expect(status).to_have_text("Pasted 12 figures.")
    block[1][1] = "6"
    for r, line in enumerate(ROWS):
        for c, m in enumerate(MONTHS):
            assert stored(line, m) == int(block[r][c]), (line, m)
    # A block that does not fit says so and stores nothing.
    cell(page, "INCSPEC", 11).click()
    paste(page, "1\t2\t3")
    expect(status).to_contain_text("Nothing was pasted: the block is 1 row by 3 columns")
    # Two saves in all: the refused paste and the block put right; the cells the answer put
    # in place (the focused one among them) did not send themselves again.
    assert len(sends) == 2, sends


def test_fill_right_and_spread_a_year_total(grid):
    page = grid
    cell(page, "INCOOS", 3).click()
    page.keyboard.type("250")
    page.get_by_role("button", name="Fill right").click()
    expect(page.locator("#grid-status")).to_contain_text("Filled")
    assert [stored("INCOOS", m) for m in range(3, 13)] == [250] * 10
    cell(page, "INCSPEC", 1).click()
    page.get_by_role("button", name="Spread a year total").click()
    page.get_by_label("Total for the year").fill("1,200")
    page.get_by_role("button", name="Spread", exact=True).click()
    expect(page.locator("#grid-status")).to_contain_text("Spread 12 figures.")
    assert [stored("INCSPEC", m) for m in range(1, 13)] == [100] * 12
    expect(page.locator("#total-INCSPEC-x")).to_have_text("1,200")


def test_negative_figures_show_in_brackets_with_separators(grid):
    page = grid
    cell(page, "NPCLIN", 1).click()
    page.keyboard.type("250000")
    page.keyboard.press("Enter")
    expect(page.locator("#grid-status")).to_have_text("Saved 1 figure.")
    surplus = page.locator("#derived-SURPLUS-1")
    expect(surplus).to_have_text(re.compile(r"^\(\d{1,3}(,\d{3})+\)$"))
    expect(page.locator("#plan-surplus")).to_have_text(re.compile(r"^\(\d{1,3}(,\d{3})+\)$"))


def test_the_print_view_holds_every_month_and_the_year(grid):
    page = grid
    # An A4 landscape page less its margins is 277 mm: 1,047 CSS pixels.
    page.set_viewport_size({"width": 1047, "height": 740})
    page.emulate_media(media="print")
    table = page.locator("#grid")
    box = table.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 1047, box
    headers = page.locator("#grid thead th")
    expect(headers).to_have_text(
        [
            "Line, £000",
            "Apr",
            "May",
            "Jun",
            "Jul",
            "Aug",
            "Sep",
            "Oct",
            "Nov",
            "Dec",
            "Jan",
            "Feb",
            "Mar",
            "Year",
        ]  # fmt: skip
    )
    for name in ("Mar", "Year"):
        header = page.locator("#grid thead th", has_text=re.compile(f"^{name}$"))
        right = header.bounding_box()
        assert right["x"] + right["width"] <= 1047, (name, right)
    expect(page.locator("#grid-tools")).to_be_hidden()
    expect(page.locator(".nhsuk-header")).to_be_hidden()
