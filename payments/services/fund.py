"""Writes to a round's fund: its rules, a system's chosen share, indicative allocations and
discretionary releases. Each is one transaction, checks the policy, is audited, and queues
the recalculation of every system whose figures it moves."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import policy
from accounts.models import Organisation, System
from openbook.audit import audit_record
from payments.calculations.funds import FundRules
from payments.models import (
    ControlTotal,
    DiscretionaryRelease,
    Fund,
    FundAllocation,
    FundSystemShare,
)
from payments.services.control_totals import MAX_CONTROL_TOTAL
from payments.services.recalculation import request_recalculation

if TYPE_CHECKING:
    from accounts.models import User
    from plans.models import PlanningRound

ONE = Decimal(1)
SHARE_PLACES = Decimal("0.0001")


def _recalculate_round(plan_round: PlanningRound, trigger: str) -> None:
    """Every system with a control total or an allocation in the round."""

    ids = set(
        ControlTotal.objects.filter(round=plan_round).values_list(
            "organisation__system_id", flat=True
        )
    ) | set(
        FundAllocation.objects.filter(fund__round=plan_round).values_list(
            "organisation__system_id", flat=True
        )
    )
    for system_id in sorted(ids):
        request_recalculation(round_id=plan_round.pk, system_id=system_id, trigger=trigger)


def rules_for(fund: Fund, system: System | None = None) -> FundRules:
    """The fund's rules, with the system's own (higher) share if it chose one."""
    share = fund.system_share
    if system is not None:
        chosen = fund.system_shares.filter(system=system).values_list("system_share", flat=True)
        # A system may tie more than the fund's share, never less (even if the fund's rises).
        share = max(next(iter(chosen), share), share)
    return FundRules(
        system_share=share,
        phasing=fund.phasing,
        taper=fund.taper,
        taper_zero_at=fund.taper_zero_at,
    )


@transaction.atomic
def fund_save(
    *,
    actor: User | None,
    plan_round: PlanningRound,
    name: str,
    system_share: Decimal,
    phasing: Sequence[Decimal],
    taper: str,
    taper_zero_at: Decimal | None,
) -> Fund:
    """Create or change the round's fund. The rules are checked whole before anything moves."""
    if actor is not None and not policy.can_manage_fund(actor):
        raise PermissionDenied("A round's fund is set by platform administrators.")
    if actor is not None:
        policy.require_second_factor(actor, "set the fund")
    name = name.strip()
    if not name:
        raise ValidationError("Give the fund a name.")
    # Shares are stored to four places (a percentage to two): check what will be stored.
    for share in (system_share, *phasing):
        if share.quantize(SHARE_PLACES) != share:
            raise ValidationError("Give percentages to at most two decimal places.")
    zero_at = taper_zero_at if taper == "linear" else None
    if zero_at is not None and abs(zero_at) >= MAX_CONTROL_TOTAL:
        raise ValidationError("The shortfall for the taper must be under £100bn (in £000).")
    rules = FundRules(system_share, tuple(phasing), taper, zero_at)
    try:
        rules.check()
    except ValueError as exc:
        raise ValidationError(str(exc)) from None
    fund = Fund.objects.select_for_update().filter(round=plan_round).first()
    before = None if fund is None else _rules_json(fund)
    fund = fund or Fund(round=plan_round)
    fund.name = name[:120]
    fund.system_share = system_share
    fund.q1, fund.q2, fund.q3, fund.q4 = phasing
    fund.taper = taper
    fund.taper_zero_at = rules.taper_zero_at
    fund.save()
    audit_record(
        action="fund.rules_set", actor=actor, obj=fund, before=before, after=_rules_json(fund)
    )
    _recalculate_round(plan_round, "fund rules")
    return fund


def _rules_json(fund: Fund) -> dict:
    return {
        "name": fund.name,
        "system_share": str(fund.system_share),
        "phasing": [str(q) for q in fund.phasing],
        "taper": fund.taper,
        "taper_zero_at": None if fund.taper_zero_at is None else str(fund.taper_zero_at),
    }


@transaction.atomic
def system_share_choose(*, actor: User, fund: Fund, system: System, share: Decimal) -> None:
    """The system ties more (never less) of its partners' fund to the system's performance."""
    if not policy.can_choose_system_share(actor, system):
        raise PermissionDenied("Only the system lead can choose the system's share.")
    policy.require_second_factor(actor, "choose the system's share")
    if share.quantize(SHARE_PLACES) != share:
        raise ValidationError("Give the percentage to at most two decimal places.")
    if not fund.system_share <= share <= ONE:
        raise ValidationError(
            f"The system's share must be between the fund's {fund.system_share:.0%} and 100%."
        )
    existing = FundSystemShare.objects.filter(fund=fund, system=system).first()
    before = str(existing.system_share) if existing else str(fund.system_share)
    FundSystemShare.objects.update_or_create(
        fund=fund, system=system, defaults={"system_share": share}
    )
    audit_record(action="fund.system_share_chosen", actor=actor, system=system, obj=fund,
                 before=before, after=str(share))  # fmt: skip
    request_recalculation(round_id=fund.round_id, system_id=system.pk, trigger="fund share")


def default_eligible(plan_round: PlanningRound, system: System) -> set[str]:
    """By default the fund is for organisations with a deficit control total."""
    return set(
        ControlTotal.objects.filter(
            round=plan_round, organisation__system=system, amount__lt=0
        ).values_list("organisation__ods_code", flat=True)
    )


@transaction.atomic
def allocations_set(
    *, actor: User | None, fund: Fund, system: System, amounts: Mapping[str, Decimal | None]
) -> int:
    """Set (or clear, with None) indicative allocations of the system's organisations, all or
    none. Returns how many changed."""
    if actor is not None and not policy.can_set_allocations(actor, system):
        raise PermissionDenied("Allocations are set by the region's reviewers and administrators.")
    if actor is not None:
        policy.require_second_factor(actor, "set allocations")
    partners = {o.ods_code: o for o in Organisation.objects.filter(system=system)}
    problems = []
    for ods, amount in amounts.items():
        if ods not in partners:
            problems.append(f"{ods} is not in {system.name}.")
        elif amount is not None and not Decimal(0) <= amount < MAX_CONTROL_TOTAL:
            problems.append(f"{partners[ods].name}: an allocation is zero or more, under £100bn.")
    if problems:
        raise ValidationError(" ".join(problems))
    current = {
        a.organisation.ods_code: a
        for a in FundAllocation.objects.select_for_update()
        .filter(fund=fund, organisation__system=system)
        .select_related("organisation")
    }
    changed = 0
    for ods, amount in sorted(amounts.items()):
        row = current.get(ods)
        before = None if row is None else row.amount
        if before == amount:
            continue
        if amount is None:
            row.delete()  # type: ignore[union-attr]
        else:
            FundAllocation.objects.update_or_create(
                fund=fund, organisation=partners[ods], defaults={"amount": amount}
            )
        changed += 1
        audit_record(action="fund.allocation_set", actor=actor, organisation=partners[ods],
                     obj=fund, before=None if before is None else str(before),
                     after=None if amount is None else str(amount))  # fmt: skip
    if changed:
        request_recalculation(round_id=fund.round_id, system_id=system.pk, trigger="allocations")
    return changed


@transaction.atomic
def release_propose(
    *, actor: User, fund: Fund, organisation: Organisation, quarter: int, reason: str
) -> DiscretionaryRelease:
    if not policy.can_propose_release(actor, organisation.system):
        raise PermissionDenied("Only the system lead can propose a discretionary release.")
    policy.require_second_factor(actor, "propose a discretionary release")
    if quarter not in (1, 2, 3, 4):
        raise ValidationError("Choose a quarter from 1 to 4.")
    if not reason.strip():
        raise ValidationError("Give the reason for releasing the system-tied share.")
    if not FundAllocation.objects.filter(fund=fund, organisation=organisation).exists():
        raise ValidationError(f"{organisation.name} has no allocation from the fund.")
    try:
        with transaction.atomic():
            release = DiscretionaryRelease.objects.create(
                fund=fund, organisation=organisation, quarter=quarter, reason=reason.strip(),
                proposed_by=actor,
            )  # fmt: skip
    except IntegrityError:
        raise ValidationError(
            f"There is already a release for {organisation.name} in Q{quarter}, awaiting the "
            "region or agreed."
        ) from None
    audit_record(action="fund.release_proposed", actor=actor, organisation=organisation,
                 obj=release, reason=release.reason, payload={"quarter": quarter})  # fmt: skip
    return release


@transaction.atomic
def release_decide(
    *, actor: User, release: DiscretionaryRelease, agreed: bool, note: str = ""
) -> DiscretionaryRelease:
    release = (
        DiscretionaryRelease.objects.select_for_update()
        .select_related("organisation__system", "fund")
        .get(pk=release.pk)
    )
    system = release.organisation.system
    if not policy.can_decide_release(actor, system):
        raise PermissionDenied("Only the region's reviewers can agree a discretionary release.")
    policy.require_second_factor(actor, "agree or refuse a discretionary release")
    if release.status != DiscretionaryRelease.Status.PROPOSED:
        raise ValidationError(f"This release is already {release.get_status_display().lower()}.")
    if not agreed and not note.strip():
        raise ValidationError("Say why the release is refused.")
    release.status = (
        DiscretionaryRelease.Status.AGREED if agreed else DiscretionaryRelease.Status.REFUSED
    )
    release.decided_by, release.decided_at = actor, timezone.now()
    release.decision_note = note.strip()
    release.save()
    audit_record(action=f"fund.release_{release.status}", actor=actor,
                 organisation=release.organisation, obj=release, reason=release.decision_note,
                 payload={"quarter": release.quarter})  # fmt: skip
    if agreed:
        request_recalculation(round_id=release.fund.round_id, system_id=system.pk,
                              trigger="release agreed")  # fmt: skip
    return release


@transaction.atomic
def release_withdraw(*, actor: User, release: DiscretionaryRelease) -> DiscretionaryRelease:
    release = DiscretionaryRelease.objects.select_for_update().get(pk=release.pk)
    system = release.organisation.system
    if not policy.can_propose_release(actor, system):
        raise PermissionDenied("Only the system lead can withdraw a release.")
    # Once the region has agreed, the release stands: the lead alone cannot undo it.
    if release.status != DiscretionaryRelease.Status.PROPOSED:
        raise ValidationError(f"This release is already {release.get_status_display().lower()}.")
    was_agreed = False
    release.status = DiscretionaryRelease.Status.WITHDRAWN
    release.save(update_fields=["status"])
    audit_record(action="fund.release_withdrawn", actor=actor, organisation=release.organisation,
                 obj=release, payload={"quarter": release.quarter})  # fmt: skip
    if was_agreed:
        request_recalculation(round_id=release.fund.round_id, system_id=system.pk,
                              trigger="release withdrawn")  # fmt: skip
    return release
