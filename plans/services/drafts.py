"""Changing the working draft: figures and narratives, all or nothing, never over
someone else's change."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from accounts import policy
from accounts.models import Organisation
from openbook.audit import audit_record
from openbook.errors import Conflict, ProblemList
from plans import calculations, frozen, selectors
from plans.cells import UNSET, CellInput
from plans.models import (
    DraftEdit,
    Line,
    Narrative,
    PlanningRound,
    Section,
    Submission,
    Value,
    Version,
)
from plans.services.writes import _edit_record, _provided_into, _record_history, _upsert

if TYPE_CHECKING:
    from accounts.models import User

# --- drafts -----------------------------------------------------------------------------------


@dataclass
class SaveResult:
    changed: int
    revision: int
    cells: dict[calculations.CellKey, Decimal | None] = field(default_factory=dict)


@transaction.atomic
def submission_start(
    *, actor: User, plan_round: PlanningRound, organisation: Organisation
) -> Submission:
    """The organisation's submission for the round, made (with an empty draft) on first use.
    One transaction, so a plan never exists without its draft; one left so by an older
    version's crash gets its draft here."""
    if not policy.can_prepare(actor, organisation):
        raise PermissionDenied(
            "Only the organisation's preparers and approvers can start its plan."
        )
    submission, created = Submission.objects.get_or_create(
        round=plan_round, organisation=organisation
    )
    draft, new_draft = Version.objects.get_or_create(
        submission=submission, number=0, defaults={"created_by": actor}
    )
    if new_draft:
        _provided_into(draft, submission)
    if created:
        audit_record(
            action="submission.started", actor=actor, organisation=organisation, obj=submission
        )
    return submission


def _locked_editable(actor: User, submission: Submission) -> Submission:
    """Lock the submission (the same order submit uses) and check it can still change, so an
    edit can never slip into a plan that was submitted a moment ago."""
    locked = (
        Submission.objects.select_for_update()
        .select_related("organisation", "round")
        .get(pk=submission.pk)
    )
    _editable(actor, locked)
    return locked


def _editable(actor: User, submission: Submission) -> None:
    if not policy.can_edit_draft(actor, submission.organisation):
        raise PermissionDenied(
            "Only the organisation's preparers and approvers can change its plan."
        )
    if not submission.is_editable:
        raise ValidationError(
            f"The plan is {submission.get_status_display().lower()}, so its figures cannot be "
            f"changed. {_what_now(submission)}"
        )


def _what_now(submission: Submission) -> str:
    """What can be done about a plan that cannot be changed, as it stands: only what the
    workflow allows (an accepted plan can be neither recalled nor returned)."""
    if submission.status == Submission.Status.SUBMITTED:
        return (
            "An approver can recall it while the system lead has not acted on it, or the "
            "system lead can return it."
        )
    if submission.status == Submission.Status.ACCEPTED:
        return (
            "It is accepted into the system plan, so it can no longer be recalled or returned: "
            "raise the change with the system lead in a comment on the plan."
        )
    return "Ask the system lead what can be done."


def _line_index(submission: Submission) -> dict[str, Line]:
    lines, _ = frozen.kind_lines(submission.round.template_version_id, submission.organisation.kind)
    return {line.code: line for line in lines if line.section.kind == Section.Kind.GRID}


def _resolve_cells(
    submission: Submission, cells: Sequence[CellInput]
) -> list[tuple[CellInput, Line, int | None, Decimal | None, Any]]:
    """Check every cell; raise ProblemList naming each bad one, or return them resolved."""
    lines = _line_index(submission)
    counterparty_ids: dict[tuple, dict[str, int]] = {}
    problems: list[dict[str, Any]] = []
    resolved = []
    specs: dict[str, calculations.LineSpec] = {}
    seen: set[calculations.CellKey] = set()
    for cell in cells:

        def problem(message: str, cell: CellInput = cell) -> None:
            problems.append(
                {
                    "cell": cell.name(),
                    "value": "" if cell.value is None else str(cell.value),
                    "problem": message,
                }
            )

        line = lines.get(cell.line)
        if line is None:
            problem(f"there is no line {cell.line} in this organisation's template")
            continue
        if line.is_derived:
            problem("is worked out from other lines and cannot be entered")
            continue
        if line.fed_by:
            problem(f"is the {line.fed_by.replace('_', ' ')} added up: change the schemes")
            continue
        if line.provided:
            problem("is provided by the round's owner and cannot be changed in the plan")
            continue
        if not isinstance(cell.month, int) or not 1 <= cell.month <= 12:
            problem("the month must be 1 (April) to 12 (March)")
            continue
        counterparty_id = None
        if line.counterparty:
            partners = (line.counterparty, tuple(line.counterparty_kinds or ()))
            if partners not in counterparty_ids:
                counterparty_ids[partners] = {
                    o.ods_code: o.pk for o in selectors.partners_of(submission.organisation, line)
                }
            counterparty_id = counterparty_ids[partners].get((cell.counterparty or "").upper())
            if counterparty_id is None:
                which = (
                    " or ".join(
                        f"{Organisation.Kind(k).label.lower()}s" for k in line.counterparty_kinds
                    )
                    if line.counterparty_kinds
                    else f"{line.counterparty}s"
                )
                problem(
                    f"needs one of the system's {which} as counterparty, "
                    f"not {cell.counterparty or 'none'}"
                )
                continue
        elif cell.counterparty:
            problem("this line has no counterparty")
            continue
        key = (line.code, counterparty_id, cell.month)
        if key in seen:
            problem("is given twice")
            continue
        seen.add(key)
        try:
            value = calculations.parse_value(cell.value)
            expected = (
                cell.expected if cell.expected is UNSET else calculations.parse_value(cell.expected)
            )
        except calculations.ValueProblem as exc:
            problem(str(exc))
            continue
        if value is not None:
            if line.code not in specs:
                specs[line.code] = selectors.line_spec(line)
            why = calculations.check_value(specs[line.code], value)
            if why:
                problem(why)
                continue
        resolved.append((cell, line, counterparty_id, value, expected))
    if problems:
        count = len(problems)
        raise ProblemList(
            f"{count} value{'s' if count != 1 else ''} could not be accepted, "
            "so nothing was saved.",
            problems,
        )
    return resolved


@transaction.atomic
def draft_save(
    *,
    actor: User,
    submission: Submission,
    cells: Sequence[CellInput],
    source: str = "grid",
    resolved: list | None = None,
) -> SaveResult:
    """Set figures in the working draft: all or nothing, and never over someone else's change.

    Saving the same cells twice leaves the same state (the second save changes nothing).
    `resolved` is the result of checking `cells` already (an upload checks them first, to
    report every problem in the file together).
    """
    submission = _locked_editable(actor, submission)
    if resolved is None:
        resolved = _resolve_cells(submission, cells)
    draft = Version.objects.select_for_update().get(submission=submission, number=0)
    # What the touched lines hold now (a cell typed in the grid reads one line's figures,
    # not the whole plan's thousands).
    touched = {line.pk for _, line, _, _, _ in resolved}
    current: dict[tuple[int, int | None, int], tuple[int, Decimal]] = {
        (line_id, cp, month): (pk, value)
        for pk, line_id, cp, month, value in Value.objects.filter(
            version=draft, line_id__in=touched
        ).values_list("pk", "line_id", "counterparty_id", "month", "value")
    }
    conflicts = []
    upserts: list[tuple[int, int | None, int, Decimal]] = []
    deletes: list[int] = []
    changes: dict[calculations.CellKey, Decimal | None] = {}
    before_after = []
    history: list[tuple[int, int | None, int, Decimal | None, Decimal | None]] = []
    for cell, line, counterparty_id, value, expected in resolved:
        found = current.get((line.pk, counterparty_id, cell.month))
        pk, now = found if found is not None else (None, None)
        if now == value:
            continue
        if expected is not UNSET and expected != now:
            conflicts.append(
                {
                    "cell": cell.name(),
                    "yours": None if value is None else str(value),
                    "theirs": None if now is None else str(now),
                }
            )
            continue
        changes[(line.code, counterparty_id, cell.month)] = value
        history.append((line.pk, counterparty_id, cell.month, now, value))
        before_after.append(
            [cell.name(), None if now is None else str(now), None if value is None else str(value)]
        )
        if value is None:
            if pk is not None:  # always, as an empty cell left empty was skipped above
                deletes.append(pk)
        else:
            upserts.append((line.pk, counterparty_id, cell.month, value))
    if conflicts:
        raise Conflict(
            "Someone else changed "
            + ("this figure" if len(conflicts) == 1 else f"{len(conflicts)} of these figures")
            + " after you started. Nothing was saved: check their value and enter yours again.",
            conflicts,
        )
    if not changes:
        return SaveResult(changed=0, revision=draft.revision)
    if deletes:
        Value.objects.filter(pk__in=deletes).delete()
    if upserts:
        _upsert(draft, upserts)
    draft.revision += 1
    draft.save(update_fields=["revision"])
    event = audit_record(
        action="draft.saved",
        actor=actor,
        organisation=submission.organisation,
        obj=submission,
        payload={
            "source": source,
            "cells_changed": len(changes),
            "revision": draft.revision,
            # The cells themselves for an edit; a whole upload is summarised by its count.
            "changes": before_after if len(before_after) <= 50 else None,
        },
        private=True,  # draft figures: the organisation's own chain, not its partners'
    )
    edit = _edit_record(draft, actor, source, event)
    _record_history(edit, draft, history)
    return SaveResult(changed=len(changes), revision=draft.revision, cells=changes)


@transaction.atomic
def narrative_save(*, actor: User, submission: Submission, section_code: str, text: str) -> bool:
    """Set a narrative section's text in the draft. Returns whether anything changed."""
    submission = _locked_editable(actor, submission)
    section = Section.objects.filter(
        template_version_id=submission.round.template_version_id,
        code=section_code,
        kind=Section.Kind.NARRATIVE,
        kinds__contains=[submission.organisation.kind],
    ).first()
    if section is None:
        raise ValidationError(f"There is no narrative section {section_code!r} in this template.")
    text = text.strip()
    if len(text) > 20000:
        raise ValidationError("A narrative can be at most 20,000 characters.")
    draft = Version.objects.select_for_update().get(submission=submission, number=0)
    existing = Narrative.objects.filter(version=draft, section=section).first()
    if (existing.text if existing else "") == text:
        return False
    if existing is not None and not text:
        existing.delete()
    elif existing is not None:
        existing.text = text
        existing.save(update_fields=["text"])
    else:
        Narrative.objects.create(version=draft, section=section, text=text)
    draft.revision += 1
    draft.save(update_fields=["revision"])
    event = audit_record(
        action="draft.narrative_saved",
        actor=actor,
        organisation=submission.organisation,
        obj=submission,
        payload={"section": section.code, "characters": len(text), "revision": draft.revision},
        private=True,  # a draft is the organisation's own until it is submitted
    )
    _edit_record(draft, actor, DraftEdit.Source.NARRATIVE, event)
    return True


def spread_cells(
    *,
    submission: Submission,
    line_code: str,
    counterparty: str | None,
    total: object,
    profile: Version | None = None,
    expected: dict[int, object] | None = None,
) -> list[CellInput]:
    """The twelve cells that spread a year's total across a line's months: evenly, or in the
    profile of another version of the plan (its figures for the same line). Each cell is still
    checked when it is saved, like any other."""
    where = f"{line_code}{f' ({counterparty})' if counterparty else ''}, year total"

    def refused(message: str) -> ProblemList:
        return ProblemList(
            "The total could not be spread, so nothing was saved.",
            [{"cell": where, "value": "" if total is None else str(total), "problem": message}],
        )

    line = _line_index(submission).get(line_code)
    if line is None or line.is_derived:
        raise refused("is not a line figures can be entered in")
    try:
        amount = calculations.parse_value(total)
    except calculations.ValueProblem as exc:
        raise refused(str(exc)) from None
    if amount is None:
        raise refused("enter the total for the year")
    weights = None
    if profile is not None:
        counterparty_id = None
        if line.counterparty:
            counterparty_id = next(
                (
                    o.pk
                    for o in selectors.partners_of(submission.organisation, line)
                    if o.ods_code == (counterparty or "").upper()
                ),
                None,
            )
        cells = selectors.version_cells(profile)
        weights = [
            cells.get((line.code, counterparty_id, m), calculations.ZERO)
            for m in calculations.MONTHS
        ]
    try:
        months = calculations.spread(amount, weights)
    except calculations.ValueProblem as exc:
        raise refused(str(exc)) from None
    expected = expected or {}
    return [
        CellInput(
            line=line.code,
            month=m,
            value=value,
            counterparty=counterparty or None,
            expected=expected.get(m, UNSET),
        )
        for m, value in zip(calculations.MONTHS, months, strict=True)
    ]


# --- the first change to a plan starts it ------------------------------------------------------
# A plan nobody has started yet is started by the first figure, narrative or upload saved to
# it, in the same transaction as the save: a refused save leaves no plan half-begun, and a save
# never lands on a plan whose start failed.


@transaction.atomic
def start_and_save(
    *,
    actor: User,
    plan_round: PlanningRound,
    organisation: Organisation,
    submission: Submission | None,
    cells: Sequence[CellInput],
    source: str = "grid",
) -> SaveResult:
    submission = submission or submission_start(
        actor=actor, plan_round=plan_round, organisation=organisation
    )
    return draft_save(actor=actor, submission=submission, cells=cells, source=source)


@transaction.atomic
def start_and_write(
    *,
    actor: User,
    plan_round: PlanningRound,
    organisation: Organisation,
    submission: Submission | None,
    section_code: str,
    text: str,
) -> bool:
    submission = submission or submission_start(
        actor=actor, plan_round=plan_round, organisation=organisation
    )
    return narrative_save(actor=actor, submission=submission, section_code=section_code, text=text)
