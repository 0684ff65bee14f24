"""An approver submits the quarter's finance return and, once the real Celery worker has
recalculated, sees the fund its organisation earned by quarter, with the workings."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from accounts.models import Role
from accounts.services import membership_create
from payments.services import fund as fund_services
from payments.services.control_totals import control_total_set
from tests.browser.conftest import sign_in
from tests.conftest import build_world
from tests.factories import UserFactory
from tests.payments.services.test_fund import submit_return
from tests.plans.conftest import make_round

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

D = Decimal


def test_approver_sees_fund_earned_by_quarter_with_workings(
    page, live_server, celery_worker_process
):
    world = build_world()
    plan_round = make_round()
    approver_b = UserFactory(
        email="approver-b@example.nhs.uk", password="correct horse battery staple"
    )
    membership_create(actor=None, user=approver_b, role=Role.ORG_APPROVER, organisation=world.org_b)
    control_total_set(actor=None, plan_round=plan_round, organisation=world.org_a, amount=D(2000))
    control_total_set(actor=None, plan_round=plan_round, organisation=world.org_b,
                      amount=D(-10000))  # fmt: skip
    fund = fund_services.fund_save(
        actor=None, plan_round=plan_round, name="Financial recovery fund",
        system_share=D("0.5"), phasing=[D("0.25")] * 4, taper="none", taper_zero_at=None,
    )  # fmt: skip
    fund_services.allocations_set(actor=None, fund=fund, system=world.s1,
                                  amounts={"ZA2": D(1000)})  # fmt: skip
    # Alpha has reported the quarter: 200 a month, against a control total of 2,000 a year.
    submit_return(world, world.org_a, 3, 200, world.people["approver"])
    # Beta's June return is drafted (−800 a month); its approver submits it in the browser.
    from plans.models import MonthlyReturn
    from plans.services.returns import return_lines, return_save, return_start

    draft = return_start(actor=approver_b, plan_round=plan_round, organisation=world.org_b,
                         month=3)  # fmt: skip
    cells = {(line.code, m): D(0) for line in return_lines(plan_round, "community").inputs
             for m in range(1, 13)}  # fmt: skip
    cells |= {("F2MEDS", m): D(800) for m in range(1, 13)}
    return_save(actor=approver_b, monthly_return=draft, cells=cells, expected_revision=0)

    sign_in(page, "approver-b@example.nhs.uk")
    page.goto("/rounds/2026-27/ZA2/returns/")
    page.get_by_role("link", name="Jun").click()
    expect(page.locator("#return-position")).to_contain_text("(2,400)")
    page.get_by_role("button", name="Submit the Jun return").click()
    expect(page.get_by_role("status")).to_contain_text("Submitted the Jun return as version 1")
    assert MonthlyReturn.objects.get(organisation=world.org_b).status == "submitted"

    page.goto("/rounds/2026-27/systems/s1/fund/")
    row = page.locator("#fund-ZA2")
    # The worker has run: Beta met its own (−2,400 against −2,500) and the system met its
    # (−1,800 against −2,000), so both halves of Q1's 250 are earned.
    expect(row.locator("td").last).to_have_text("250", timeout=20000)
    q1 = row.locator("details").first
    q1.locator("summary").click()
    expect(q1).to_contain_text("Year-to-date control total: (£10,000,000) × 3/12 = (£2,500,000)")
    expect(q1).to_contain_text("it met its own control total")
    expect(row.locator("details").nth(1)).to_contain_text("0")
    assert page.console_errors == []
