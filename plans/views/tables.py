"""A table section's page (efficiency schemes, capital schemes): its rows, what they add up to,
and, for the organisation's preparers, one form that adds, changes and removes rows, saved all
or nothing."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from openbook import numbers
from openbook.errors import ProblemList
from openbook.refusals import attempt
from plans import services
from plans.calculations import MONTHS, ZERO
from plans.models import MONTH_LABELS, Line, Section
from plans.table_selectors import spec_of, version_rows
from plans.tables import Row, RowInput, TableSpec, by_column, fingerprint, totals
from plans.views.common import plan_context, version_for

# Empty rows offered below the schemes, to add up to this many at a time.
BLANK_ROWS = 3


@dataclass
class ShownRow:
    """A row as the page shows it: what was typed (or stored), keyed like the form's fields."""

    number: int
    fields: dict[str, str]
    amounts: dict[int, str]
    year: Decimal | None
    remove: bool = False
    figures: dict[int, Decimal] | None = None  # as stored, to show where nothing is typed
    bad: dict[str | int, str] | None = None  # column code or month → what is wrong with it


def _shown(number: int, row: Row) -> ShownRow:
    return ShownRow(
        number,
        dict(row.fields),
        {m: numbers.exact(a) if a else "" for m, a in zip(MONTHS, row.amounts, strict=True)},
        row.year,
        figures=dict(zip(MONTHS, row.amounts, strict=True)),
    )


def _posted(post, spec: TableSpec) -> tuple[list[RowInput], list[ShownRow]]:
    """The rows the form sent (r<N>-<column>, r<N>-m<month>, r<N>-remove), as inputs to save
    and as typed, to show again when they are refused."""
    try:
        count = int(post["rows"])
    except (KeyError, ValueError):
        # Never read as none: saving no rows would remove every scheme.
        raise ProblemList(
            "The form was not sent whole, so nothing was saved.",
            [{"cell": spec.name, "value": "", "problem": "reload the page and enter it again"}],
        ) from None
    count = max(0, min(count, spec.rows_max + BLANK_ROWS))
    inputs, shown = [], []
    for n in range(1, count + 1):
        fields = {c.code: post.get(f"r{n}-{c.code}", "") for c in spec.columns}
        amounts = {m: post.get(f"r{n}-m{m}", "") for m in MONTHS}
        remove = bool(post.get(f"r{n}-remove"))
        shown.append(ShownRow(n, fields, amounts, None, remove))
        if not remove:
            inputs.append(RowInput(fields, amounts, name=f"Row {n}"))
    return inputs, shown


def _mark(spec: TableSpec, problems: list[dict], shown: list[ShownRow] | None) -> None:
    """Put each problem on its field, and link the summary to it (problems name cells
    "Row 3, Category")."""
    names = {}
    for row in shown or []:
        for column in spec.columns:
            names[f"Row {row.number}, {column.label}"] = (row, column.code)
        for m in MONTHS:
            names[f"Row {row.number}, {MONTH_LABELS[m - 1]}"] = (row, m)
    for problem in problems:
        row, key = names.get(problem["cell"], (None, ""))  # type: ignore[assignment]
        field = f"m{key}" if isinstance(key, int) else key
        problem["anchor"] = f"r{row.number}-{field}" if row else ""
        if row is not None:
            row.bad = (row.bad or {}) | {key: problem["problem"]}


def _fed_lines(section: Section, spec: TableSpec, rows: list[Row], kind: str) -> list[dict]:
    """The lines the rows add up to, with their year: what the schemes put in the plan."""
    labels = dict(
        Line.objects.filter(
            section__template_version_id=section.template_version_id,
            fed_by=section.code,
            kinds__contains=[kind],
        ).values_list("code", "label")
    )
    sums = totals(spec, rows)
    return [
        {"code": code, "label": labels[code], "year": sum(sums[code], ZERO) if rows else None}
        for code, _ in spec.totals
        if code in labels
    ]


@login_required
@require_http_methods(["GET", "POST"])
def section_table(request, slug, ods_code, section_code):
    ctx = plan_context(request, slug, ods_code)
    section = get_object_or_404(
        Section,
        template_version_id=ctx.round.template_version_id,
        code=section_code,
        kind=Section.Kind.TABLE,
        kinds__contains=[ctx.organisation.kind],
    )
    spec = spec_of(section)
    problems: list[dict] = []
    shown: list[ShownRow] | None = None
    started = request.POST.get("started")
    if request.method == "POST":
        if not ctx.can_edit:
            raise PermissionDenied("You cannot change this plan.")
        with attempt() as call:
            inputs, shown = _posted(request.POST, spec)
            result = services.start_and_table(
                actor=request.user, plan_round=ctx.round, organisation=ctx.organisation,
                submission=ctx.submission, section_code=section.code, rows=inputs,
                started=started or "", source="grid",
            )  # fmt: skip
        if call.refusal is None:
            if result.changed:
                messages.success(request, f"Saved the {spec.name.lower()}.")
            else:
                messages.info(request, "Nothing changed.")
            return redirect(request.path)
        problems = [dict(p) for p in call.refusal.as_problems(spec.name)]
        _mark(spec, problems, shown)
        ctx = plan_context(request, slug, ods_code)
    version = ctx.submission and version_for(request, ctx)
    editing = bool(ctx.can_edit and (version is None or version.is_draft))
    stored = version_rows(version, section) if version else []
    if request.method == "POST" and call.refusal.conflict:
        # What is typed stays in the form, now based on their change: saving again replaces
        # it, knowingly; reloading the page shows it.
        started = fingerprint(stored)
        problems[0]["problem"] += " Yours is still in the form: save again to replace theirs."
    if shown is None:
        shown = [_shown(n, row) for n, row in enumerate(stored, start=1)]
        started = fingerprint(stored)
    if editing:
        room = max(0, min(BLANK_ROWS, spec.rows_max - len(shown)))
        shown += [
            ShownRow(len(shown) + i, {}, {}, None) for i in range(1, room + 1)
        ]  # fmt: skip
    month_sums = [sum((row.amounts[i] for row in stored), ZERO) for i in range(12)]
    return render(
        request,
        "plans/table.html",
        ctx.as_dict()
        | {
            "section": section,
            "spec": spec,
            "rows": shown,
            "stored": stored,
            "month_sums": month_sums if stored else None,
            "year_sum": sum(month_sums, ZERO) if stored else None,
            "months": list(zip(MONTHS, MONTH_LABELS, strict=True)),
            "version": version,
            "editing": editing,
            "started": started,
            "problems": problems,
            "blank_rows": BLANK_ROWS,
            "fed": _fed_lines(section, spec, stored, ctx.organisation.kind),
            "groups": [
                (column, by_column(spec, stored, column.code))
                for column in spec.columns[1:]
                if column.choices and stored
            ],
        },
        status=422 if problems else 200,
    )
