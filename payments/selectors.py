"""Reads of control totals and transfers, scoped through accounts.policy."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from django.db.models import QuerySet
from django.http import Http404

from accounts import policy
from accounts.models import System
from payments.models import Transfer
from payments.services import current_control_totals
from plans.models import PlanningRound

if TYPE_CHECKING:
    from accounts.policy import AnyUser


def control_totals_for(
    user: AnyUser, plan_round: PlanningRound, system: System
) -> dict[str, Decimal | None]:
    if not policy.can_view_system(user, system):
        raise Http404("No such system.")
    return current_control_totals(plan_round, system)


def transfers_for(user: AnyUser, plan_round: PlanningRound, system: System) -> QuerySet[Transfer]:
    if not policy.can_view_system(user, system):
        raise Http404("No such system.")
    return (
        Transfer.objects.filter(round=plan_round, system=system)
        .select_related("proposed_by")
        .prefetch_related("lines__organisation", "decisions__organisation", "decisions__decided_by")
    )


def transfer_get(user: AnyUser, plan_round: PlanningRound, system: System, pk: int) -> Transfer:
    transfer = transfers_for(user, plan_round, system).filter(pk=pk).first()
    if transfer is None:
        raise Http404("No such transfer.")
    return transfer


def pending_parties(transfer: Transfer) -> list[str]:
    """Who still has to agree: organisations by name, and the system lead."""
    decided = {d.organisation_id for d in transfer.decisions.all()}
    waiting = [
        line.organisation.name
        for line in transfer.lines.all()
        if line.organisation_id not in decided
    ]
    if None not in decided:
        waiting.append("the system lead")
    return waiting


def result_for(user: AnyUser, plan_round: PlanningRound, system: System):
    """What the recalculation last stored for the system (None before the first run)."""
    from payments.models import SystemResult

    if not policy.can_view_system(user, system):
        raise Http404("No such system.")
    return SystemResult.objects.filter(round=plan_round, system=system).first()


def last_run(user: AnyUser, plan_round: PlanningRound, system: System):
    from payments.models import RecalculationRun

    if not policy.can_view_system(user, system):
        raise Http404("No such system.")
    return RecalculationRun.objects.filter(round=plan_round, system=system).first()


def fund_for(user: AnyUser, plan_round: PlanningRound, system: System):
    """The round's fund (None if there is none yet), for someone who may see the system."""
    from payments.models import Fund

    if not policy.can_view_system(user, system):
        raise Http404("No such system.")
    return Fund.objects.filter(round=plan_round).first()


def allocations_for(user: AnyUser, fund, system: System) -> dict[str, Decimal]:
    if not policy.can_view_system(user, system):
        raise Http404("No such system.")
    return dict(
        fund.allocations.filter(organisation__system=system).values_list(
            "organisation__ods_code", "amount"
        )
    )


def releases_for(user: AnyUser, fund, system: System):
    from payments.models import DiscretionaryRelease

    if not policy.can_view_system(user, system):
        raise Http404("No such system.")
    return DiscretionaryRelease.objects.filter(
        fund=fund, organisation__system=system
    ).select_related("organisation", "proposed_by", "decided_by")


def release_get(user: AnyUser, fund, system: System, pk: int):
    release = releases_for(user, fund, system).filter(pk=pk).first()
    if release is None:
        raise Http404("No such release.")
    return release


def agreements_for(user: AnyUser, plan_round: PlanningRound, system: System):
    """A system's risk-share agreements: open book to everyone who may see the system."""
    from payments.models import Agreement

    if not policy.can_view_system(user, system):
        raise Http404("No such system.")
    return Agreement.objects.filter(round=plan_round, system=system).select_related(
        "round", "system", "created_by"
    )


def agreement_get(user: AnyUser, plan_round: PlanningRound, system: System, pk: int):
    agreement = agreements_for(user, plan_round, system).filter(pk=pk).first()
    if agreement is None:
        raise Http404("No such agreement.")
    return agreement


def settlement_get(user: AnyUser, agreement, pk: int):
    """A settlement of an agreement the person may see (the agreement's selector checked)."""
    from payments.models import Settlement

    settlement = (
        Settlement.objects.filter(agreement=agreement, pk=pk)
        .select_related(
            "agreement__system", "agreement__round", "version", "created_by", "decided_by"
        )  # fmt: skip
        .first()
    )
    if settlement is None or not policy.can_view_system(user, agreement.system):
        raise Http404("No such settlement.")
    return settlement
