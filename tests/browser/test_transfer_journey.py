"""A lead proposes a transfer, both approvers agree, and the dashboard updates once the real
Celery worker has recalculated."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from accounts.models import Role
from accounts.services import membership_create
from payments.services.control_totals import control_total_set
from tests.browser.conftest import sign_in
from tests.conftest import build_world
from tests.factories import UserFactory
from tests.plans.conftest import make_round

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_transfer_agreed_and_dashboard_updates(page, live_server, celery_worker_process):
    world = build_world()
    plan_round = make_round()
    approver_b = UserFactory(
        email="approver-b@example.nhs.uk", password="correct horse battery staple"
    )
    membership_create(actor=None, user=approver_b, role=Role.ORG_APPROVER, organisation=world.org_b)
    for organisation, amount in (
        (world.org_a, Decimal(2)),
        (world.org_b, Decimal(-10)),
        (world.commissioner, Decimal(0)),
    ):
        control_total_set(
            actor=None, plan_round=plan_round, organisation=organisation, amount=amount
        )

    sign_in(page, "lead@example.nhs.uk")
    page.goto("/rounds/2026-27/systems/s1/control-totals/")
    # The worker has worked out the system control total from the control totals set above.
    expect(page.locator("#result-sct")).to_have_text("(8)", timeout=20000)
    page.get_by_label("Organisation 1").select_option("ZA1")
    page.get_by_label("Amount 1").fill("2")
    page.get_by_label("Organisation 2").select_option("ZA2")
    page.get_by_label("Amount 2").fill("-2")
    page.get_by_label("Why").fill("Stroke service moves to Beta")
    page.get_by_role("button", name="Propose the transfer").click()
    expect(page.get_by_role("status")).to_contain_text("Transfer proposed")
    page.get_by_role("button", name="Sign out").click()

    # Each approver sees their own control total before and after, then agrees.
    for email, name, now, after in (
        ("approver@example.nhs.uk", "Alpha Hospitals NHS Trust", "2", "4"),
        ("approver-b@example.nhs.uk", "Beta Community NHS Trust", "(10)", "(12)"),
    ):
        sign_in(page, email)
        page.goto("/rounds/2026-27/systems/s1/control-totals/")
        effect = page.locator(".ob-effects tr", has_text=name)
        expect(effect.locator("td")).to_have_text([now, after])
        page.get_by_role("button", name="Agree").click()
        expect(page.get_by_role("status")).to_contain_text("Your agreement is recorded")
        page.get_by_role("button", name="Sign out").click()

    sign_in(page, "lead@example.nhs.uk")
    page.goto("/rounds/2026-27/systems/s1/control-totals/")
    expect(page.locator(".nhsuk-card").first).to_contain_text("Agreed and applied")
    positions = page.locator("#positions")
    # After the worker runs: Alpha's control total is now 4, Beta's −12; the SCT is still −8.
    expect(positions.locator("tr", has_text="ZA1").locator("td").nth(1)).to_have_text(
        "4", timeout=20000
    )
    expect(positions.locator("tr", has_text="ZA2").locator("td").nth(1)).to_have_text(
        "(12)", timeout=20000
    )
    expect(page.locator("#result-sct")).to_have_text("(8)")
