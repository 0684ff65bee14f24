"""Submit, accept, return, recall, and comments on a submission."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from accounts import policy
from notifications import occasions
from openbook.audit import audit_record
from openbook.errors import Conflict, ProblemList
from payments.services.recalculation import request_recalculation
from plans import queries
from plans.evidence import submission_evidence
from plans.models import (
    Comment,
    Line,
    Narrative,
    Submission,
    TableRow,
    Value,
    Version,
)
from plans.readiness import readiness
from webhooks import services as webhooks
from webhooks.models import Event

if TYPE_CHECKING:
    from accounts.models import User

# --- workflow ---------------------------------------------------------------------------------


def _announce(event: Event, submission: Submission, **data) -> None:
    """Tell the system's webhooks what happened to the plan (after the commit)."""
    o, r = submission.organisation, submission.round
    webhooks.emit(
        event,
        o.system,
        {"round": r.slug, "organisation": o.ods_code, "organisation_name": o.name,
         "status": submission.status, **data},
        links={"page": reverse("plan_detail", args=[r.slug, o.ods_code]),
               "api": reverse("api_submission_detail", args=[r.slug, o.ods_code])},
    )  # fmt: skip


def _snapshot(draft: Version, new: Version) -> int:
    """Copy the draft's figures, narratives and tables into the new version, and add up each line's
    year for collation, set-based. Returns how many figures were copied."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {Value._meta.db_table} (version_id, line_id, counterparty_id, month, value)
            SELECT %s, line_id, counterparty_id, month, value
            FROM {Value._meta.db_table} WHERE version_id = %s
            """,  # noqa: S608  (table names from the models, values as parameters)
            [new.pk, draft.pk],
        )
        copied = cursor.rowcount
        # Each line's year, whole and by counterparty, in one row of arrays for collation.
        cursor.execute(
            """
            INSERT INTO plans_yeartotals
                (version_id, lines, totals, split_lines, split_counterparties, split_totals)
            SELECT %s,
                   COALESCE(array_agg(line_id) FILTER (WHERE whole), '{}'),
                   COALESCE(array_agg(total) FILTER (WHERE whole), '{}'),
                   COALESCE(array_agg(line_id) FILTER (WHERE NOT whole), '{}'),
                   COALESCE(array_agg(counterparty_id) FILTER (WHERE NOT whole), '{}'),
                   COALESCE(array_agg(total) FILTER (WHERE NOT whole), '{}')
            FROM (
                SELECT line_id, counterparty_id, SUM(value) AS total,
                       GROUPING(counterparty_id) = 1 AS whole
                FROM plans_value WHERE version_id = %s
                GROUP BY GROUPING SETS ((line_id, counterparty_id), (line_id))
                HAVING GROUPING(counterparty_id) = 1 OR counterparty_id IS NOT NULL
            ) AS year
            """,
            [new.pk, new.pk],
        )
        cursor.execute(
            f"""
            INSERT INTO {Narrative._meta.db_table} (version_id, section_id, text)
            SELECT %s, section_id, text FROM {Narrative._meta.db_table} WHERE version_id = %s
            """,  # noqa: S608
            [new.pk, draft.pk],
        )
        cursor.execute(
            f"""
            INSERT INTO {TableRow._meta.db_table} (version_id, section_id, position, fields,
                                                   amounts)
            SELECT %s, section_id, position, fields, amounts
            FROM {TableRow._meta.db_table} WHERE version_id = %s
            """,  # noqa: S608
            [new.pk, draft.pk],
        )
    return copied


def _numbers_moved(submission: Submission, trigger: str) -> None:
    """The system's figures changed: recalculate when this transaction commits."""

    request_recalculation(
        round_id=submission.round_id, system_id=submission.organisation.system_id, trigger=trigger
    )


def _lock(submission: Submission) -> Submission:
    return (
        Submission.objects.select_for_update()
        .select_related("organisation", "round")
        .get(pk=submission.pk)
    )


@transaction.atomic
def submission_submit(
    *,
    actor: User,
    submission: Submission,
    board_approval_date: dt.date,
    confirmed: bool,
    late_reason: str = "",
    now: dt.datetime | None = None,
) -> Version:
    """An approver submits the draft on the board's behalf: it is frozen as a new version."""
    submission = _lock(submission)
    if not policy.can_submit(actor, submission.organisation):
        raise PermissionDenied("Only the organisation's approvers can submit its plan.")
    policy.require_second_factor(actor, "submit the plan")
    if not submission.is_editable:
        raise ValidationError(f"The plan is already {submission.get_status_display().lower()}.")
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}
    if not confirmed:
        errors["confirmed"] = ["Confirm that the board has approved this plan."]
    if board_approval_date is None:
        errors["board_approval_date"] = ["Enter the date the board approved the plan."]
    elif board_approval_date > timezone.localdate(now):
        errors["board_approval_date"] = ["The board approval date cannot be in the future."]
    late = now > submission.round.final_deadline
    late_reason = late_reason.strip()
    if late and not late_reason:
        errors["late_reason"] = ["The final deadline has passed: say why the plan is late."]
    if errors:
        raise ValidationError(errors)
    draft = Version.objects.select_for_update().get(submission=submission, number=0)
    blockers = readiness(submission, draft).blockers
    if blockers:
        raise ProblemList(
            "The plan is not complete, so it was not submitted.",
            [{"cell": b.section.name, "value": "", "problem": b.message} for b in blockers],
        )
    last = submission.versions.order_by("-number").values_list("number", flat=True).first() or 0
    new = Version.objects.create(
        submission=submission,
        number=last + 1,
        created_by=actor,
        board_approval_date=board_approval_date,
        late=late,
        late_reason=late_reason,
        revision=draft.revision,
    )
    values = _snapshot(draft, new)
    submission.status = Submission.Status.SUBMITTED
    submission.save(update_fields=["status", "updated_at"])
    if late:
        Comment.objects.create(
            submission=submission, author=actor, kind=Comment.Kind.LATE_REASON, body=late_reason
        )
    previous = submission.versions.get(number=last).pk if last else None
    changed, changes = queries.changes_between(previous, new.pk, limit=500)
    _numbers_moved(submission, "submission.submitted")
    audit_record(
        action="submission.submitted",
        actor=actor,
        organisation=submission.organisation,
        obj=submission,
        after={
            "version": new.number,
            "board_approval_date": board_approval_date.isoformat(),
            "late": late,
            "values": values,
        },
        payload={
            "cells_changed_since_last_version": changed,
            "changes": [
                [
                    c.key[0],
                    c.key[1],
                    c.key[2],
                    str(c.before) if c.before is not None else None,
                    str(c.after) if c.after is not None else None,
                ]
                for c in changes
            ],
        },
        reason=late_reason,
    )
    occasions.plan_submitted(actor, submission, new.number)
    _announce(Event.PLAN_SUBMITTED, submission, version=new.number, late=late)
    return new


def _decide(actor: User, submission: Submission) -> Submission:
    submission = _lock(submission)
    if not policy.can_decide_submission(actor, submission.organisation):
        if policy.can_view_submitted(actor, submission.organisation):
            raise PermissionDenied("Only the system lead can accept or return a submission.")
        raise PermissionDenied("Not allowed.")
    policy.require_second_factor(actor, "accept or return a plan")
    if submission.status != Submission.Status.SUBMITTED:
        raise ValidationError(
            "Only a submitted plan can be accepted or returned; "
            f"this one is {submission.get_status_display().lower()}."
        )
    return submission


@transaction.atomic
def submission_accept(
    *, actor: User, submission: Submission, note: str = "", version: int | None = None
) -> Submission:
    """The system lead accepts the submitted plan into the system plan. A plan with
    agreement-of-balances mismatches or pay-per-WTE flags is accepted only with a note saying
    why: it is kept as a comment on the plan and in the audit trail. `version`, when given, is
    the version the lead looked at: if the plan has been resubmitted since, nothing happens."""
    submission = _decide(actor, submission)
    if version is not None:
        latest = submission.versions.order_by("-number").values_list("number", flat=True).first()
        if latest != version:
            raise Conflict(
                f"The plan is now version {latest}, not version {version} that you looked at. "
                f"Nothing was accepted: look at version {latest}, then decide."
            )
    note = note.strip()
    evidence = submission_evidence(submission)
    if evidence.concerns and not note:
        raise ValidationError(
            {
                "note": f"This plan has {evidence.concern_summary}. "
                "Say why you are accepting it with them."
            }
        )
    submission.status = Submission.Status.ACCEPTED
    submission.save(update_fields=["status", "updated_at"])
    accepted = submission.versions.order_by("-number").first()
    if note:
        Comment.objects.create(
            submission=submission, author=actor, kind=Comment.Kind.ACCEPT_NOTE, body=note
        )
    _numbers_moved(submission, "submission.accepted")
    audit_record(
        action="submission.accepted",
        actor=actor,
        organisation=submission.organisation,
        obj=submission,
        after={
            "version": accepted.number if accepted else None,
            "mismatches": len(evidence.mismatches),
            "pay_flags": len(evidence.pay_flags),
        },
        reason=note,
    )
    _announce(Event.PLAN_ACCEPTED, submission, version=accepted.number if accepted else None)
    return submission


@transaction.atomic
def submission_return(*, actor: User, submission: Submission, reason: str) -> Submission:
    """The system lead returns the plan with a reason; it goes back to draft."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Say why the plan is being returned."})
    submission = _decide(actor, submission)
    submission.status = Submission.Status.RETURNED
    submission.save(update_fields=["status", "updated_at"])
    comment = Comment.objects.create(
        submission=submission, author=actor, kind=Comment.Kind.RETURN_REASON, body=reason
    )
    _numbers_moved(submission, "submission.returned")
    audit_record(
        action="submission.returned",
        actor=actor,
        organisation=submission.organisation,
        obj=submission,
        reason=reason,
    )
    occasions.plan_returned(actor, submission, reason, comment.pk)
    _announce(Event.PLAN_RETURNED, submission, reason=reason)
    return submission


@transaction.atomic
def submission_recall(
    *, actor: User, submission: Submission, now: dt.datetime | None = None
) -> Submission:
    """An approver takes the plan back before the system lead acts and before the deadline."""
    submission = _lock(submission)
    if not policy.can_submit(actor, submission.organisation):
        raise PermissionDenied("Only the organisation's approvers can recall its plan.")
    policy.require_second_factor(actor, "recall the plan")
    if submission.status != Submission.Status.SUBMITTED:
        raise ValidationError(
            "Only a submitted plan that the system lead has not acted on can be recalled."
        )
    if (now or timezone.now()) > submission.round.final_deadline:
        raise ValidationError(
            "The final deadline has passed, so the plan can no longer be recalled."
        )
    submission.status = Submission.Status.DRAFT
    submission.save(update_fields=["status", "updated_at"])
    _numbers_moved(submission, "submission.recalled")
    audit_record(
        action="submission.recalled",
        actor=actor,
        organisation=submission.organisation,
        obj=submission,
    )
    return submission


@transaction.atomic
def comment_add(
    *,
    actor: User,
    submission: Submission,
    body: str,
    line_code: str | None = None,
    parent: Comment | None = None,
) -> Comment:
    """A comment on the submission or one of its lines, or a reply in a thread."""
    if not policy.can_comment(actor, submission.organisation):
        raise PermissionDenied("Viewers can read comments but not write them.")
    body = body.strip()
    if not body:
        raise ValidationError({"body": "Write a comment first."})
    if len(body) > 5000:
        raise ValidationError({"body": "A comment can be at most 5,000 characters."})
    line = None
    if line_code:
        line = Line.objects.filter(
            section__template_version_id=submission.round.template_version_id, code=line_code
        ).first()
        if line is None:
            raise ValidationError({"line": f"There is no line {line_code} in this template."})
    if parent is not None and parent.submission_id != submission.pk:
        raise ValidationError({"parent": "You can only reply to a comment on the same plan."})
    comment = Comment.objects.create(
        submission=submission, author=actor, body=body, line=line, parent=parent
    )
    audit_record(
        action="comment.added",
        actor=actor,
        organisation=submission.organisation,
        obj=comment,
        payload={
            "submission": submission.pk,
            "line": line_code,
            "parent": parent.pk if parent else None,
        },
    )
    return comment
