"""The national round's money: control totals for the NHS partners, the fund with allocations
for those in deficit, and a half-year (September) finance return from each of them, so a
national recalculation has every input it reads. Safe to run again: it makes what is missing.
"""

from __future__ import annotations

import sys
from decimal import Decimal

from django.db import transaction

from accounts.models import Organisation, System
from accounts.second_factor import unattended
from demo.synthetic import _rng, board_approver
from payments.inputs import gather_many
from payments.models import ControlTotal, Fund
from payments.services import fund as fund_services
from payments.services.control_totals import control_total_set
from plans.models import MonthlyReturn, PlanningRound
from plans.services.returns import (
    return_lines,
    return_save,
    return_start,
    return_submit,
    version_cells,
)

HELD = {Organisation.Kind.COMMISSIONER, *Organisation.PROVIDER_KINDS}  # have control totals
RETURN_MONTH = 6  # September: two quarters of actuals


@unattended("demo data: its people are not there to type a code")
def seed_payments(plan_round: PlanningRound, systems: list[System], out=sys.stdout) -> dict:
    made = {"control totals": 0, "allocations": 0, "returns": 0}
    inputs = gather_many(plan_round, systems)
    with transaction.atomic():
        have = set(
            ControlTotal.objects.filter(round=plan_round).values_list("organisation_id", flat=True)
        )
        for organisation in Organisation.objects.filter(system__in=systems, kind__in=HELD):
            if organisation.pk in have:
                continue
            planned = inputs[organisation.system_id]["planned"].get(organisation.ods_code)
            if planned is None:
                continue
            # Control totals close to the plans, as a real year's are (the plans were asked to
            # meet them): a deficit allowed a little larger or smaller, so some plans beat
            # theirs and some miss; the national sum stays near the plans' own.
            factor = Decimal(_rng("ct", organisation.ods_code).randint(75, 125)) / 100
            amount = (planned * factor / 100).quantize(Decimal(1)) * 100
            control_total_set(actor=None, plan_round=plan_round, organisation=organisation,
                              amount=amount)  # fmt: skip
            made["control totals"] += 1
        fund = Fund.objects.filter(round=plan_round).first() or fund_services.fund_save(
            actor=None, plan_round=plan_round, name="Financial recovery fund",
            system_share=Decimal("0.5"), phasing=[Decimal("0.25")] * 4, taper="linear",
            taper_zero_at=Decimal(5000),
        )  # fmt: skip
        allocated = set(fund.allocations.values_list("organisation__ods_code", flat=True))
        for system in systems:
            deficits = ControlTotal.objects.filter(
                round=plan_round, organisation__system=system, amount__lt=0
            ).values_list("organisation__ods_code", "amount")
            amounts = {
                ods: (-amount * Decimal("0.3")).quantize(Decimal(1))
                for ods, amount in deficits
                if ods not in allocated
            }
            if amounts:
                made["allocations"] += fund_services.allocations_set(
                    actor=None, fund=fund, system=system, amounts=amounts
                )
    returned = set(
        MonthlyReturn.objects.filter(round=plan_round, month=RETURN_MONTH).values_list(
            "organisation_id", flat=True
        )
    )
    held = list(Organisation.objects.filter(system__in=systems, kind__in=HELD).order_by("ods_code"))
    for n, organisation in enumerate(held, start=1):
        if organisation.pk in returned:
            continue
        with transaction.atomic():
            approver = board_approver(organisation, "national.openbook.invalid")
            monthly_return = return_start(
                actor=approver, plan_round=plan_round, organisation=organisation,
                month=RETURN_MONTH,
            )  # fmt: skip
            lines = return_lines(plan_round, organisation.kind)
            costs = {code for code, k in lines.flat[lines.surplus].items() if k < 0}
            rng = _rng("return", organisation.ods_code)
            cells = version_cells(monthly_return.versions.get(number=0))
            for (code, month), value in list(cells.items()):
                if code in costs and month <= RETURN_MONTH:
                    # Actual costs a little off plan, mostly over.
                    factor = Decimal(str(round(1 + rng.uniform(-0.015, 0.03), 4)))
                    cells[(code, month)] = (value * factor).quantize(Decimal("0.001"))
            saved = return_save(
                actor=approver, monthly_return=monthly_return, cells=cells,
                expected_revision=monthly_return.revision, source="seed",
            )  # fmt: skip
            return_submit(actor=approver, monthly_return=saved, expected_revision=saved.revision)
        made["returns"] += 1
        if n % 50 == 0:
            out.write(f"  {n}/{len(held)} returns\n")
    return made
