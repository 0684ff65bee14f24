"""Storing an uploaded plan (Excel or CSV): checked whole, stored whole, or not at all."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q

from openbook.errors import Conflict, ProblemList
from plans.calculations import ValueProblem, parse_value
from plans.models import DraftEdit, Line, PlanningRound, Section, Submission, Value, Version
from plans.services.drafts import (
    SaveResult,
    _locked_editable,
    _resolve_cells,
    draft_save,
    narrative_save,
    submission_start,
)
from plans.services.tables import check_table, table_save, table_section
from plans.table_selectors import spec_of

if TYPE_CHECKING:
    from accounts.models import Organisation, User
    from plans.excel import ParsedPlan


@transaction.atomic
def plan_upload(
    *,
    actor: User,
    submission: Submission,
    parsed: ParsedPlan,
    source: str,
    replace_newer_draft: bool = False,
) -> SaveResult:
    """Store an uploaded plan in the draft. Any problem anywhere → nothing is stored and every
    problem is reported together. A workbook downloaded before someone else changed the draft
    is refused unless the uploader says to replace their changes."""
    submission = _locked_editable(actor, submission)
    problems = list(parsed.problems)
    narrative_codes = set(
        Section.objects.filter(
            template_version_id=submission.round.template_version_id,
            kind=Section.Kind.NARRATIVE,
            kinds__contains=[submission.organisation.kind],
        ).values_list("code", flat=True)
    )
    for code in parsed.narratives:
        if code not in narrative_codes:
            problems.append(
                {
                    "cell": f"Narratives, {code}",
                    "value": "",
                    "problem": "is not a narrative section of this template",
                }
            )
    for code, rows in parsed.tables.items():
        try:
            check_table(spec_of(table_section(submission, code)), rows)
        except ProblemList as exc:
            problems.extend(exc.problems)
        except ValidationError as exc:
            problems.append({"cell": code, "value": "", "problem": " ".join(exc.messages)})
    cells = _unchanged_totals_left_out(submission, parsed.cells)
    resolved = None
    try:
        resolved = _resolve_cells(submission, cells)
    except ProblemList as exc:
        problems.extend(exc.problems)
    if problems:
        count = len(problems)
        raise ProblemList(
            f"The file has {count} problem{'s' if count != 1 else ''}, so nothing was saved.",
            problems,
        )
    draft = Version.objects.select_for_update().get(submission=submission, number=0)
    if (
        parsed.revision is not None
        and parsed.revision != draft.revision
        and not replace_newer_draft
        and _changed_by_others(draft, since=parsed.revision, actor=actor)
    ):
        raise Conflict(
            f"Someone else has changed the draft since this workbook was downloaded (it was at "
            f"revision {parsed.revision}, it is now at {draft.revision}). Uploading it would "
            "replace their changes. Download the plan again, or confirm that the file should "
            "replace them."
        )
    result = draft_save(
        actor=actor, submission=submission, cells=cells, source=source, resolved=resolved
    )
    for code, rows in parsed.tables.items():
        result.changed += table_save(actor=actor, submission=submission, section_code=code,
                                     rows=rows, started=None, source=source).changed  # fmt: skip
    for section_code, text in parsed.narratives.items():
        if narrative_save(actor=actor, submission=submission, section_code=section_code, text=text):
            result.changed += 1
    result.revision = Version.objects.get(pk=draft.pk).revision
    return result


def _unchanged_totals_left_out(submission: Submission, cells: list) -> list:
    """A file's figures for lines a table adds up or the round's owner provides (a
    downloaded CSV has them) are left out where they are what the draft holds. A changed one
    is kept, to be refused by name (the schemes, or the owner, are what change it)."""
    fed = set(
        Line.objects.filter(section__template_version_id=submission.round.template_version_id)
        .filter(~Q(fed_by="") | Q(provided=True))
        .values_list("code", flat=True)
    )
    if not fed or not any(cell.line in fed for cell in cells):
        return cells
    draft = Version.objects.get(submission=submission, number=0)
    held = {
        (code, month): value
        for code, month, value in Value.objects.filter(
            version=draft, line__code__in=fed, counterparty=None
        ).values_list("line__code", "month", "value")
    }
    kept = []
    for cell in cells:
        if cell.line in fed and not cell.counterparty:
            try:
                if parse_value(cell.value) == held.get((cell.line, cell.month)):
                    continue
            except ValueProblem:
                pass  # named by the check of every cell
        kept.append(cell)
    return kept


def _changed_by_others(draft: Version, *, since: int, actor: User) -> bool:
    """Whether the draft has changed after revision `since` other than by `actor`'s own uploads.
    A person who uploads a workbook, then fixes it and uploads it again, is not told their own
    upload made the file stale; anyone's other edits (their own in the grid too) still make the
    file stale, as uploading it would quietly undo them. A draft changed before its edits were
    recorded counts as changed."""
    if since > draft.revision:
        return True  # not a revision this draft has been at: treat it as someone else's
    edits = DraftEdit.objects.filter(version=draft, revision__gt=since)
    if edits.count() < draft.revision - since:
        return True
    own_uploads = edits.filter(
        actor=actor, source__in=[DraftEdit.Source.XLSX, DraftEdit.Source.CSV]
    )
    return own_uploads.count() < edits.count()


@transaction.atomic
def start_and_upload(
    *,
    actor: User,
    plan_round: PlanningRound,
    organisation: Organisation,
    submission: Submission | None,
    parsed: ParsedPlan,
    source: str,
    replace_newer_draft: bool = False,
) -> SaveResult:
    """An upload to a plan nobody has started yet starts it, in the same transaction."""
    submission = submission or submission_start(
        actor=actor, plan_round=plan_round, organisation=organisation
    )
    return plan_upload(actor=actor, submission=submission, parsed=parsed, source=source,
                       replace_newer_draft=replace_newer_draft)  # fmt: skip
