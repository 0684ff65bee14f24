"""The system plan's journey to the region: the lead submits a snapshot with a narrative; the
region's reviewer approves it or returns it with reasons; both can comment."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from accounts import policy
from accounts.models import System
from notifications import occasions
from openbook import numbers
from openbook.audit import audit_record
from plans.calculations import MONTHS
from plans.evidence import snapshot_concerns
from plans.models import PlanningRound, SystemComment, SystemSubmission, SystemVersion

if TYPE_CHECKING:
    from accounts.models import User
    from plans.system_plan import SystemPlan


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


SNAPSHOT_FORMAT = 2  # 2: money lines' years and each partner's figures' digest; awaiting pairs


def _partner_digest(plan: Any) -> str:
    """A fingerprint of everything one partner planned for the year (by line and counterparty):
    it changes when any of its figures does, even where its surplus does not."""
    figures = {
        "annual": {code: str(value) for code, value in sorted(plan.annual.items())},
        "by_counterparty": sorted(
            [code, cp, str(value)] for (code, cp), value in plan.by_counterparty.items()
        ),
    }
    return hashlib.sha256(json.dumps(figures, sort_keys=True).encode()).hexdigest()


def snapshot(plan: SystemPlan) -> dict[str, Any]:
    """The collated plan as plain JSON: what the region is asked to approve."""
    c = plan.consolidated
    money = [line for _, lines in plan.sections for line in lines if line.unit == "gbp000"]
    return {
        "format": SNAPSHOT_FORMAT,
        "lines": {
            line.code: [line.label, _money(plan.year(line.code))]
            for line in money
            if line.code in plan.rows
        },
        "partners": {p.ods_code: _partner_digest(p) for p in plan.plans},
        "organisations": [
            {
                "ods_code": s.organisation.ods_code,
                "name": s.organisation.name,
                "state": s.state,
                "late": s.late,
            }
            for s in plan.statuses
        ],
        "surplus_by_organisation": {k: _money(v) for k, v in plan.surplus_by_organisation.items()},
        "system_surplus": _money(sum(plan.surplus_by_organisation.values(), Decimal(0))),
        "consolidated": {
            str(m): {
                "income": _money(c.income[m]),
                "expenditure": _money(c.expenditure[m]),
                "eliminated": _money(c.eliminated[m]),
                "surplus": _money(c.surplus_after[m]),
            }
            for m in MONTHS
        },
        "mismatches": [
            {
                "measure": p.measure,
                "provider": p.provider,
                "commissioner": p.commissioner,
                "difference": _money(p.difference),
            }
            for p in plan.flagged
        ],
        # What the reviewer must acknowledge besides mismatches (added in format 2's life:
        # older snapshots have none recorded).
        "pay_flags": [
            {
                "ods_code": c.ods_code,
                "group": c.group,
                "pay": _money(c.pay),
                "wte": _money(c.wte),
                "per_wte": _money(c.per_wte),
            }  # fmt: skip
            for c in plan.pay_checks
            if c.flagged
        ],
    }


def snapshot_changes(sent: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """What differs between a snapshot sent to the region and the plan as it is now, in
    words: the system and each partner's surplus, where each plan stands, each money line's
    year, any partner whose figures moved without its surplus or standing changing, and the
    number of mismatches."""
    changes = []

    def money(value: str | None) -> str:
        return "none" if value is None else numbers.amount(value)

    if sent.get("system_surplus") != now.get("system_surplus"):
        changes.append(
            f"System surplus/(deficit): {money(sent.get('system_surplus'))} then, "
            f"{money(now.get('system_surplus'))} now."
        )
    then_by, now_by = (
        sent.get("surplus_by_organisation", {}),
        now.get("surplus_by_organisation", {}),
    )
    names = {o["ods_code"]: o["name"] for o in sent.get("organisations", []) + now.get(
        "organisations", [])}  # fmt: skip
    for ods in sorted(set(then_by) | set(now_by)):
        if then_by.get(ods) != now_by.get(ods):
            changes.append(
                f"{names.get(ods, ods)}: {money(then_by.get(ods))} then, "
                f"{money(now_by.get(ods))} now."
            )
    told = {ods for ods in set(then_by) | set(now_by) if then_by.get(ods) != now_by.get(ods)}
    then_state = {o["ods_code"]: o["state"] for o in sent.get("organisations", [])}
    for o in now.get("organisations", []):
        before = then_state.get(o["ods_code"])
        if before is not None and before != o["state"]:
            changes.append(f"{o['name']}'s plan: {before} then, {o['state']} now.")
            told.add(o["ods_code"])
    then_lines, now_lines = sent.get("lines"), now.get("lines")
    if then_lines is not None and now_lines is not None:
        for code in sorted(set(then_lines) | set(now_lines)):
            before, after = then_lines.get(code, [None, None]), now_lines.get(code, [None, None])
            if before[1] != after[1]:
                changes.append(
                    f"{after[0] or before[0]} ({code}): {money(before[1])} then, "
                    f"{money(after[1])} now (the system's year)."
                )
    then_partners, now_partners = sent.get("partners"), now.get("partners")
    if then_partners is not None and now_partners is not None:
        for ods in sorted((set(then_partners) & set(now_partners)) - told):
            if then_partners[ods] != now_partners[ods]:
                changes.append(f"{names.get(ods, ods)}: its plan's figures have changed.")
    # Snapshots before format 2 counted a pair awaiting a plan as a mismatch: not comparable.
    if sent.get("format", 1) == now.get("format", 1):
        then_n, now_n = len(sent.get("mismatches", [])), len(now.get("mismatches", []))
        if then_n != now_n:
            changes.append(f"Mismatches: {then_n} then, {now_n} now.")
    return changes


def changes_since_sent(plan: SystemPlan) -> tuple[SystemVersion | None, list[str]]:
    """The last version sent to the region, and what has changed in the plan since."""
    latest = (
        SystemVersion.objects.filter(submission__round=plan.round, submission__system=plan.system)
        .order_by("-number")
        .first()
    )
    return latest, snapshot_changes(latest.snapshot, snapshot(plan)) if latest else []


@transaction.atomic
def system_plan_submit(*, actor: User, plan: SystemPlan, narrative: str) -> SystemVersion:
    """The system lead sends the collated plan to the region, as a new immutable version: the
    first time, after the region returns it, or after it was approved if the figures have
    changed since (the region then reviews it again)."""
    system, plan_round = plan.system, plan.round
    if not policy.can_submit_system_plan(actor, system):
        raise PermissionDenied("Only the system lead can submit the system plan.")
    policy.require_second_factor(actor, "submit the system plan")
    narrative = narrative.strip()
    if not narrative:
        raise ValidationError(
            {"narrative": "Write a narrative: what the plan delivers and its risks."}
        )
    submission = (
        SystemSubmission.objects.select_for_update().filter(round=plan_round, system=system).first()
    )
    replaces = None
    if submission is not None and submission.status == SystemSubmission.Status.APPROVED:
        replaces, changes = changes_since_sent(plan)
        if replaces is not None and not changes:
            raise ValidationError(
                f"The region approved version {replaces.number} and nothing has changed since: "
                "there is nothing new to send."
            )
    elif submission is not None and submission.status != SystemSubmission.Status.RETURNED:
        raise ValidationError(
            f"The system plan is already {submission.get_status_display().lower()}; "
            "it can be submitted again once the region returns it."
        )
    if submission is None:
        try:
            with transaction.atomic():
                submission = SystemSubmission.objects.create(
                    round=plan_round, system=system, status=SystemSubmission.Status.SUBMITTED
                )
        except IntegrityError:
            # Someone submitted the first version a moment ago.
            raise ValidationError(
                "The system plan was submitted to the region a moment ago by someone else."
            ) from None
    number = (
        submission.versions.order_by("-number").values_list("number", flat=True).first() or 0
    ) + 1
    data = snapshot(plan)
    version = SystemVersion.objects.create(
        submission=submission, number=number, narrative=narrative, snapshot=data, created_by=actor
    )
    submission.status = SystemSubmission.Status.SUBMITTED
    submission.save(update_fields=["status", "updated_at"])
    occasions.system_plan_sent(actor, submission, number)
    audit_record(
        action="system_plan.submitted",
        actor=actor,
        system=system,
        obj=submission,
        after={
            "version": number,
            "system_surplus": data["system_surplus"],
            "mismatches": len(data["mismatches"]),
        },
        reason=(
            f"replaces version {replaces.number}, approved: the figures changed since"
            if replaces is not None
            else ""
        ),
    )
    return version


def _reviewing(actor: User, plan_round: PlanningRound, system: System) -> SystemSubmission:
    if not policy.can_review_system_plan(actor, system):
        raise PermissionDenied("Only the region's reviewers can approve or return a system plan.")
    policy.require_second_factor(actor, "approve or return a system plan")
    submission = (
        SystemSubmission.objects.select_for_update().filter(round=plan_round, system=system).first()
    )
    if submission is None or submission.status != SystemSubmission.Status.SUBMITTED:
        raise ValidationError("Only a submitted system plan can be approved or returned.")
    return submission


@transaction.atomic
def system_plan_approve(
    *, actor: User, plan_round: PlanningRound, system: System, note: str = ""
) -> SystemSubmission:
    """The regional reviewer approves the system plan; one sent with mismatches or pay flags
    only with a note saying why."""
    submission = _reviewing(actor, plan_round, system)
    note = note.strip()
    version = submission.versions.order_by("-number").first()
    concerns = snapshot_concerns(version.snapshot) if version else ""
    if concerns and not note:
        raise ValidationError(
            {"note": f"This system plan has {concerns}. Say why you are approving it with them."}
        )
    submission.status = SystemSubmission.Status.APPROVED
    submission.save(update_fields=["status", "updated_at"])
    if note:
        SystemComment.objects.create(
            submission=submission, author=actor, kind=SystemComment.Kind.APPROVAL, body=note
        )
    audit_record(
        action="system_plan.approved",
        actor=actor,
        system=system,
        obj=submission,
        after={"version": version.number if version else None},
        reason=note,
    )
    return submission


@transaction.atomic
def system_plan_return(
    *, actor: User, plan_round: PlanningRound, system: System, reason: str
) -> SystemSubmission:
    """The regional reviewer returns the system plan with reasons; the lead can resubmit."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Say why the system plan is being returned."})
    submission = _reviewing(actor, plan_round, system)
    submission.status = SystemSubmission.Status.RETURNED
    submission.save(update_fields=["status", "updated_at"])
    comment = SystemComment.objects.create(
        submission=submission, author=actor, kind=SystemComment.Kind.RETURN_REASON, body=reason
    )
    audit_record(
        action="system_plan.returned", actor=actor, system=system, obj=submission, reason=reason
    )
    occasions.system_plan_returned(actor, submission, reason, comment.pk)
    return submission


@transaction.atomic
def system_comment_add(
    *, actor: User, plan_round: PlanningRound, system: System, body: str
) -> SystemComment:
    if not policy.can_comment_system_plan(actor, system):
        raise PermissionDenied(
            "Only the system lead and the region's reviewers comment on the system plan."
        )
    body = body.strip()
    if not body:
        raise ValidationError({"body": "Write a comment first."})
    submission = SystemSubmission.objects.filter(round=plan_round, system=system).first()
    if submission is None:
        raise ValidationError("The system plan has not been submitted to the region yet.")
    comment = SystemComment.objects.create(submission=submission, author=actor, body=body)
    audit_record(action="system_plan.comment_added", actor=actor, system=system, obj=comment)
    return comment
