"""Changing a table section in the working draft (efficiency or capital schemes): its rows
replaced whole, all or nothing, never over someone else's change, and the lines its rows add
up to written in the same edit."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction

from openbook.audit import audit_record
from openbook.errors import Conflict, ProblemList
from openbook.months import MONTH_LABELS
from plans import calculations, selectors
from plans.calculations import MONTHS, CellKey
from plans.models import Line, PlanningRound, Section, Submission, TableRow, Value, Version
from plans.services.drafts import SaveResult, _locked_editable, submission_start
from plans.services.writes import _edit_record, _record_history, _upsert
from plans.table_selectors import spec_of, version_rows
from plans.tables import Row, RowInput, TableSpec, check_rows, fingerprint, totals

if TYPE_CHECKING:
    from accounts.models import Organisation, User


def table_section(submission: Submission, section_code: str) -> Section:
    section = Section.objects.filter(
        template_version_id=submission.round.template_version_id,
        code=section_code,
        kind=Section.Kind.TABLE,
        kinds__contains=[submission.organisation.kind],
    ).first()
    if section is None:
        raise ValidationError(f"There is no table {section_code!r} in this plan's template.")
    return section


def check_table(spec: TableSpec, rows: Sequence[RowInput]) -> list[Row]:
    kept, problems = check_rows(spec, rows)
    if problems:
        count = len(problems)
        raise ProblemList(
            f"{count} entr{'ies' if count != 1 else 'y'} in the {spec.name.lower()} could not "
            "be accepted, so nothing was saved.",
            problems,
        )
    return kept


@transaction.atomic
def table_save(
    *,
    actor: User,
    submission: Submission,
    section_code: str,
    rows: Sequence[RowInput],
    started: str | None,
    source: str = "grid",
) -> SaveResult:
    """Replace a table's rows in the draft. `started` is the table's fingerprint when the
    editor opened it (None: replace whatever is there, as an upload checked as a whole does);
    a table changed since by anyone is refused, and nothing is saved. `changed` counts the rows
    added, changed or removed."""
    submission = _locked_editable(actor, submission)
    section = table_section(submission, section_code)
    spec = spec_of(section)
    kept = check_table(spec, rows)
    _check_totals(submission, spec, kept)
    draft = Version.objects.select_for_update().get(submission=submission, number=0)
    current = version_rows(draft, section)
    if started is not None and started != fingerprint(current):
        raise Conflict(
            f"Someone else changed the {spec.name.lower()} after you started. Nothing was "
            "saved: look at their change, then make yours again."
        )
    if current == kept:
        return SaveResult(changed=0, revision=draft.revision)
    TableRow.objects.filter(version=draft, section=section).delete()
    TableRow.objects.bulk_create(
        TableRow(version=draft, section=section, position=i, fields=row.fields,
                 amounts=list(row.amounts))
        for i, row in enumerate(kept, start=1)
    )  # fmt: skip
    history, cells = _write_totals(draft, submission, spec, kept)
    draft.revision += 1
    draft.save(update_fields=["revision"])
    changed = sum(1 for a, b in zip(current, kept, strict=False) if a != b) + abs(
        len(current) - len(kept)
    )
    event = audit_record(
        action="draft.table_saved",
        actor=actor,
        organisation=submission.organisation,
        obj=submission,
        payload={
            "source": source,
            "section": section.code,
            "rows_before": len(current),
            "rows": len(kept),
            "year_total": f"{sum((row.year for row in kept), Decimal(0)).normalize():f}",
            "revision": draft.revision,
        },
        private=True,  # a draft is the organisation's own until it is submitted
    )
    edit = _edit_record(draft, actor, source, event)
    if history:
        _record_history(edit, draft, history)
    return SaveResult(changed=changed, revision=draft.revision, cells=cells)


def _fed_lines(submission: Submission, codes) -> dict[str, Line]:
    return {
        line.code: line
        for line in Line.objects.filter(
            section__template_version_id=submission.round.template_version_id,
            code__in=list(codes),
            kinds__contains=[submission.organisation.kind],
        )
    }


def _check_totals(submission: Submission, spec: TableSpec, kept: list[Row]) -> None:
    """The rows' totals must be figures their lines allow, as if typed: schemes adding up to
    more than a line can hold are refused, naming the line and month."""
    problems = []
    sums = totals(spec, kept)
    lines = _fed_lines(submission, sums)  # one query for every line the table feeds
    for code, months in sums.items():
        line = lines.get(code)
        if line is None:
            continue
        rule = selectors.line_spec(line)
        for month, value in zip(MONTHS, months, strict=True):
            why = calculations.check_value(rule, value)
            if why:
                problems.append({
                    "cell": f"{line.code} {line.label}, {MONTH_LABELS[month - 1]}",
                    "value": str(value),
                    "problem": f"the {spec.name.lower()} add up to this, which {why}",
                })  # fmt: skip
    if problems:
        raise ProblemList(
            f"The {spec.name.lower()} add up to more than their lines can hold, so nothing was "
            "saved.",
            problems,
        )


def _write_totals(
    draft: Version, submission: Submission, spec: TableSpec, kept: list[Row]
) -> tuple[list[tuple], dict[CellKey, Decimal | None]]:
    """The fed lines' figures from the rows: twelve months each, or none at all when the table
    is empty (no schemes is not the same as schemes saving nothing)."""
    wanted = totals(spec, kept) if kept else {line: (None,) * 12 for line, _ in spec.totals}
    lines = _fed_lines(submission, wanted)
    now = {
        (line_id, month): (pk, value)
        for pk, line_id, month, value in Value.objects.filter(
            version=draft, line__in=list(lines.values()), counterparty=None
        ).values_list("pk", "line_id", "month", "value")
    }
    upserts: list[tuple[int, int | None, int, Decimal]] = []
    deletes: list[int] = []
    history: list[tuple] = []
    cells: dict[CellKey, Decimal | None] = {}
    for code, line in lines.items():
        for month, value in zip(MONTHS, wanted[code], strict=True):
            pk, before = now.get((line.pk, month), (None, None))
            if before == value:
                continue
            history.append((line.pk, None, month, before, value))
            cells[(code, None, month)] = value
            if value is None:
                if pk is not None:  # always: a blank month left blank was skipped above
                    deletes.append(pk)
            else:
                upserts.append((line.pk, None, month, value))
    if deletes:
        Value.objects.filter(pk__in=deletes).delete()
    if upserts:
        _upsert(draft, upserts)
    return history, cells


@transaction.atomic
def start_and_table(
    *,
    actor: User,
    plan_round: PlanningRound,
    organisation: Organisation,
    submission: Submission | None,
    section_code: str,
    rows: Sequence[RowInput],
    started: str | None,
    source: str = "grid",
) -> SaveResult:
    """A table saved to a plan nobody has started yet starts it, in the same transaction."""
    submission = submission or submission_start(
        actor=actor, plan_round=plan_round, organisation=organisation
    )
    return table_save(actor=actor, submission=submission, section_code=section_code, rows=rows,
                      started=started, source=source)  # fmt: skip
