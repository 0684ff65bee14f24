"""The matrix's rows for money: control totals and transfers, the fund, agreements and
settlements (pages and API)."""

from __future__ import annotations

from tests.isolation.common import (
    LOGIN_REDIRECT,
    Route,
    _s1_object_api,
    _s1_object_page,
)
from tests.isolation.plans import ROUND, _plans_submitted, _sys, _system_api, _system_page

# --- payments ---------------------------------------------------------------------------------


def _with_control_totals(world) -> None:
    from decimal import Decimal

    from payments.services.control_totals import control_total_set

    _plans_submitted(world)
    from plans.models import PlanningRound

    plan_round = PlanningRound.objects.get()
    for organisation, amount in ((world.org_a, Decimal(2)), (world.org_b, Decimal(-10))):
        control_total_set(
            actor=None, plan_round=plan_round, organisation=organisation, amount=amount
        )


def _with_transfer(world) -> None:
    _with_control_totals(world)
    _with_transfer_only(world)


def _with_transfer_only(world) -> None:
    """A transfer proposed by the lead, where the round and control totals already are."""
    from decimal import Decimal

    from payments.services.transfers import transfer_propose
    from plans.models import PlanningRound

    transfer_propose(
        actor=world.people["lead"],
        plan_round=PlanningRound.objects.get(),
        system=world.s1,
        moves=[("ZA1", Decimal(1)), ("ZA2", Decimal(-1))],
        reason="Rebalance",
    )


def _transfer_id() -> int:
    from payments.models import Transfer

    return Transfer.objects.get().pk


_ct_write = {"anonymous": LOGIN_REDIRECT, "outsider": 404, "other_lead": 404, "other_reviewer": 404}

ROUTES: list[Route] = [
    Route("control_totals", "GET", lambda w: _sys(w, "control-totals/"), _system_page, 200,
          setup=_with_control_totals),
    Route("control_totals_save", "POST", lambda w: _sys(w, "control-totals/save/"),
          {**_ct_write, "reviewer": 302, "admin": 302}, 403,
          data=lambda w: {"ct:ZA1": "3"}, setup=_with_control_totals),
    Route("transfer_propose", "POST", lambda w: _sys(w, "transfers/"),
          {**_ct_write, "lead": 302, "approver": 302}, 403,
          data=lambda w: {"organisation": ["ZA1", "ZA2"], "amount": ["1", "-1"], "reason": "x"},
          setup=_with_control_totals),
    # The lead proposed (and so agreed); Alpha's approver decides for Alpha.
    Route("transfer_decide", "POST", lambda w: _sys(w, f"transfers/{_transfer_id()}/decide/"),
          {**_ct_write, "approver": 302, "lead": 302}, 403,
          data=lambda w: {"decision": "agree"}, setup=_with_transfer),
    Route("transfer_withdraw", "POST", lambda w: _sys(w, f"transfers/{_transfer_id()}/withdraw/"),
          {**_ct_write, "lead": 302}, 403, setup=_with_transfer),
]  # fmt: skip


def _api_sys(world, rest: str) -> str:
    return f"/api/v1/rounds/{ROUND}/systems/{world.s1.code}/{rest}"


_TRANSFER_BODY = {"lines": [{"organisation": "ZA1", "amount": "1"},
                            {"organisation": "ZA2", "amount": "-1"}], "reason": "x"}  # fmt: skip
ROUTES += [
    Route("api_control_totals", "GET", lambda w: _api_sys(w, "control-totals/"), _system_api,
          200, api=True, setup=_with_control_totals),
    Route("api_control_totals", "PUT", lambda w: _api_sys(w, "control-totals/"),
          {**_system_api, "reviewer": 200, "admin": 200}, 403,
          data=lambda w: {"control_totals": {"ZA1": "3"}}, api=True, setup=_with_control_totals),
    Route("api_control_totals_import", "POST", lambda w: _api_sys(w, "control-totals/import/"),
          {**_system_api, "reviewer": 200, "admin": 200}, 403,
          data=lambda w: {"csv": "organisation,control_total\nZA1,3\n"}, api=True,
          setup=_with_control_totals),
    Route("api_transfer_list", "GET", lambda w: _api_sys(w, "transfers/"), _system_api, 200,
          api=True, setup=_with_transfer),
    Route("api_transfer_list", "POST", lambda w: _api_sys(w, "transfers/"),
          {**_system_api, "lead": 201, "approver": 201}, 403,
          data=lambda w: _TRANSFER_BODY, api=True, setup=_with_control_totals),
    Route("api_transfer_detail", "GET", lambda w: _api_sys(w, f"transfers/{_transfer_id()}/"),
          _system_api, 200, api=True, setup=_with_transfer),
    # The lead proposed (and so agreed, and is told so: 400); Alpha's approver decides.
    Route("api_transfer_decide", "POST",
          lambda w: _api_sys(w, f"transfers/{_transfer_id()}/decide/"),
          {**_system_api, "approver": 200, "lead": 400}, 403,
          data=lambda w: {"agreed": True}, api=True, setup=_with_transfer),
    Route("api_transfer_withdraw", "POST",
          lambda w: _api_sys(w, f"transfers/{_transfer_id()}/withdraw/"),
          {**_system_api, "lead": 200}, 403, api=True, setup=_with_transfer),
]  # fmt: skip


# --- the fund ---------------------------------------------------------------------------------


def _with_fund(world) -> None:
    """Control totals (Beta in deficit), the fund, Beta's allocation and a release awaiting
    the region."""
    from decimal import Decimal

    from payments.services.fund import allocations_set, fund_save, release_propose
    from plans.models import PlanningRound

    _with_control_totals(world)
    fund = fund_save(actor=None, plan_round=PlanningRound.objects.get(), name="Recovery fund",
                     system_share=Decimal("0.5"), phasing=[Decimal("0.25")] * 4, taper="none",
                     taper_zero_at=None)  # fmt: skip
    allocations_set(actor=None, fund=fund, system=world.s1, amounts={"ZA2": Decimal(1000)})
    release_propose(actor=world.people["lead"], fund=fund, organisation=world.org_b, quarter=1,
                    reason="Winter pressures")  # fmt: skip


def _release_id() -> int:
    from payments.models import DiscretionaryRelease

    return DiscretionaryRelease.objects.get().pk


ROUTES += [
    Route("fund", "GET", lambda w: _sys(w, "fund/"), _system_page, 200, setup=_with_fund),
    Route("fund_rules", "POST", lambda w: _sys(w, "fund/rules/"), {**_ct_write, "admin": 302},
          403, data=lambda w: {"name": "Fund", "system_share": "60", "q1": "25", "q2": "25",
                               "q3": "25", "q4": "25", "taper": "none"},
          setup=_with_fund, notes="the fund's rules are national: administrators only"),
    Route("fund_share", "POST", lambda w: _sys(w, "fund/share/"), {**_ct_write, "lead": 302},
          403, data=lambda w: {"system_share": "75"}, setup=_with_fund),
    Route("fund_allocations", "POST", lambda w: _sys(w, "fund/allocations/"),
          {**_ct_write, "reviewer": 302, "admin": 302}, 403,
          data=lambda w: {"alloc:ZA2": "1200"}, setup=_with_fund),
    Route("release_propose", "POST", lambda w: _sys(w, "fund/releases/"),
          {**_ct_write, "lead": 302}, 403,
          data=lambda w: {"organisation": "ZA2", "quarter": "2", "reason": "Flu"},
          setup=_with_fund),
    Route("release_decide", "POST", lambda w: _sys(w, f"fund/releases/{_release_id()}/decide/"),
          {**_ct_write, "reviewer": 302}, 403, data=lambda w: {"decision": "agree"},
          setup=_with_fund, notes="the region's reviewer agrees; administrators do not"),
    Route("release_withdraw", "POST",
          lambda w: _sys(w, f"fund/releases/{_release_id()}/withdraw/"),
          {**_ct_write, "lead": 302}, 403, setup=_with_fund),
    Route("api_fund", "GET", lambda w: _api_sys(w, "fund/"), _system_api, 200, api=True,
          setup=_with_fund),
    Route("api_fund_rules", "PUT", lambda w: _api_sys(w, "fund/rules/"),
          {**_system_api, "admin": 200}, 403, api=True, setup=_with_fund,
          data=lambda w: {"name": "Fund", "system_share": "60", "phasing": ["25"] * 4,
                          "taper": "none"}),
    Route("api_fund_share", "PUT", lambda w: _api_sys(w, "fund/share/"),
          {**_system_api, "lead": 200}, 403, api=True, setup=_with_fund,
          data=lambda w: {"system_share": "75"}),
    Route("api_fund_allocations", "PUT", lambda w: _api_sys(w, "fund/allocations/"),
          {**_system_api, "reviewer": 200, "admin": 200}, 403, api=True, setup=_with_fund,
          data=lambda w: {"allocations": {"ZA2": "1200"}}),
    Route("api_release_list", "GET", lambda w: _api_sys(w, "fund/releases/"), _system_api, 200,
          api=True, setup=_with_fund),
    Route("api_release_list", "POST", lambda w: _api_sys(w, "fund/releases/"),
          {**_system_api, "lead": 201}, 403, api=True, setup=_with_fund,
          data=lambda w: {"organisation": "ZA2", "quarter": 2, "reason": "Flu"}),
    Route("api_release_decide", "POST",
          lambda w: _api_sys(w, f"fund/releases/{_release_id()}/decide/"),
          {**_system_api, "reviewer": 200}, 403, api=True, setup=_with_fund,
          data=lambda w: {"agreed": True}),
    Route("api_release_withdraw", "POST",
          lambda w: _api_sys(w, f"fund/releases/{_release_id()}/withdraw/"),
          {**_system_api, "lead": 200}, 403, api=True, setup=_with_fund),
]  # fmt: skip


ROUTES += [
    Route("national_recalculation", "GET", lambda w: f"/rounds/{ROUND}/recalculation/",
          {"anonymous": LOGIN_REDIRECT, "admin": 200}, 403, setup=_plans_submitted,
          notes="administrators only; the round itself is national"),
    Route("national_recalculation", "POST", lambda w: f"/rounds/{ROUND}/recalculation/",
          {"anonymous": LOGIN_REDIRECT, "admin": 302}, 403, setup=_plans_submitted),
]  # fmt: skip


def _with_fund_results(world) -> None:
    from payments.services import recalculation
    from plans.models import PlanningRound

    _with_fund(world)
    recalculation.recalculate(system_id=world.s1.pk, round_id=PlanningRound.objects.get().pk,
                       trigger="matrix")  # fmt: skip


ROUTES += [
    Route("api_system_results", "GET", lambda w: f"/api/v1/rounds/{ROUND}/systems/s1/results/",
          _system_api, 200, api=True, setup=_with_fund_results),
]  # fmt: skip


# --- risk-share agreements --------------------------------------------------------------------

POOL = {"kind": "risk_pool", "params": {"budget": "1000000", "shares": {"ZA1": "50", "ZA2": "50"}}}


def _with_agreement(world) -> None:
    from payments.services.agreements import agreement_create
    from plans.models import PlanningRound

    _with_control_totals(world)
    agreement_create(actor=world.people["lead"], plan_round=PlanningRound.objects.get(),
                     system=world.s1, name="Urgent care pool", partners=["ZA1", "ZA2"],
                     mechanisms=[POOL])  # fmt: skip


def _agreement_id() -> int:
    from payments.models import Agreement

    return Agreement.objects.get().pk


def _agreement_form(world) -> dict:
    return {"action": "save", "name": "Pool", "partners": ["ZA1", "ZA2"], "version": "1",
            "m1-kind": "risk_pool", "m1-budget": "1000000", "m1-shares-ZA1": "60",
            "m1-shares-ZA2": "40"}  # fmt: skip


_lead_only = {**_ct_write, "lead": 302}

ROUTES += [
    Route("agreement_list", "GET", lambda w: _sys(w, "agreements/"), _system_page, 200,
          setup=_with_agreement),
    Route("agreement_new", "GET", lambda w: _sys(w, "agreements/new/"),
          {**_ct_write, "lead": 200}, 403, setup=_with_control_totals),
    Route("agreement_new", "POST", lambda w: _sys(w, "agreements/new/"), _lead_only, 403,
          data=_agreement_form, setup=_with_control_totals),
    Route("agreement_detail", "GET", lambda w: _sys(w, f"agreements/{_agreement_id()}/"),
          _system_page, 200, setup=_with_agreement),
    Route("agreement_edit", "GET", lambda w: _sys(w, f"agreements/{_agreement_id()}/edit/"),
          {**_ct_write, "lead": 200}, 403, setup=_with_agreement),
    Route("agreement_edit", "POST", lambda w: _sys(w, f"agreements/{_agreement_id()}/edit/"),
          _lead_only, 403, data=_agreement_form, setup=_with_agreement),
    Route("agreement_sign", "POST", lambda w: _sys(w, f"agreements/{_agreement_id()}/sign/"),
          {**_ct_write, "approver": 302}, 403,
          data=lambda w: {"organisation": "ZA1", "version": "1", "confirmed": "yes"},
          setup=_with_agreement,
          notes="Alpha's approver signs for Alpha; nobody else can"),
]  # fmt: skip


def _api_agr(world, rest: str = "") -> str:
    return f"/api/v1/rounds/{ROUND}/systems/s1/agreements/{rest}"


ROUTES += [
    Route("api_agreement_list", "GET", lambda w: _api_agr(w), _system_api, 200, api=True,
          setup=_with_agreement),
    Route("api_agreement_list", "POST", lambda w: _api_agr(w), {**_system_api, "lead": 201}, 403,
          data=lambda w: {"name": "Pool", "partners": ["ZA1", "ZA2"], "mechanisms": [POOL]},
          api=True, setup=_with_control_totals),
    Route("api_agreement_detail", "GET", lambda w: _api_agr(w, f"{_agreement_id()}/"),
          _system_api, 200, api=True, setup=_with_agreement),
    Route("api_agreement_detail", "PUT", lambda w: _api_agr(w, f"{_agreement_id()}/"),
          {**_system_api, "lead": 200}, 403,
          data=lambda w: {"name": "Pool", "partners": ["ZA1", "ZA2"], "mechanisms": [POOL],
                          "version": 1},
          api=True, setup=_with_agreement),
    Route("api_agreement_what_if", "GET", lambda w: _api_agr(w, f"{_agreement_id()}/what-if/"),
          _system_api, 200, api=True, setup=_with_agreement),
    Route("api_agreement_sign", "POST", lambda w: _api_agr(w, f"{_agreement_id()}/sign/"),
          {**_system_api, "approver": 201}, 403,
          data=lambda w: {"organisation": "ZA1", "version": 1}, api=True,
          setup=_with_agreement),
]  # fmt: skip


# --- settlements and decisions ----------------------------------------------------------------


def _with_settlement(world) -> None:
    """The pool agreed by Alpha's approver and a Beta approver (not one of the matrix's people),
    and a year's settlement worked out and proposed."""
    from accounts.models import Role
    from accounts.services import membership_create
    from payments.models import Agreement
    from payments.services import settlements
    from payments.services.agreements import agreement_sign
    from tests.factories import UserFactory

    _with_agreement(world)
    agreement = Agreement.objects.get()
    beta = UserFactory(email="beta.approver@example.nhs.uk")
    membership_create(actor=None, user=beta, role=Role.ORG_APPROVER, organisation=world.org_b)
    agreement_sign(actor=world.people["approver"], agreement=agreement, organisation=world.org_a,
                   version_number=1)  # fmt: skip
    agreement_sign(actor=beta, agreement=agreement, organisation=world.org_b, version_number=1)
    settlement = settlements.settlement_enter(actor=world.people["lead"], agreement=agreement,
                                              period="year", measures=["1100000"],
                                              outcomes_met=True)  # fmt: skip
    settlements.compute(settlement.pk)
    settlements.settlement_propose(actor=world.people["lead"], settlement=settlement)


def _settlement(world, rest: str = "") -> str:
    from payments.models import Settlement

    s = Settlement.objects.get()
    return _sys(world, f"agreements/{s.agreement_id}/settlements/{s.pk}/{rest}")


ROUTES += [
    Route("settlement_enter", "POST", lambda w: _sys(w, f"agreements/{_agreement_id()}/settlements/"),
          _lead_only, 403, data=lambda w: {"period": "Q1", "measure-1": "300000"},
          setup=_with_settlement),
    Route("settlement_detail", "GET", lambda w: _settlement(w), _system_page, 200,
          setup=_with_settlement),
    Route("settlement_propose", "POST", lambda w: _settlement(w, "propose/"), _lead_only, 403,
          setup=_with_settlement),
    Route("settlement_withdraw", "POST", lambda w: _settlement(w, "withdraw/"), _lead_only, 403,
          setup=_with_settlement),
    Route("settlement_respond", "POST", lambda w: _settlement(w, "respond/"),
          {**_ct_write, "approver": 302}, 403,
          data=lambda w: {"organisation": "ZA1", "answer": "accept"}, setup=_with_settlement),
    Route("settlement_decide", "POST", lambda w: _settlement(w, "decide/"),
          {**_ct_write, "reviewer": 302}, 403,
          data=lambda w: {"decision": "uphold", "reason": "Fair"}, setup=_with_settlement,
          notes="the region's reviewer decides; a decision on an undisputed settlement is "
                "refused with a message"),
]  # fmt: skip


def _api_settlement(world, rest: str = "") -> str:
    from payments.models import Settlement

    s = Settlement.objects.get()
    return _api_agr(world, f"{s.agreement_id}/settlements/{s.pk}/{rest}")


ROUTES += [
    Route("api_settlement_list", "GET",
          lambda w: _api_agr(w, f"{_agreement_id()}/settlements/"), _system_api, 200, api=True,
          setup=_with_settlement),
    Route("api_settlement_list", "POST",
          lambda w: _api_agr(w, f"{_agreement_id()}/settlements/"), {**_system_api, "lead": 201},
          403, data=lambda w: {"period": "Q1", "measures": ["300000"], "outcomes_met": True},
          api=True, setup=_with_settlement),
    Route("api_settlement_detail", "GET", lambda w: _api_settlement(w), _system_api, 200,
          api=True, setup=_with_settlement),
    Route("api_settlement_propose", "POST", lambda w: _api_settlement(w, "propose/"),
          {**_system_api, "lead": 400}, 403, api=True, setup=_with_settlement,
          notes="already proposed: the lead is told why (400); anyone else may not (403)"),
    Route("api_settlement_withdraw", "POST", lambda w: _api_settlement(w, "withdraw/"),
          {**_system_api, "lead": 200}, 403, api=True, setup=_with_settlement,
          notes="proposed, not yet answered: the lead withdraws it"),
    Route("api_settlement_respond", "POST", lambda w: _api_settlement(w, "respond/"),
          {**_system_api, "approver": 200}, 403,
          data=lambda w: {"organisation": "ZA1", "accepted": True}, api=True,
          setup=_with_settlement),
    Route("api_settlement_decide", "POST", lambda w: _api_settlement(w, "decide/"),
          {**_system_api, "reviewer": 400}, 403, data=lambda w: {"uphold": True, "reason": "x"},
          api=True, setup=_with_settlement, notes="not disputed: the reviewer is told why"),
    Route("audit_timeline", "GET", lambda w: "/systems/s1/audit/", _s1_object_page, 200,
          setup=_with_settlement),
    Route("audit_export", "GET", lambda w: "/systems/s1/audit.json", _s1_object_page, 200,
          setup=_with_settlement),
    Route("audit_export", "GET", lambda w: "/systems/s1/audit.csv", _s1_object_page, 200,
          setup=_with_settlement),
    Route("api_audit_events", "GET", lambda w: "/api/v1/systems/s1/audit/", _s1_object_api, 200,
          api=True, setup=_with_settlement),
    Route("api_audit_verify", "GET", lambda w: "/api/v1/systems/s1/audit/verify/",
          _s1_object_api, 200, api=True, setup=_with_settlement),
]  # fmt: skip
