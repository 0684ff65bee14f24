"""An administrator moves a live round to version 3 of its template; the preparer reads on
the plan page what it did to the draft, and follows a link to the new schemes."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.conftest import build_world
from tests.plans.conftest import make_round

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_administrator_revises_the_template_and_the_preparer_is_told(page, live_server):
    from accounts.models import Organisation, User
    from plans.cells import CellInput
    from plans.services import (
        BUILTIN_TEMPLATES,
        CURRENT_TEMPLATE,
        draft_save,
        submission_start,
        template_load,
    )  # fmt: skip

    build_world()
    v2, _ = template_load(path=BUILTIN_TEMPLATES[1])
    v3, _ = template_load(path=CURRENT_TEMPLATE)
    plan_round = make_round(template_version=v2)
    member = User.objects.get(email="member@example.nhs.uk")
    submission = submission_start(actor=member, plan_round=plan_round,
                                  organisation=Organisation.objects.get(ods_code="ZA1"))  # fmt: skip
    draft_save(actor=member, submission=submission,
               cells=[CellInput("EFRP", m, "50") for m in range(1, 13)]
               + [CellInput("PAYRNUS", 1, "1200")])  # fmt: skip

    sign_in(page, "admin@example.nhs.uk")
    page.goto("/rounds/2026-27/")
    page.get_by_role("link", name="Revise the template").click()
    page.get_by_role("button", name="Revise the template now").click()
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_contain_text("Choose the version to move the round to.")
    page.get_by_label("Move the round to").select_option(str(v3.pk))
    page.get_by_label("Why the template changes").fill(
        "Efficiency schemes are now listed one by one."
    )
    page.get_by_role("button", name="Revise the template now").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Operational plan v2 → Operational plan v3"
    )
    expect(page.locator("#migrations")).to_contain_text("Working drafts moved")
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, "member@example.nhs.uk")
    page.goto("/rounds/2026-27/ZA1/")
    notice = page.locator("#template-revision")
    expect(notice).to_contain_text("Efficiency schemes are now listed one by one.")
    expect(notice).to_contain_text("1 figure carried over")
    expect(notice).to_contain_text("EFRP Recurrent efficiency – pay: £600k for the year")
    page.get_by_role("link", name="Efficiency schemes", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Efficiency schemes")
    # The refused first try answered 422, which the browser logs; nothing else went wrong.
    assert [e for e in page.console_errors if "422" not in e] == []
