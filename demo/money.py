"""Demo control totals: Borsetshire's partners have theirs, and a transfer waits for agreement."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from accounts.models import Membership, Organisation, Role, System
from accounts.second_factor import unattended
from payments.models import ControlTotal, Transfer
from payments.services.control_totals import control_total_set
from payments.services.transfers import transfer_propose
from plans.models import PlanningRound

# £000, close to the plans as a real year's are: the trusts held to deficits of a few £m
# (Felpersham to break-even), the ICB to a small surplus; some plans beat theirs, some miss.
CONTROL_TOTALS = {
    "ZB1": Decimal("-6000"),
    "ZB2": Decimal("0"),
    "ZB3": Decimal("-2000"),
    "ZB4": Decimal("-3500"),
    "ZB5": Decimal("-12000"),
    "ZB6": Decimal("5000"),
    "ZB7": None,
    "ZB8": None,
}


@transaction.atomic
@unattended("demo data: its people are not there to type a code")
def seed_control_totals(round_slug: str) -> dict[str, int]:
    plan_round = PlanningRound.objects.get(slug=round_slug)
    made = {"control totals": 0, "transfers": 0}
    for ods, amount in CONTROL_TOTALS.items():
        organisation = Organisation.objects.get(ods_code=ods)
        if not ControlTotal.objects.filter(round=plan_round, organisation=organisation).exists():
            control_total_set(
                actor=None, plan_round=plan_round, organisation=organisation, amount=amount
            )
            made["control totals"] += 1
    system = System.objects.get(code="borsetshire")
    if not Transfer.objects.filter(round=plan_round, system=system).exists():
        lead = Membership.objects.get(system=system, role=Role.SYSTEM_LEAD).user
        transfer_propose(
            actor=lead,
            plan_round=plan_round,
            system=system,
            moves=[("ZB3", Decimal("-500")), ("ZB1", Decimal("500"))],
            reason="Community services take on the discharge-to-assess beds from Borchester.",
        )
        made["transfers"] += 1
    return made


# The fund, and each partner's June return placed against its control total (£000 better (+)
# or worse (−) than its year-to-date control total): Borchester misses its own by 300, the
# system as a whole meets its, so the lead has a discretionary release to consider.
ALLOCATIONS = {"ZB1": Decimal(2000), "ZB4": Decimal(1000), "ZB5": Decimal(500)}  # held to deficits
JUNE_AGAINST_TARGET = {
    "ZB1": Decimal(-300),
    "ZB2": Decimal(100),
    "ZB3": Decimal(50),
    "ZB4": Decimal(20),
    "ZB5": Decimal(0),
    "ZB6": Decimal(200),
}
RETURN_MONTH = 3


def _june_cells(plan_round, organisation, target: Decimal) -> dict:
    """The organisation's plan for its finance lines, with the first quarter's largest cost
    moved so that its surplus to the end of June comes out at `target` (the largest, so a
    cost taken down stays a cost)."""
    from demo.synthetic import plan_cells, provided_for
    from plans.monthly_returns import position
    from plans.services.returns import return_lines

    lines = return_lines(plan_round, organisation.kind)
    inputs = {line.code for line in lines.inputs}
    cells: dict[tuple[str, int], Decimal] = {}
    # A return reports every finance line, the allocations the plan is given among them.
    given = [(p.line, int(p.month), p.value) for p in provided_for(plan_round, organisation)]
    typed = [(c.line, c.month, c.value) for c in plan_cells(plan_round, organisation)]
    for line, month, value in typed + given:
        if line in inputs and value is not None:
            key = (line, month)
            cells[key] = cells.get(key, Decimal(0)) + Decimal(value)
    costs = [code for code, k in lines.flat[lines.surplus].items() if k < 0 and code in inputs]
    cost = max(
        (code for code in costs if (code, RETURN_MONTH) in cells),
        key=lambda code: cells[(code, RETURN_MONTH)],
    )
    gap = position(cells, RETURN_MONTH, lines.flat, lines.surplus).year_to_date - target
    # More cost, less surplus (or the other way), spread over the quarter's months; the last
    # month takes what does not divide evenly, so the quarter comes out exactly.
    share = (gap / RETURN_MONTH).quantize(Decimal("0.001"))
    for month in range(1, RETURN_MONTH):
        cells[(cost, month)] += share
    cells[(cost, RETURN_MONTH)] += gap - share * (RETURN_MONTH - 1)
    return cells


@transaction.atomic
@unattended("demo data: its people are not there to type a code")
def seed_fund(round_slug: str) -> dict[str, int]:
    from demo.synthetic import board_approver
    from payments.calculations.system_fund import phased_target
    from payments.models import Fund
    from payments.services import fund as fund_services
    from plans.models import MonthlyReturn
    from plans.services.returns import return_save, return_start, return_submit

    plan_round = PlanningRound.objects.get(slug=round_slug)
    system = System.objects.get(code="borsetshire")
    made = {"funds": 0, "allocations": 0, "returns": 0}
    fund = Fund.objects.filter(round=plan_round).first()
    if fund is None:
        fund = fund_services.fund_save(
            actor=None, plan_round=plan_round, name="Financial recovery fund",
            system_share=Decimal("0.5"), phasing=[Decimal("0.25")] * 4, taper="linear",
            taper_zero_at=Decimal(3000),
        )  # fmt: skip
        made["funds"] += 1
        made["allocations"] += fund_services.allocations_set(
            actor=None, fund=fund, system=system, amounts=ALLOCATIONS
        )
    for ods, against in JUNE_AGAINST_TARGET.items():
        organisation = Organisation.objects.get(ods_code=ods)
        if MonthlyReturn.objects.filter(round=plan_round, organisation=organisation).exists():
            continue
        amount = CONTROL_TOTALS[ods]
        assert amount is not None
        target = phased_target(amount, RETURN_MONTH) + against
        approver = board_approver(organisation)
        monthly_return = return_start(actor=approver, plan_round=plan_round,
                                      organisation=organisation, month=RETURN_MONTH)  # fmt: skip
        saved = return_save(
            actor=approver, monthly_return=monthly_return,
            cells=_june_cells(plan_round, organisation, target),
            expected_revision=monthly_return.revision, source="demo",
        )  # fmt: skip
        return_submit(actor=approver, monthly_return=saved, expected_revision=saved.revision)
        made["returns"] += 1
    return made


@transaction.atomic
@unattended("demo data: its people are not there to type a code")
def seed_agreements(round_slug: str) -> dict[str, int]:
    """An urgent care risk pool among Borsetshire's two acute trusts and the ICB, drafted by
    the lead and signed so far by the ICB: Borchester's and Felpersham's approvers have yet to
    sign."""
    from payments.models import Agreement
    from payments.services.agreements import agreement_create, agreement_sign

    plan_round = PlanningRound.objects.get(slug=round_slug)
    system = System.objects.get(code="borsetshire")
    if Agreement.objects.filter(round=plan_round, system=system).exists():
        return {"agreements": 0}
    lead = Membership.objects.get(system=system, role=Role.SYSTEM_LEAD).user
    agreement = agreement_create(
        actor=lead,
        plan_round=plan_round,
        system=system,
        name="Urgent and emergency care risk pool",
        partners=["ZB1", "ZB2", "ZB6"],
        mechanisms=[
            {"kind": "risk_pool", "params": {
                "budget": "48000000", "shares": {"ZB1": "40", "ZB2": "25", "ZB6": "35"},
                "caps": {"ZB2": "1500000"}}},
            {"kind": "all_or_nothing", "params": {
                "percent": "1.8", "contract_values": {"ZB1": "61000000", "ZB2": "42000000"},
                "payer": "ZB6"}},
        ],
    )  # fmt: skip
    icb = Organisation.objects.get(ods_code="ZB6")
    icb_approver = Membership.objects.filter(organisation=icb, role=Role.ORG_APPROVER).first()
    if icb_approver:
        agreement_sign(actor=icb_approver.user, agreement=agreement, organisation=icb,
                       version_number=1)  # fmt: skip
    # A gain share Borchester and the ICB have both signed, with the first quarter's
    # settlement worked out and proposed: their approvers can accept or dispute it.
    from demo.synthetic import board_approver
    from payments.services import settlements

    gain = agreement_create(
        actor=lead, plan_round=plan_round, system=system,
        name="Biosimilar switching gain share", partners=["ZB1", "ZB6"],
        mechanisms=[{"kind": "gain_share", "params": {
            "provider": "ZB1", "commissioner": "ZB6", "baseline": "6400000",
            "planned_spend": "5800000", "provider_share": "50"}}],
    )  # fmt: skip
    for ods in ("ZB1", "ZB6"):
        partner = Organisation.objects.get(ods_code=ods)
        agreement_sign(actor=board_approver(partner), agreement=gain, organisation=partner,
                       version_number=1)  # fmt: skip
    settlement = settlements.settlement_enter(
        actor=lead, agreement=gain, period="Q1", measures=["1390000.00"], outcomes_met=True
    )
    settlements.compute(settlement.pk)
    settlements.settlement_propose(actor=lead, settlement=settlement)
    return {"agreements": 2}
