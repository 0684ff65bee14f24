"""Demo control totals: Borsetshire's partners have theirs, and a transfer waits for agreement."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from accounts.models import Membership, Organisation, Role, System
from payments.models import ControlTotal, Transfer
from payments.services import control_total_set, transfer_propose
from plans.models import PlanningRound

# £000: the acute trusts and the ICB in deficit, the others in surplus or without one.
CONTROL_TOTALS = {
    "ZB1": Decimal("-8500"),
    "ZB2": Decimal("-4200"),
    "ZB3": Decimal("1500"),
    "ZB4": Decimal("900"),
    "ZB5": Decimal("0"),
    "ZB6": Decimal("-2000"),
    "ZB7": None,
    "ZB8": None,
}


@transaction.atomic
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
