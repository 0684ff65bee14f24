"""A lead drafts a pool agreement and previews the what-if, both partners sign, the lead
enters and proposes a settlement (worked out by the real worker), one partner disputes, the
regional reviewer decides, and the timeline shows every step on a verified chain."""

import pytest
from playwright.sync_api import expect

from accounts.models import Role
from accounts.services import membership_create
from tests.browser.conftest import sign_in
from tests.conftest import build_world
from tests.factories import UserFactory
from tests.plans.conftest import make_round

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def sign_out(page):
    page.get_by_role("button", name="Sign out").click()


def test_pool_agreed_settled_disputed_and_decided(page, live_server, celery_worker_process):
    world = build_world()
    make_round()
    approver_b = UserFactory(
        email="approver-b@example.nhs.uk", password="correct horse battery staple"
    )
    membership_create(actor=None, user=approver_b, role=Role.ORG_APPROVER, organisation=world.org_b)

    # The lead drafts a pool between Alpha and Beta and looks at the what-if.
    sign_in(page, "lead@example.nhs.uk")
    page.goto("/rounds/2026-27/systems/s1/agreements/")
    page.get_by_role("link", name="Draft an agreement").click()
    page.get_by_label("Name").fill("Community beds risk pool")
    page.get_by_label("Alpha Hospitals NHS Trust (ZA1)").check()
    page.get_by_label("Beta Community NHS Trust (ZA2)").check()
    page.get_by_label("Add a mechanism").select_option("risk_pool")
    page.get_by_role("button", name="Add", exact=True).click()
    page.get_by_label("Pool budget").fill("2,000,000")
    page.get_by_label("Shares: ZA1").fill("70")
    page.get_by_label("Shares: ZA2").fill("40")
    page.get_by_role("button", name="Save the agreement").click()
    expect(page.locator("#agreement-problems")).to_contain_text("must add up to 100%")
    # The form came back as 422 (the browser logs the status); nothing else may go wrong.
    assert page.console_errors == [
        "Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)"
    ]
    page.console_errors.clear()
    page.get_by_label("Shares: ZA2").fill("30")
    page.get_by_role("button", name="Save the agreement").click()
    expect(page.get_by_role("status")).to_contain_text("Agreement drafted")
    # Spend 10% over the £2,000,000 budget: a loss of £200,000, £140,000 for Alpha and
    # £60,000 for Beta, in pounds and pence.
    what_if = page.locator("#what-if")
    expect(what_if.locator("tr", has_text="+10%")).to_contain_text("(140,000.00)")
    expect(page.locator(".nhsuk-summary-list__value", has_text="£2,000,000.00")).to_be_visible()
    expect(page.locator("#whatif-chart")).to_be_visible()
    sign_out(page)

    for email, name in (("approver@example.nhs.uk", "Alpha Hospitals NHS Trust"),
                        ("approver-b@example.nhs.uk", "Beta Community NHS Trust")):  # fmt: skip
        sign_in(page, email)
        page.goto("/rounds/2026-27/systems/s1/agreements/")
        page.get_by_role("link", name="Community beds risk pool").click()
        # Sign sits below the terms and the what-if, and states this partner's exposure.
        sign = page.locator("#sign ~ form.ob-decision").first
        expect(sign).to_contain_text(f"{name} at 10% below plan, £")
        assert page.locator("#what-if").bounding_box()["y"] < sign.bounding_box()["y"]
        page.get_by_role("button", name=f"Sign version 1 for {name}").click()
        summary = page.locator(".nhsuk-error-summary")
        expect(summary).to_contain_text("Confirm you have read the terms")
        assert page.console_errors == [  # the refused signature came back as 422
            "Failed to load resource: the server responded with a status of 422 "
            "(Unprocessable Entity)"
        ]
        page.console_errors.clear()
        summary.get_by_role("link").click()
        expect(page.get_by_label(f"I sign version 1 for {name}", exact=False)).to_be_focused()
        page.get_by_label(f"I sign version 1 for {name}", exact=False).check()
        page.get_by_role("button", name=f"Sign version 1 for {name}").click()
        expect(page.get_by_role("status")).to_contain_text(f"Signed for {name}")
        sign_out(page)

    # The lead enters the year's spend; the worker works the settlement out.
    sign_in(page, "lead@example.nhs.uk")
    page.goto("/rounds/2026-27/systems/s1/agreements/")
    page.get_by_role("link", name="Community beds risk pool").click()
    expect(page.locator("#agreement-status")).to_contain_text("Agreed by every partner")
    page.get_by_label("Period").select_option("year")
    page.get_by_label("1. Risk/reward pool: actual spend in the quarter or year chosen, £").fill(
        "2300000.00"
    )
    page.get_by_role("button", name="Work out the settlement").click()
    flows = page.locator("#settlement-flows")
    expect(flows.locator("tr", has_text="ZA1")).to_contain_text("(210,000.00)", timeout=20000)
    page.get_by_role("button", name="Propose to the partners").click()
    expect(page.locator("#settlement-status")).to_contain_text("Proposed")
    settlement_url = page.url
    sign_out(page)

    sign_in(page, "approver-b@example.nhs.uk")
    page.goto(settlement_url)
    page.get_by_label("Reason (needed to dispute)").fill("Winter beds were funded separately")
    page.get_by_role("button", name="Dispute").click()
    expect(page.locator("#settlement-status")).to_contain_text("Disputed")
    sign_out(page)

    sign_in(page, "reviewer@example.nhs.uk")
    page.goto(settlement_url)
    page.get_by_label("Reason").fill("The winter beds were inside the pool's scope")
    page.get_by_role("button", name="Uphold the settlement").click()
    expect(page.locator("#settlement-status")).to_contain_text("Decided by the region")

    page.goto("/systems/s1/audit/")
    expect(page.locator("#chain-status")).to_contain_text("Verified")
    timeline = page.locator("#timeline")
    for step in ("Agreement drafted", "Agreement signed", "Agreement agreed by every partner",
                 "Settlement entered", "Settlement proposed", "Settlement disputed",
                 "Dispute escalated to the region", "Settlement decided by the region"):  # fmt: skip
        expect(timeline).to_contain_text(step)
    page.get_by_label("Kind").select_option("settlement")
    page.get_by_role("button", name="Filter").click()
    expect(timeline).not_to_contain_text("Agreement signed")
    assert page.console_errors == []
