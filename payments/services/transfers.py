"""Transfers between partners' control totals: proposed, agreed or refused by every party,
withdrawn. Each write is one transaction, checks the policy and is audited; a transfer
changes control totals only when every party has agreed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts import policy
from accounts.models import Organisation, System
from notifications import occasions
from openbook.audit import audit_record
from payments.calculations.control_totals import (
    Move,
    TransferProblem,
    apply_transfer,
    check_transfer,
    system_control_total,
)
from payments.models import ControlTotal, Transfer, TransferDecision, TransferLine
from payments.selectors import current_control_totals
from payments.services.control_totals import MAX_CONTROL_TOTAL, amount_text
from payments.services.recalculation import request_recalculation
from plans.models import PlanningRound
from webhooks import services as webhooks
from webhooks.models import Event

if TYPE_CHECKING:
    from accounts.models import User


def _open(plan_round: PlanningRound, now: dt.datetime | None) -> None:
    if (now or timezone.now()) > plan_round.final_deadline:
        raise ValidationError("Transfers close at the round's final deadline, which has passed.")


def _party_for(
    actor: User, transfer: Transfer, organisation: Organisation | None
) -> Organisation | None:
    """Which party the person decides for now: the one named, or the first of theirs that has
    not decided yet."""
    parties = policy.transfer_parties(actor, transfer)
    if organisation is not None:
        if organisation not in parties:
            raise PermissionDenied("You can decide only for an organisation you approve for.")
        return organisation
    if not parties:
        raise PermissionDenied(
            "Only the approvers of the organisations involved and the system lead decide."
        )
    decided = set(transfer.decisions.values_list("organisation_id", flat=True))
    undecided = [p for p in parties if (p.pk if p else None) not in decided]
    return undecided[0] if undecided else parties[0]


def undecided_parties_for(actor: User, transfer: Transfer) -> list[Organisation | None]:
    """The parties this person may still agree or refuse for (None: as the system lead);
    none once the round's final deadline has passed, when transfers close."""
    if transfer.status != Transfer.Status.PROPOSED:
        return []
    if timezone.now() > transfer.round.final_deadline:
        return []
    decided = {d.organisation_id for d in transfer.decisions.all()}
    return [
        p for p in policy.transfer_parties(actor, transfer) if (p.pk if p else None) not in decided
    ]


@transaction.atomic
def transfer_propose(
    *,
    actor: User,
    plan_round: PlanningRound,
    system: System,
    moves: list[tuple[str, Decimal]],
    reason: str,
    now: dt.datetime | None = None,
) -> Transfer:
    """Propose moving control total between partners (net-neutral, before the deadline).
    The proposer's own side (their organisation, or the lead) counts as agreed."""
    if not policy.can_propose_transfer(actor, system):
        raise PermissionDenied("Transfers are proposed by the system lead or a partner's approver.")
    _open(plan_round, now)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Say why the control totals should move."})
    lines = [Move(ods.upper(), amount) for ods, amount in moves]
    if any(abs(line.amount) >= MAX_CONTROL_TOTAL for line in lines):
        raise ValidationError("A transfer amount must be under £100bn (entered in £000).")
    try:
        check_transfer(lines, current_control_totals(plan_round, system))
    except TransferProblem as exc:
        raise ValidationError(str(exc)) from exc
    partners = {o.ods_code: o for o in system.organisations.all()}
    parties = [partners[line.organisation] for line in lines]
    if not policy.can_propose_transfer_between(actor, system, parties):
        raise PermissionDenied(
            "An approver proposes only transfers its own organisation takes part in; the "
            "system lead proposes between any partners."
        )
    # Proposing agrees to it for the proposer's side.
    policy.require_second_factor(actor, "propose a transfer")
    transfer = Transfer.objects.create(
        round=plan_round, system=system, proposed_by=actor, reason=reason
    )
    TransferLine.objects.bulk_create(
        TransferLine(
            transfer=transfer, organisation=partners[line.organisation], amount=line.amount
        )
        for line in lines
    )
    audit_record(
        action="transfer.proposed",
        actor=actor,
        system=system,
        obj=transfer,
        after={"lines": {line.organisation: str(line.amount) for line in lines}},
        reason=reason,
    )
    # Proposing is agreeing, for every party the proposer speaks for.
    for party in policy.transfer_parties(actor, transfer):
        if transfer.status == Transfer.Status.PROPOSED:
            _decide(actor, transfer, party, True, "Proposed by this party.", now)
    if transfer.status == Transfer.Status.PROPOSED:
        decided = set(transfer.decisions.values_list("organisation_id", flat=True))
        waiting = [line.organisation for line in transfer.lines.select_related("organisation")
                   if line.organisation_id not in decided]  # fmt: skip
        occasions.transfer_to_agree(
            actor, transfer, waiting + ([None] if None not in decided else [])
        )
    return transfer


def _decide(
    actor: User, transfer: Transfer, party: Organisation | None, agreed: bool, reason: str, now
) -> Transfer:
    if TransferDecision.objects.filter(transfer=transfer, organisation=party).exists():
        raise ValidationError("This party has already decided.")
    TransferDecision.objects.create(
        transfer=transfer, organisation=party, decided_by=actor, agreed=agreed, reason=reason
    )
    audit_record(
        action="transfer.agreed_by_party" if agreed else "transfer.refused",
        actor=actor,
        system=transfer.system,
        organisation=party,
        obj=transfer,
        reason=reason,
        payload={"party": party.ods_code if party else "system lead"},
    )
    if not agreed:
        transfer.status = Transfer.Status.REFUSED
        transfer.decided_at = now or timezone.now()
        transfer.save(update_fields=["status", "decided_at"])
        return transfer
    needed = set(transfer.lines.values_list("organisation_id", flat=True)) | {None}
    agreed_by = set(
        transfer.decisions.filter(agreed=True).values_list("organisation_id", flat=True)
    )
    if needed <= agreed_by:
        _apply(actor, transfer, now)
    return transfer


def _apply(actor: User, transfer: Transfer, now) -> None:
    """Every party agreed: move the control totals, together, and record it."""
    rows = {
        ct.organisation_id: ct
        for ct in ControlTotal.objects.select_for_update().filter(
            round=transfer.round, organisation__system=transfer.system
        )
    }
    before = current_control_totals(transfer.round, transfer.system)
    lines = [
        Move(line.organisation.ods_code, line.amount)
        for line in transfer.lines.select_related("organisation")
    ]
    try:
        after = apply_transfer(lines, before)
    except TransferProblem as exc:
        raise ValidationError(f"The transfer can no longer be applied: {exc}") from exc
    for line in transfer.lines.all():
        row = rows[line.organisation_id]
        row.amount = after[line.organisation.ods_code]
        row.updated_by = actor
        row.save(update_fields=["amount", "updated_by", "updated_at"])
    transfer.status = Transfer.Status.AGREED
    transfer.decided_at = now or timezone.now()
    transfer.save(update_fields=["status", "decided_at"])
    request_recalculation(
        round_id=transfer.round_id, system_id=transfer.system_id, trigger="transfer.applied"
    )
    audit_record(
        action="transfer.applied",
        actor=actor,
        system=transfer.system,
        obj=transfer,
        before={line.organisation: amount_text(before[line.organisation]) for line in lines},
        after={line.organisation: amount_text(after[line.organisation]) for line in lines},
        payload={"system_control_total": amount_text(system_control_total(after))},
    )
    r, s = transfer.round, transfer.system
    webhooks.emit(
        Event.TRANSFER_APPLIED,
        s,
        {"round": r.slug, "transfer": transfer.pk, "reason": transfer.reason, "unit": "£000",
         "lines": [{"organisation": m.organisation, "amount": amount_text(m.amount),
                    "control_total_before": amount_text(before[m.organisation]),
                    "control_total_after": amount_text(after[m.organisation])} for m in lines],
         "system_control_total": amount_text(system_control_total(after))},
        links={"page": reverse("control_totals", args=[r.slug, s.code])
               + f"#transfer-{transfer.pk}",
               "api": reverse("api_transfer_detail", args=[r.slug, s.code, transfer.pk])},
    )  # fmt: skip


@transaction.atomic
def transfer_decide(
    *,
    actor: User,
    transfer: Transfer,
    agreed: bool,
    reason: str = "",
    organisation: Organisation | None = None,
    now: dt.datetime | None = None,
) -> Transfer:
    """An involved organisation's approver, or the system lead, agrees or refuses."""
    transfer = Transfer.objects.select_for_update().get(pk=transfer.pk)
    if transfer.status != Transfer.Status.PROPOSED:
        raise ValidationError(f"This transfer is already {transfer.get_status_display().lower()}.")
    _open(transfer.round, now)
    party = _party_for(actor, transfer, organisation)
    policy.require_second_factor(actor, "agree or refuse a transfer")
    if not agreed and not reason.strip():
        raise ValidationError({"reason": "Say why you refuse the transfer."})
    return _decide(actor, transfer, party, agreed, reason.strip(), now)


@transaction.atomic
def transfer_withdraw(*, actor: User, transfer: Transfer) -> Transfer:
    transfer = Transfer.objects.select_for_update().get(pk=transfer.pk)
    if transfer.proposed_by_id != actor.pk:
        raise PermissionDenied("Only the person who proposed a transfer can withdraw it.")
    if transfer.status != Transfer.Status.PROPOSED:
        raise ValidationError(f"This transfer is already {transfer.get_status_display().lower()}.")
    transfer.status = Transfer.Status.WITHDRAWN
    transfer.decided_at = timezone.now()
    transfer.save(update_fields=["status", "decided_at"])
    audit_record(action="transfer.withdrawn", actor=actor, system=transfer.system, obj=transfer)
    return transfer
