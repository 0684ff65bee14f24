"""Storing an uploaded plan (Excel or CSV): checked whole, stored whole, or not at all."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction

from openbook.errors import Conflict, ProblemList
from plans.models import DraftEdit, PlanningRound, Section, Submission, Version
from plans.services.drafts import (
    SaveResult,
    _locked_editable,
    _resolve_cells,
    draft_save,
    narrative_save,
    submission_start,
)

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
    resolved = None
    try:
        resolved = _resolve_cells(submission, parsed.cells)
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
        actor=actor, submission=submission, cells=parsed.cells, source=source, resolved=resolved
    )
    for section_code, text in parsed.narratives.items():
        if narrative_save(actor=actor, submission=submission, section_code=section_code, text=text):
            result.changed += 1
    result.revision = Version.objects.get(pk=draft.pk).revision
    return result


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
