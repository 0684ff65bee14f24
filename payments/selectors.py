"""Reads of control totals and transfers, scoped through accounts.policy."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils.timezone import now

from accounts import policy
from accounts.models import Organisation, System
from payments.models import (
    Agreement,
    AgreementSignature,
    AgreementVersion,
    ControlTotal,
    DiscretionaryRelease,
    Fund,
    RecalculationRun,
    Settlement,
    SettlementResponse,
    SystemResult,
    Transfer,
    TransferDecision,
)
from plans.models import PlanningRound

if TYPE_CHECKING:
    from accounts.policy import AnyUser


def current_control_totals(plan_round: PlanningRound, system: System) -> dict[str, Decimal | None]:
    """Every partner's control total (None where it has none), by ODS code."""
    rows = dict(
        ControlTotal.objects.filter(round=plan_round, organisation__system=system).values_list(
            "organisation__ods_code", "amount"
        )
    )
    return {ods: rows.get(ods) for ods in system.organisations.values_list("ods_code", flat=True)}


def control_totals_by_system(
    plan_round: PlanningRound, systems: list[System]
) -> dict[int, dict[str, Decimal | None]]:
    """current_control_totals for several systems in two queries (a region's page)."""
    found: dict[int, dict[str, Decimal | None]] = {s.pk: {} for s in systems}
    for system_id, ods in Organisation.objects.filter(system__in=systems).values_list(
        "system_id", "ods_code"
    ):
        found[system_id][ods] = None
    for system_id, ods, amount in ControlTotal.objects.filter(
        round=plan_round, organisation__system__in=systems
    ).values_list("organisation__system_id", "organisation__ods_code", "amount"):
        found[system_id][ods] = amount
    return found


def control_totals_for(
    user: AnyUser, plan_round: PlanningRound, system: System
) -> dict[str, Decimal | None]:
    if not policy.can_view_system(user, system):
        raise Http404("No such system.")
    return current_control_totals(plan_round, system)


def control_total_of(
    user: AnyUser, plan_round: PlanningRound, organisation: Organisation
) -> Decimal | None:
    """The organisation's control total for the round (£000), None where it has none."""
    if not policy.can_view_organisation(user, organisation):
        raise Http404("No such organisation.")
    return (
        ControlTotal.objects.filter(round=plan_round, organisation=organisation)
        .values_list("amount", flat=True)
        .first()
    )


def transfers_for(user: AnyUser, plan_round: PlanningRound, system: System) -> QuerySet[Transfer]:
    if not policy.can_view_system(user, system):
        raise Http404("No such system.")
    return (
        Transfer.objects.filter(round=plan_round, system=system)
        .select_related("proposed_by", "round")
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

    if not policy.can_view_system(user, system):
        raise Http404("No such system.")
    return SystemResult.objects.filter(round=plan_round, system=system).first()


def last_run(user: AnyUser, plan_round: PlanningRound, system: System):

    if not policy.can_view_system(user, system):
        raise Http404("No such system.")
    return RecalculationRun.objects.filter(round=plan_round, system=system).first()


def fund_for(user: AnyUser, plan_round: PlanningRound, system: System):
    """The round's fund (None if there is none yet), for someone who may see the system."""

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

    if not policy.can_view_system(user, system):
        raise Http404("No such system.")
    return Agreement.objects.filter(round=plan_round, system=system).select_related(
        "round", "system", "created_by"
    )


def agreements_listed(user: AnyUser, plan_round: PlanningRound, system: System):
    """The agreements for a list: each with its versions (newest first, with partners and
    signatures) and its settlements, newest first, in a fixed number of queries however many
    there are. Read only: a service that changes one works on a fresh copy."""
    from django.db.models import Prefetch

    versions = AgreementVersion.objects.order_by("-number").prefetch_related(
        "partners",
        Prefetch(
            "signatures",
            queryset=AgreementSignature.objects.select_related("organisation", "signed_by"),
        ),
    )
    return agreements_for(user, plan_round, system).prefetch_related(
        Prefetch("versions", queryset=versions),
        Prefetch("settlements", queryset=Settlement.objects.order_by("-pk")),
    )


def agreement_get(user: AnyUser, plan_round: PlanningRound, system: System, pk: int):
    agreement = agreements_for(user, plan_round, system).filter(pk=pk).first()
    if agreement is None:
        raise Http404("No such agreement.")
    return agreement


def settlement_get(user: AnyUser, agreement, pk: int):
    """A settlement of an agreement the person may see (the agreement's selector checked)."""

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


def _still_to_act(partners, approves: set[int], done: set[tuple], key: int) -> list[str]:
    """The names of the partners this person approves for that have not acted on `key` yet."""
    return [o.name for o in partners if o.pk in approves and (key, o.pk) not in done]


def attention_for(user: AnyUser) -> list[dict[str, str]]:
    """What waits on this person in the money workflows, for their home page: transfers and
    agreements to agree or sign, proposed settlements to answer, and for the region's
    reviewers, disputed settlements and discretionary releases to decide."""
    duties = policy.money_duties(user)
    if not duties:
        return []
    items: list[dict[str, str]] = []

    def add(title: str, detail: str, url: str, due=None) -> None:
        items.append({"title": title, "detail": detail, "url": url, "due": due})

    # Transfers: each party this person speaks for that has not decided yet.
    transfers = (
        Transfer.objects.filter(status=Transfer.Status.PROPOSED, round__final_deadline__gt=now())
        .filter(
            Q(lines__organisation_id__in=duties.transfer_organisation_ids)
            | Q(system_id__in=duties.transfer_system_ids)
        )
        .distinct()
        .select_related("round", "system")
        .prefetch_related("lines__organisation")
    )
    decided = {
        (d.transfer_id, d.organisation_id)
        for d in TransferDecision.objects.filter(transfer__in=transfers)
    }
    for t in transfers:
        waiting = [
            line.organisation.name
            for line in t.lines.all()
            if line.organisation_id in duties.transfer_organisation_ids
            and (t.pk, line.organisation_id) not in decided
        ]
        if t.system_id in duties.transfer_system_ids and (t.pk, None) not in decided:
            waiting.append("the system lead")
        if waiting:
            add(
                f"{t.system.name}: transfer {t.pk} waiting for your agreement",
                f"For {', '.join(waiting)}. {t.reason[:120]} Transfers close at the final "
                "deadline.",
                reverse("control_totals", args=[t.round.slug, t.system.code]),
                due=t.round.final_deadline,
            )
    # Agreements: the latest version, a draft, not yet signed for an organisation they approve.
    drafts = (
        AgreementVersion.objects.filter(
            status=AgreementVersion.Status.DRAFT, partners__in=duties.signing_organisation_ids
        )
        .distinct()
        .select_related("agreement__round", "agreement__system")
        .prefetch_related("partners")
    )
    signed = {
        (s.version_id, s.organisation_id)
        for s in AgreementSignature.objects.filter(version__in=drafts)
    }
    for version in drafts:
        a = version.agreement
        names = _still_to_act(
            version.partners.all(), duties.signing_organisation_ids, signed, version.pk
        )
        if names:
            add(
                f"{a.name}: version {version.number} waiting for your signature",
                f"For {', '.join(names)}. Read the terms and the what-if before signing.",
                reverse("agreement_detail", args=[a.round.slug, a.system.code, a.pk]),
            )
    # Settlements: proposed ones to answer; disputed ones for the region to decide.
    settlements = (
        Settlement.objects.filter(
            Q(
                status=Settlement.Status.PROPOSED,
                version__partners__in=duties.answering_organisation_ids,
            )
            | Q(
                status=Settlement.Status.DISPUTED,
                agreement__system__region_id__in=duties.settlement_region_ids,
            )
        )
        .distinct()
        .select_related("agreement__round", "agreement__system")
        .prefetch_related("version__partners")
    )
    answered = {
        (r.settlement_id, r.organisation_id)
        for r in SettlementResponse.objects.filter(settlement__in=settlements)
    }
    for s in settlements:
        a = s.agreement
        url = reverse("settlement_detail", args=[a.round.slug, a.system.code, a.pk, s.pk])
        if s.status == Settlement.Status.DISPUTED:
            add(
                f"{a.name}: {s.get_period_display()} settlement disputed",
                f"{a.system.name}. The region decides: uphold it or set it aside, with a reason.",
                url,
            )
            continue
        names = _still_to_act(
            s.version.partners.all(), duties.answering_organisation_ids, answered, s.pk
        )
        if names:
            add(
                f"{a.name}: {s.get_period_display()} settlement waiting for your answer",
                f"For {', '.join(names)}. Accept it, or dispute it with a reason.",
                url,
            )
    # Discretionary releases of the fund, for the region's agreement.
    for release in DiscretionaryRelease.objects.filter(
        status=DiscretionaryRelease.Status.PROPOSED,
        organisation__system__region_id__in=duties.release_region_ids,
    ).select_related("fund__round", "organisation__system"):
        system = release.organisation.system
        add(
            f"{system.name}: a fund release for {release.organisation.name} needs the region",
            f"Quarter {release.quarter}. {release.reason[:120]}",
            reverse("fund", args=[release.fund.round.slug, system.code]),
        )
    return items
