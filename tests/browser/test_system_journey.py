"""The system lead opens the collated plan, finds a mismatch and returns a submission with a
reason; the regional reviewer compares the region's systems and approves a system plan."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from demo.synthetic import plan_cells
from plans.models import PlanningRound, Submission
from tests.browser.conftest import sign_in
from tests.conftest import build_world
from tests.plans.conftest import make_round, submit_plan

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _submit(world, organisation, approver=None, scale=None):
    cells = plan_cells(PlanningRound.objects.get(), organisation)
    if scale:  # the ICB plans far more with Alpha than Alpha expects: a mismatch
        cells = [
            c
            if c.line != "F510" or c.counterparty != "ZA1"
            else type(c)(
                c.line,
                c.month,
                (Decimal(c.value) * scale).quantize(Decimal("0.001")),
                c.counterparty,
            )
            for c in cells
        ]
    submit_plan(organisation, cells, approver)


def test_lead_returns_a_mismatched_plan_and_the_region_approves(page, live_server):
    world = build_world()
    make_round()
    _submit(world, world.org_a, approver=world.people["approver"])
    _submit(world, world.org_b)
    _submit(world, world.commissioner, scale=Decimal("1.5"))

    # The lead opens the system plan and the agreement of balances.
    sign_in(page, "lead@example.nhs.uk")
    page.goto("/rounds/2026-27/systems/s1/")
    expect(page.get_by_role("heading", level=1)).to_have_text("System One: system plan")
    expect(page.locator("#bridge-chart")).to_be_visible()
    page.get_by_role("link", name="Agreement of balances").click()
    mismatch = page.locator("tr.ob-row--flagged", has_text="Income and expenditure").first
    expect(mismatch).to_contain_text("Alpha Hospitals NHS Trust")
    expect(mismatch).to_contain_text("Mismatch")

    # On Alpha's plan the lead sees the mismatch before deciding; accepting asks for a note.
    mismatch.get_by_role("link", name="Alpha Hospitals NHS Trust").click()
    evidence = page.locator("#evidence")
    expect(evidence).to_contain_text("Surplus / (deficit) for the year, £000")
    expect(evidence.locator("table", has_text="mismatch")).to_contain_text("Income and expenditure")
    expect(evidence).to_contain_text("NHS One ICB")
    page.get_by_role("link", name="Accept the plan").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Accept the plan")
    expect(page.locator(".nhsuk-warning-callout")).to_contain_text("agreement-of-balances mismatch")
    page.get_by_role("button", name="Accept the plan with these").click()
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_contain_text("Say why you are going ahead with")
    expect(summary).to_contain_text("Confirm you have read")
    summary.get_by_role("link").first.click()
    expect(page.get_by_label("Why are you accepting the plan with these?")).to_be_focused()
    assert Submission.objects.get(organisation=world.org_a).status == "submitted"

    # ...and returns Alpha's plan with a reason instead.
    page.get_by_role("link", name="Return the plan instead").click()
    page.get_by_label("Why is the plan being returned?").fill(
        "Income from the ICB is £ millions apart from the ICB's plan."
    )
    page.get_by_role("button", name="Return the plan").click()
    expect(page.get_by_role("status")).to_contain_text("has been returned")
    expect(page.locator("#comments ~ .ob-comment").first).to_contain_text("millions apart")

    # The lead sends the system plan to the region.
    page.goto("/rounds/2026-27/systems/s1/")
    page.get_by_role("link", name="Submit the system plan to the region").click()
    page.get_by_label("Narrative for the region").fill(
        "Balanced overall; one mismatch being resolved."
    )
    page.get_by_role("button", name="Submit to the region").click()
    expect(page.get_by_role("status")).to_contain_text("sent to the region")
    page.get_by_role("button", name="Sign out").click()

    # The regional reviewer compares the region's systems and approves System One's plan.
    sign_in(page, "reviewer@example.nhs.uk")
    page.goto("/")
    expect(page.locator("main")).to_contain_text("System One: system plan waiting for your review")
    page.goto("/rounds/2026-27/regions/r1/")
    table = page.locator("#region-systems")
    expect(table).to_contain_text("System One")
    expect(table).to_contain_text("System Two")
    expect(table.locator("tr", has_text="System One")).to_contain_text("Awaiting review")
    table.get_by_role("link", name="System One").click()
    # The reviewer reads what was sent: the frozen figures and the whole narrative.
    page.get_by_role("link", name="Review version 1").click()
    expect(page.locator("#narrative")).to_contain_text("one mismatch being resolved")
    expect(page.locator("#unchanged")).to_be_visible()
    expect(page.locator("#evidence")).to_contain_text("System surplus / (deficit) for the year")
    expect(page.locator("#evidence")).to_contain_text("first version sent")
    page.get_by_role("link", name="Approve the system plan").click()
    page.get_by_role("button", name="Approve the system plan").click()
    expect(page.get_by_role("status")).to_contain_text("approved")
    page.goto("/rounds/2026-27/regions/r1/")
    expect(page.locator("#region-systems tr", has_text="System One")).to_contain_text("Approved")
    # The refused accept answered 422, as a refused form does.
    assert [e for e in page.console_errors if "404" not in e and "422" not in e] == []
