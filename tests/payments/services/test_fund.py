"""The fund end to end in one process: monthly returns and control totals in, the
recalculation's stored fund results (with workings) out; releases and their agreement."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from openbook.models import AuditEvent
from payments.models import SystemResult
from payments.services import fund as fund_services
from payments.services import recalculation
from payments.services.control_totals import control_total_set
from plans.services.returns import return_lines, return_save, return_start, return_submit

D = Decimal


def submit_return(world, organisation, month, surplus_per_month, approver):
    """A return whose surplus is the same every month: income, or pay when negative."""
    from plans.models import PlanningRound

    plan_round = PlanningRound.objects.get()
    monthly_return = return_start(actor=approver, plan_round=plan_round,
                                  organisation=organisation, month=month)  # fmt: skip
    lines = return_lines(plan_round, organisation.kind)
    cells = {(line.code, m): D(0) for line in lines.inputs for m in range(1, 13)}
    for m in range(1, 13):
        if surplus_per_month >= 0:
            cells[("F110", m)] = D(surplus_per_month)
        else:
            cells[("F2MEDS", m)] = D(-surplus_per_month)
    saved = return_save(actor=approver, monthly_return=monthly_return, cells=cells,
                        expected_revision=monthly_return.revision)  # fmt: skip
    return return_submit(actor=approver, monthly_return=saved, expected_revision=saved.revision)


@pytest.fixture
def fund(world, plan_round):
    from accounts.models import Membership

    control_total_set(actor=None, plan_round=plan_round, organisation=world.org_a, amount=D(2000))
    control_total_set(actor=None, plan_round=plan_round, organisation=world.org_b,
                      amount=D(-10000))  # fmt: skip
    fund = fund_services.fund_save(
        actor=world.people["admin"], plan_round=plan_round, name="Financial recovery fund",
        system_share=D("0.5"), phasing=[D("0.25")] * 4, taper="none", taper_zero_at=None,
    )  # fmt: skip
    fund_services.allocations_set(actor=world.people["reviewer"], fund=fund, system=world.s1,
                                  amounts={"ZA2": D(1000)})  # fmt: skip
    Membership.objects.filter(user=world.people["partner"]).update(role="org_approver")
    return fund


def _fund_result(world, plan_round):
    recalculation.recalculate(system_id=world.s1.pk, round_id=plan_round.pk, trigger="test")
    return SystemResult.objects.get(system=world.s1).data["fund"]


def test_returns_earn_the_fund_with_workings(world, plan_round, fund):
    # Alpha 200 a month (Q1 600 against 500); Beta −800 a month (−2,400 against −2,500).
    submit_return(world, world.org_a, 3, 200, world.people["approver"])
    submit_return(world, world.org_b, 3, -800, world.people["partner"])
    result = _fund_result(world, plan_round)
    (beta,) = result["organisations"]
    q1 = beta["quarters"][0]
    assert [D(q1["own_earned"]), D(q1["system_earned"]), D(beta["earned"])] == [125, 125, 250]
    # One representation: £000 to three places, whatever the figure.
    assert (q1["own_earned"], beta["earned"], q1["allocation"]) == ("125.000", "250.000", "250.000")
    assert result["system_quarters"][0]["shortfall"] == "0.000"
    assert beta["held_to_control_total"] is True
    assert "Year-to-date control total: (£10,000,000) × 3/12 = (£2,500,000)" in q1["workings"]
    system_q1 = result["system_quarters"][0]
    assert [D(system_q1[k]) for k in ("target", "actual", "shortfall")] == [-2000, -1800, 0]
    assert result["system_quarters"][1] == {
        "quarter": 2, "reported": False, "waiting_for": ["ZA1", "ZA2"],
        "target": None, "actual": None, "shortfall": None, "restated_actual": None,
    }  # fmt: skip
    assert q1["source"] == {"return_month": 3, "version": 1, "year_to_date": "-2400.000"}
    assert "Year to date at Jun: (£2,400,000), from the Jun return, version 1" in q1["workings"]
    positions = {
        o["ods_code"]: o for o in SystemResult.objects.get(system=world.s1).data["organisations"]
    }
    beta_to_date = positions["ZA2"]["year_to_date"]
    assert D(beta_to_date["variance"]) == 100
    assert "Control total to date: (£10,000,000) × 3/12 = (£2,500,000)" in beta_to_date["workings"]
    assert positions["ZA3"]["year_to_date"] is None  # the commissioner has made no return


def test_a_release_counts_once_the_region_agrees(world, plan_round, fund):
    # Beta misses its own (−900 a month: −2,700 against −2,500); the system meets
    # (Alpha 300 a month: 900 − 2,700 = −1,800 against −2,000).
    submit_return(world, world.org_a, 3, 300, world.people["approver"])
    submit_return(world, world.org_b, 3, -900, world.people["partner"])
    assert D(_fund_result(world, plan_round)["organisations"][0]["earned"]) == 0
    with pytest.raises(PermissionDenied):
        fund_services.release_propose(actor=world.people["approver"], fund=fund,
                                      organisation=world.org_b, quarter=1, reason="x")  # fmt: skip
    release = fund_services.release_propose(actor=world.people["lead"], fund=fund,
                                            organisation=world.org_b, quarter=1,
                                            reason="Norovirus closed two wards")  # fmt: skip
    with pytest.raises(ValidationError):
        fund_services.release_propose(actor=world.people["lead"], fund=fund,
                                      organisation=world.org_b, quarter=1, reason="again")  # fmt: skip
    assert D(_fund_result(world, plan_round)["organisations"][0]["earned"]) == 0  # not yet agreed
    with pytest.raises(PermissionDenied):
        fund_services.release_decide(actor=world.people["lead"], release=release, agreed=True)
    with pytest.raises(ValidationError):
        fund_services.release_decide(
            actor=world.people["reviewer"], release=release, agreed=False
        )  # fmt: skip  (a refusal needs a reason)
    fund_services.release_decide(actor=world.people["reviewer"], release=release, agreed=True)
    result = _fund_result(world, plan_round)
    assert D(result["organisations"][0]["quarters"][0]["system_earned"]) == 125
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"fund.rules_set", "fund.allocation_set", "fund.release_proposed",
            "fund.release_agreed"} <= actions  # fmt: skip


def test_the_system_may_tie_more_but_not_less(world, plan_round, fund):
    with pytest.raises(ValidationError):
        fund_services.system_share_choose(actor=world.people["lead"], fund=fund,
                                          system=world.s1, share=D("0.4"))  # fmt: skip
    fund_services.system_share_choose(actor=world.people["lead"], fund=fund, system=world.s1,
                                      share=D("0.75"))  # fmt: skip
    submit_return(world, world.org_a, 3, 200, world.people["approver"])
    submit_return(world, world.org_b, 3, -800, world.people["partner"])
    q1 = _fund_result(world, plan_round)["organisations"][0]["quarters"][0]
    assert (D(q1["own_part"]), D(q1["system_part"])) == (D("62.5"), D("187.5"))


def test_rules_are_checked_whole(world, plan_round, fund):
    with pytest.raises(ValidationError, match="adding up to 100%"):
        fund_services.fund_save(actor=world.people["admin"], plan_round=plan_round, name="F",
                                system_share=D("0.5"), phasing=[D("0.3")] * 4, taper="none",
                                taper_zero_at=None)  # fmt: skip
    with pytest.raises(PermissionDenied):
        fund_services.fund_save(actor=world.people["reviewer"], plan_round=plan_round, name="F",
                                system_share=D("0.5"), phasing=[D("0.25")] * 4, taper="none",
                                taper_zero_at=None)  # fmt: skip
    fund.refresh_from_db()
    assert fund.q1 == D("0.25")


def _page_after_recalculation(world, plan_round, client_for) -> str:
    recalculation.recalculate(system_id=world.s1.pk, round_id=plan_round.pk, trigger="test")
    page = client_for(world.people["partner"]).get(
        f"/rounds/{plan_round.slug}/systems/{world.s1.code}/fund/"
    )
    return page.content.decode()


def test_the_page_shows_each_quarter_with_its_workings(world, plan_round, fund, client_for):
    submit_return(world, world.org_a, 3, 200, world.people["approver"])
    submit_return(world, world.org_b, 3, -800, world.people["partner"])
    body = _page_after_recalculation(world, plan_round, client_for)
    assert "Financial recovery fund" in body
    assert "Year-to-date control total: (£10,000,000) × 3/12 = (£2,500,000)" in body
    assert 'id="fund-ZA2"' in body
    # Q2 is not in: each part says why it has nothing yet, naming whom the system waits for.
    assert "Own performance 0 of 125, its return not yet in" in body
    assert "tied to the system 0 of 125, waiting for ZA1, ZA2." in body
    # The commissioner, allocated but with no control total, has nothing to meet.
    fund_services.allocations_set(actor=world.people["reviewer"], fund=fund, system=world.s1,
                                  amounts={"ZA2": D(1000), "ZA3": D(400)})  # fmt: skip
    body = _page_after_recalculation(world, plan_round, client_for)
    assert "Own performance 0 of 50, as it has no control total to meet" in body


def test_shares_are_checked_as_they_will_be_stored(world, plan_round, fund):
    with pytest.raises(ValidationError, match="two decimal places"):
        fund_services.fund_save(actor=world.people["admin"], plan_round=plan_round, name="F",
                                system_share=D("0.5"),
                                phasing=[D("0.33333"), D("0.33333"), D("0.33334"), D(0)],
                                taper="none", taper_zero_at=None)  # fmt: skip


def test_a_system_never_ties_less_than_the_fund_even_when_the_fund_rises(world, plan_round,
                                                                         fund):  # fmt: skip
    fund_services.system_share_choose(actor=world.people["lead"], fund=fund, system=world.s1,
                                      share=D("0.6"))  # fmt: skip
    fund_services.fund_save(actor=world.people["admin"], plan_round=plan_round, name=fund.name,
                            system_share=D("0.75"), phasing=[D("0.25")] * 4, taper="none",
                            taper_zero_at=None)  # fmt: skip
    fund.refresh_from_db()
    assert fund_services.rules_for(fund, world.s1).system_share == D("0.75")


def test_an_agreed_release_stands(world, plan_round, fund):
    release = fund_services.release_propose(actor=world.people["lead"], fund=fund,
                                            organisation=world.org_b, quarter=2, reason="Flu")  # fmt: skip
    fund_services.release_decide(actor=world.people["reviewer"], release=release, agreed=True)
    with pytest.raises(ValidationError):
        fund_services.release_withdraw(actor=world.people["lead"], release=release)


def test_a_later_return_restating_a_quarter_shows_its_effect_and_changes_nothing(
    world, plan_round, fund
):
    """Worked example (rule 3). Beta's June return: −900 a month, so −2,700 at June against
    −2,500: 200 short, its own part (125) is not earned; the system (Alpha 600, so −2,100
    against −2,000) is 100 short, so nor is the tied part. Q1 is assessed at 0 on that
    return, and kept: a second version of the June return (−2,550) and then the September
    return (April to June at −800 a month: −2,400, at which Q1 would earn 250) each show as
    a restatement, with the effect and the return named. Q2 is assessed on September's."""
    from payments.models import QuarterAssessment

    submit_return(world, world.org_a, 3, 200, world.people["approver"])
    submit_return(world, world.org_b, 3, -900, world.people["partner"])
    (beta,) = _fund_result(world, plan_round)["organisations"]
    assert beta["quarters"][0]["earned"] == "0.000" and beta["quarters"][0]["restated"] is None
    assessed = QuarterAssessment.objects.get(organisation=world.org_b, quarter=1)
    assert (assessed.return_month, assessed.return_version, assessed.year_to_date) == (
        3,
        1,
        D("-2700"),
    )

    submit_return(world, world.org_b, 3, -850, world.people["partner"])  # June, version 2
    (beta,) = _fund_result(world, plan_round)["organisations"]
    q1 = beta["quarters"][0]
    assert q1["earned"] == "0.000" and q1["source"]["version"] == 1
    assert q1["restated"]["by"] == [{"organisation": "ZA2", "was": "-2700.000",
                                     "now": "-2550.000", "return": "the Jun return, version 2"}]  # fmt: skip
    assert q1["restated"]["effect"] == "0.000"  # still short of its own control total
    assert q1["workings"][-1].endswith("would earn £0, the same; the assessed figure stands.")

    submit_return(world, world.org_b, 6, -800, world.people["partner"])
    result = _fund_result(world, plan_round)
    (beta,) = result["organisations"]
    q1, q2 = beta["quarters"][:2]
    assert (q1["own_earned"], q1["system_earned"], q1["earned"]) == ("0.000", "0.000", "0.000")
    assert q1["source"] == {"return_month": 3, "version": 1, "year_to_date": "-2700.000"}
    assert q1["restated"]["earned"] == "250.000" and q1["restated"]["effect"] == "250.000"
    assert (
        "Year to date at Jun: (£2,700,000), from the Jun return, version 1, as first assessed"
        in q1["workings"]
    )
    assert q1["workings"][-1] == (
        "Restated by a later return: ZA2's year to date at Jun is now (£2,400,000) in the Sep "
        "return, version 1 (was (£2,700,000)). At the restated figures this quarter would earn "
        "£250,000, £250,000 more; the assessed figure stands."
    )
    assert result["system_quarters"][0]["actual"] == "-2100.000"
    assert result["system_quarters"][0]["restated_actual"] == "-1800.000"
    assert q2["source"] == {"return_month": 6, "version": 1, "year_to_date": "-4800.000"}
    assert q2["own_earned"] == "125.000" and q2["restated"] is None
    assert D(beta["earned"]) == 125  # Q2's own part only: Alpha has not reported September
    assert QuarterAssessment.objects.get(organisation=world.org_b, quarter=1).return_version == 1


def test_a_quarter_without_its_own_return_is_provisional_until_it_comes(world, plan_round, fund):
    """No June return from Beta, but a September one: Q1 is worked out from it for now,
    said to be provisional, and not kept. When the June return comes (late, −2,700 at June),
    Q1 is assessed on it and kept, and September's figure (−2,400) shows as a restatement.
    A run on the same returns again changes nothing."""
    from payments.models import QuarterAssessment, RecalculationRun

    submit_return(world, world.org_a, 3, 200, world.people["approver"])
    submit_return(world, world.org_b, 6, -800, world.people["partner"])
    (beta,) = _fund_result(world, plan_round)["organisations"]
    q1 = beta["quarters"][0]
    assert q1["source"] == {"return_month": 6, "version": 1, "year_to_date": "-2400.000"}
    assert (
        "Year to date at Jun: (£2,400,000), from the Sep return, version 1 (no Jun return yet: "
        "provisional until it comes)" in q1["workings"]
    )
    assert not QuarterAssessment.objects.filter(organisation=world.org_b, quarter=1).exists()
    assert QuarterAssessment.objects.get(organisation=world.org_b, quarter=2).return_month == 6

    submit_return(world, world.org_b, 3, -900, world.people["partner"])
    (beta,) = _fund_result(world, plan_round)["organisations"]
    q1 = beta["quarters"][0]
    assert q1["source"] == {"return_month": 3, "version": 1, "year_to_date": "-2700.000"}
    assert q1["earned"] == "0.000" and q1["restated"]["earned"] == "250.000"
    assert q1["restated"]["by"][0]["return"] == "the Sep return, version 1"
    assert QuarterAssessment.objects.get(organisation=world.org_b, quarter=1).return_month == 3
    _fund_result(world, plan_round)
    assert RecalculationRun.objects.latest("started_at").status == "unchanged"
