"""A platform administrator brings people on board from a file, by keyboard alone: from home
to the import page, a file with mistakes (each listed by row and column, nothing stored),
then the corrected file, its preview, and the import; the worker e-mails the invitations.
Each page passes axe at 1280 px. Set OPENBOOK_SCREENSHOTS to a directory to keep pictures
of them."""

import os
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from accounts.models import Invitation, Membership
from tests.browser.conftest import sign_in
from tests.browser.test_pages import AXE
from tests.conftest import build_world

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

BAD = (
    "Email,Name,Organisation code,Role\r\n"
    "ann.new@example.nhs.uk,Ann New,ZA1,Preparer\r\n"
    "ben.new@example,Ben New,ZA1,Approver\r\n"
    "cat.new@example.nhs.uk,,ZA2,Preparer\r\n"
    "dee.new@example.nhs.uk,Dee New,ZA1,System lead\r\n"
    "eve.new@example.nhs.uk,Eve New,s9,Lead\r\n"
)
GOOD = (
    "Email,Name,Organisation code,Role\r\n"
    "ann.new@example.nhs.uk,Ann New,ZA1,Preparer\r\n"
    "ben.new@example.nhs.uk,Ben New,ZA1,Approver\r\n"
    "cat.new@example.nhs.uk,Cat New,ZA2,Preparer\r\n"
    "dee.new@example.nhs.uk,Dee New,s1,System lead\r\n"
    "member@example.nhs.uk,Member,ZA2,Organisation viewer\r\n"
    "viewer@example.nhs.uk,Viewer,ZA1,Organisation viewer\r\n"
)


def _shoot(page, tmp_path, name: str) -> None:
    where = Path(os.environ.get("OPENBOOK_SCREENSHOTS") or tmp_path)
    where.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(where / f"{name}.png"), full_page=True)


def _axe(page) -> list[str]:
    page.evaluate(AXE.read_text())
    return page.evaluate(
        """async () => (await axe.run(document, {
            runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
        })).violations.map(v => v.id + ": " + v.nodes.map(n => n.target.join(" ")).join(", "))"""
    )


def _tab_to(page, selector: str, limit: int = 60) -> int:
    """Press Tab until the element is focused; how many presses it took."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if page.evaluate(f"document.activeElement.matches({selector!r})"):
            return presses
    raise AssertionError(f"{selector} is not reached by Tab")


def test_an_administrator_imports_people_by_keyboard(page, tmp_path, worker_outbox):
    build_world()
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, "admin@example.nhs.uk")
    page.goto("/")
    _tab_to(page, 'a[href="/people/import/"]')
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Import people")
    assert _axe(page) == []
    _shoot(page, tmp_path, "1-upload")

    bad, good = tmp_path / "people-bad.csv", tmp_path / "people.csv"
    bad.write_bytes(b"\xef\xbb\xbf" + BAD.encode())  # as Excel's "CSV UTF-8" saves it
    good.write_bytes(b"\xef\xbb\xbf" + GOOD.encode())

    _tab_to(page, "#people-file")
    page.set_input_files("#people-file", str(bad))  # the file chooser is the system's own
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Check the file"
    page.keyboard.press("Enter")
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_contain_text("4 of the 5 rows have problems, so nobody was imported")
    expect(summary).to_be_focused()  # read out first
    rows = page.locator("#import-problems tbody tr")
    expect(rows).to_have_count(4)
    expect(rows.nth(0)).to_contain_text("3")
    expect(rows.nth(0)).to_contain_text("Email")
    expect(rows.nth(2)).to_contain_text("is an organisation's ODS code, and System lead")
    expect(rows.nth(3)).to_contain_text("is not a system's code in Openbook")
    assert not Invitation.objects.exists()
    assert _axe(page) == []
    _shoot(page, tmp_path, "2-problems")

    # The summary's link takes the keyboard to the file input.
    _tab_to(page, ".nhsuk-error-summary a")
    page.keyboard.press("Enter")
    expect(page.locator("#people-file")).to_be_focused()
    page.set_input_files("#people-file", str(good))
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Check before importing")
    expect(page.locator("#import-summary dd")).to_have_text(["4", "1", "1"])
    assert _axe(page) == []
    _shoot(page, tmp_path, "3-preview")

    _tab_to(page, "form button.nhsuk-button")
    assert "Import: 4 invitations and 1 role" in page.evaluate("document.activeElement.textContent")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status").first).to_contain_text("4 people invited")
    _shoot(page, tmp_path, "4-done")
    assert Invitation.objects.count() == 4
    assert Membership.objects.filter(user__email="member@example.nhs.uk").count() == 2

    deadline = time.monotonic() + 60
    while len(worker_outbox()) < 4:
        assert time.monotonic() < deadline, "the worker did not e-mail the 4 invitations"
        time.sleep(0.2)
    assert sorted(m["To"] for m in worker_outbox()) == [
        "ann.new@example.nhs.uk", "ben.new@example.nhs.uk", "cat.new@example.nhs.uk",
        "dee.new@example.nhs.uk",
    ]  # fmt: skip
