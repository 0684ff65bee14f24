"""A section's grid: shown, saved as one form without scripts, or edited in place by the grid
script (a cell, a pasted block, a fill, a spread, an undo: each all or nothing); what a cell
holds and who changed it; the section's history; spreading a year total without scripts."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods, require_POST

from openbook import numbers
from openbook.errors import ProblemList
from openbook.refusals import attempt
from plans import selectors, services
from plans.calculations import ValueProblem, parse_value
from plans.cells import CellInput
from plans.grid import Grid, build_grid
from plans.models import MONTH_LABELS, DraftEdit, Line, Section, Submission
from plans.views.common import (
    PlanContext,
    compared_with,
    plan_context,
    plan_position,
    version_for,
)

# What the grid script may say it is doing; anything else is an edit typed in the grid.
SCRIPT_SOURCES = {"grid", "paste", "fill", "undo", "spread"}


def _section(ctx: PlanContext, section_code: str) -> Section:
    return get_object_or_404(
        Section,
        template_version_id=ctx.round.template_version_id,
        code=section_code,
        kind=Section.Kind.GRID,
    )


def _as_typed(value: object) -> str:
    """A figure put back in its cell: what was typed as typed, a worked-out one (a spread's) as
    an input shows it."""
    if isinstance(value, Decimal):
        return numbers.exact(value)
    return "" if value is None else str(value)


def _cell_id(line: str, counterparty: str | None, month: int) -> str:
    return f"cell-{line}-{counterparty or 'x'}-{month}"


def _posted_cells(post, *, only_changed: bool = True) -> list[CellInput]:
    """Grid fields are v:LINE:COUNTERPARTY:MONTH (the value) and e:… (the value it started
    from). From the form, only cells whose value differs from where they started are saved;
    from the script, every cell it sends."""
    cells = []
    for name, raw in post.items():
        if not name.startswith("v:"):
            continue
        try:
            _, line, counterparty, month = name.split(":")
            month_number = int(month)
        except ValueError:
            continue
        started = post.get(f"e:{line}:{counterparty}:{month}", "")
        if only_changed:
            try:
                if parse_value(raw) == parse_value(started):
                    continue
            except ValueProblem:
                pass  # let the service name the problem
        cells.append(
            CellInput(
                line=line,
                month=month_number,
                value=raw,
                counterparty=counterparty or None,
                expected=started,
            )
        )
    return cells


def _started_for_row(post, line: str, counterparty: str) -> dict[int, object]:
    """What a spread's twelve cells started from, as the page sent them (e:LINE:CP:MONTH), so
    the spread never overwrites a figure someone else changed since. All twelve or refused."""
    started = {}
    for month in range(1, 13):
        key = f"e:{line}:{counterparty}:{month}"
        if key not in post:
            raise ProblemList(
                "The spread could not be checked against the figures you started from.",
                [{"cell": "Spread", "value": "", "problem": "reload the page and spread again"}],
            )
        started[month] = post[key]
    return started


def _mark(grid: Grid, problems: list[dict], conflicts: list[dict], typed: dict) -> None:
    """Put each problem and conflict on the cell it belongs to, and give each an anchor the
    error summary can link to."""
    by_name: dict[str, tuple[str, object]] = {}
    for problem in problems:
        by_name[problem["cell"]] = ("problem", problem["problem"])
    for conflict in conflicts:
        by_name[conflict["cell"]] = ("conflict", conflict["theirs"])
    anchors: dict[str, str] = {}
    for row in grid.rows:
        for cell in row.cells:
            cp = f" ({row.counterparty.ods_code})" if row.counterparty else ""
            name = f"{row.line.code}{cp}, {MONTH_LABELS[cell.month - 1]}"
            if cell.id in typed:
                cell.typed = typed[cell.id]
            if name not in by_name:
                continue
            anchors[name] = f"in-{cell.id}"
            kind, detail = by_name[name]
            if kind == "problem":
                cell.problem = f"{cell.typed or ''} {detail}".strip()
            else:  # the grid was read after their change: the cell starts from their figure
                cell.problem = (
                    "Someone else changed this to "
                    f"{'blank' if detail is None else numbers.exact(detail)} after you started. "
                    "Save again to replace it with yours."
                )
    for item in [*problems, *conflicts]:
        item["anchor"] = anchors.get(item["cell"], "")
    for conflict in conflicts:  # stored figures, to show as inputs do
        for side in ("theirs", "yours"):
            if isinstance(conflict.get(side), str):
                conflict[side] = Decimal(conflict[side])


def _save(request, ctx, cells, source):
    """Run the save; return (problems, conflicts, changed)."""
    with attempt() as call:
        result = services.start_and_save(
            actor=request.user, plan_round=ctx.round, organisation=ctx.organisation,
            submission=ctx.submission, cells=cells, source=source,
        )  # fmt: skip
    if call.refusal is None:
        return [], [], result.changed
    if call.refusal.conflicts:
        return [], call.refusal.conflicts, 0
    # A refusal that names no cell (the plan was submitted meanwhile) still shows in the list.
    return (
        call.refusal.problems or [{"cell": "", "value": "", "problem": call.refusal.message}],
        [],
        0,
    )


def _grid_context(request, ctx, section, version, editing, grid, problems, conflicts):
    return ctx.as_dict() | {
        "section": section,
        "grid": grid,
        "version": version,
        "editing": editing,
        "problems": problems,
        "conflicts": conflicts,
        "plan_position": plan_position(request, ctx, grid),
        "versions": selectors.versions_visible(request.user, ctx.submission)
        if ctx.submission
        else [],
    }


@login_required
@require_http_methods(["GET", "POST"])
def section_grid(request, slug, ods_code, section_code):
    ctx = plan_context(request, slug, ods_code)
    section = _section(ctx, section_code)
    problems: list[dict] = []
    conflicts: list[dict] = []
    typed: dict[str, str] = {}
    if request.method == "POST":
        if not ctx.can_edit:
            raise PermissionDenied("You cannot change this plan.")
        cells = _posted_cells(request.POST)
        problems, conflicts, changed = _save(request, ctx, cells, DraftEdit.Source.GRID)
        if not (problems or conflicts):
            messages.success(request, f"Saved {changed} figure{'s' if changed != 1 else ''}.")
            return redirect(request.get_full_path())
        ctx = plan_context(request, slug, ods_code)
        typed = {_cell_id(c.line, c.counterparty, c.month): _as_typed(c.value) for c in cells}
    version = ctx.submission and version_for(request, ctx)
    grid = build_grid(section, ctx.organisation, version, compared_with(request, ctx, version))
    # A section whose every line is worked out (or the schemes added up) has nothing to type.
    editing = bool(ctx.can_edit and (version is None or version.is_draft)) and any(
        not row.derived for row in grid.rows
    )
    _mark(grid, problems, conflicts, typed)
    context = _grid_context(request, ctx, section, version, editing, grid, problems, conflicts)
    context["help_lines"] = list(dict.fromkeys(row.line for row in grid.rows))
    return render(
        request, "plans/section.html", context, status=422 if problems or conflicts else 200
    )


def _status_message(problems, conflicts, changed, source) -> str:
    if conflicts:
        first = conflicts[0]
        theirs = "blank" if first["theirs"] is None else numbers.exact(first["theirs"])
        more = f" (and {len(conflicts) - 1} more)" if len(conflicts) > 1 else ""
        return (
            f"Nothing was saved: someone else changed {first['cell']} to {theirs} after you "
            f"started{more}. Yours is still in the cell: leave it again to replace theirs, or "
            "press Escape to keep theirs."
        )
    if problems:
        count = len(problems)
        listed = "; ".join(
            f"{p['cell']}: {'“' + p['value'] + '” ' if p['value'] else ''}{p['problem']}"
            for p in problems[:5]
        )
        more = f"; and {count - 5} more" if count > 5 else ""
        cells = "cell" if count == 1 else "cells"
        return f"Nothing was saved: {count} {cells} could not be accepted. {listed}{more}."
    if not changed:
        return "Nothing changed."
    done = {
        "paste": "Pasted",
        "fill": "Filled",
        "spread": "Spread",
        "undo": "Undone:",
    }.get(source, "Saved")
    return f"{done} {changed} figure{'s' if changed != 1 else ''}."


@login_required
@require_POST
def section_cells(request, slug, ods_code, section_code):
    """An edit in place from the grid script: the cells it sends are saved all or nothing (or
    a year total spread over a line). The answer holds the cells touched, every total and a
    message for the live region, to be put in place by id."""
    ctx = plan_context(request, slug, ods_code)
    section = _section(ctx, section_code)
    if not ctx.can_edit:
        raise PermissionDenied("You cannot change this plan.")
    source = request.POST.get("source", "grid")
    source = source if source in SCRIPT_SOURCES else "grid"
    problems: list[dict] = []
    conflicts: list[dict] = []
    changed = 0
    cells = _posted_cells(request.POST, only_changed=False)
    if source == "spread":
        with attempt() as call:
            # A plan nobody has started is started by the save below, in its transaction.
            version = ctx.submission and version_for(request, ctx)
            profile = (
                compared_with(request, ctx, version)
                if request.POST.get("method") == "profile" and version
                else None
            )
            if request.POST.get("method") == "profile" and profile is None:
                raise ProblemList(
                    "There is no submitted version to take a profile from.",
                    [
                        {
                            "cell": "Spread",
                            "value": "",
                            "problem": "there is no submitted version to take a profile from",
                        }
                    ],
                )
            expected = _started_for_row(
                request.POST, request.POST.get("line", ""), request.POST.get("counterparty", "")
            )
            cells = services.spread_cells(
                submission=_or_unstarted(ctx),
                line_code=request.POST.get("line", ""),
                counterparty=request.POST.get("counterparty") or None,
                total=request.POST.get("total", ""),
                profile=profile,
                expected=expected,
            )
        if call.refusal is not None:
            problems = call.refusal.as_problems("Spread")
    if not problems and cells:
        problems, conflicts, changed = _save(request, ctx, cells, source)
        if ctx.submission is None or problems or conflicts:
            # Started by this save, or refused (perhaps submitted meanwhile): read it again.
            ctx = plan_context(request, slug, ods_code)
    version = ctx.submission and version_for(request, ctx)
    grid = build_grid(section, ctx.organisation, version, compared_with(request, ctx, version))
    typed = (
        {_cell_id(c.line, c.counterparty, c.month): _as_typed(c.value) for c in cells}
        if problems or conflicts
        else {}
    )
    _mark(grid, problems, conflicts, typed)
    context = _grid_context(request, ctx, section, version, True, grid, problems, conflicts)
    context["cell_ids"] = {_cell_id(c.line, c.counterparty, c.month) for c in cells}
    context["status_message"] = _status_message(problems, conflicts, changed, source)
    status = 409 if conflicts else 422 if problems else 200
    return render(request, "plans/section.html#cells_update", context, status=status)


@login_required
def section_cell(request, slug, ods_code, section_code):
    """What the focused cell holds, for the bar above the grid: its line, what belongs in it,
    and who last changed it (the draft's history, for the organisation's own people)."""
    ctx = plan_context(request, slug, ods_code)
    section = _section(ctx, section_code)
    try:
        line_code, counterparty, month = (
            request.GET["line"],
            request.GET.get("counterparty", ""),
            int(request.GET["month"]),
        )
    except (KeyError, ValueError):
        raise Http404("No such cell.") from None
    line = get_object_or_404(Line, section=section, code=line_code)
    if not 1 <= month <= 12:
        raise Http404("No such cell.")
    partner = None
    if counterparty:
        partner = next(
            (
                o
                for o in selectors.partners_of(ctx.organisation, line)
                if o.ods_code == counterparty
            ),
            None,
        )
        if partner is None:
            raise Http404("No such cell.")
    history = []
    if ctx.submission is not None and ctx.is_own:
        history = list(
            selectors.cell_history(
                request.user, ctx.submission, line, partner.pk if partner else None, month
            )[:5]
        )
    return render(
        request,
        "plans/includes/cell_bar.html",
        {
            "line": line,
            "partner": partner,
            "month_label": MONTH_LABELS[month - 1],
            "history": history,
            "is_own": ctx.is_own,
        },
    )


@login_required
def section_history(request, slug, ods_code, section_code):
    """Every change to the section's figures in the working draft, newest first."""
    ctx = plan_context(request, slug, ods_code)
    section = _section(ctx, section_code)
    if ctx.submission is None or not ctx.is_own:
        raise Http404("No draft.")
    changes = selectors.draft_changes(request.user, ctx.submission, section)
    line = request.GET.get("line", "").strip().upper()
    if line:
        changes = changes.filter(line__code=line)
    page = Paginator(changes, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "plans/section_history.html",
        ctx.as_dict()
        | {
            "section": section,
            "page": page,
            "line": line,
            "page_query": f"{urlencode({'line': line})}&" if line else "",
        },
    )


def _or_unstarted(ctx) -> Submission:
    """The plan, or (for one nobody has started) the plan it will be, unsaved: enough to work
    out the cells, which the save then stores, starting the plan in the same transaction."""
    return ctx.submission or Submission(round=ctx.round, organisation=ctx.organisation)


def _unchanged_by_others(request, submission, row) -> None:
    """Refuse a spread (from the page without scripts) over a line someone else has changed
    since the page was opened at the draft revision it sends back."""
    try:
        since = int(request.POST.get("revision", ""))
    except ValueError:
        since = -1
    others = (
        selectors.draft_changes(request.user, submission)
        .filter(
            line=row.line,
            counterparty=row.counterparty,
            edit__revision__gt=since,
        )
        .exclude(edit__actor=request.user)
    )
    if since < 0 or others.exists():
        raise ProblemList(
            "Someone else has changed this line since the page was opened.",
            [
                {
                    "cell": f"{row.line.code} {row.label}",
                    "value": "",
                    "problem": "someone else changed it since you opened this page: check "
                    "their figures in the grid, then spread again",
                }
            ],
        )


@login_required
@require_http_methods(["GET", "POST"])
def section_spread(request, slug, ods_code, section_code):
    """Spread a year total over a line's months, for a browser without scripts (the grid script
    does the same in place)."""
    ctx = plan_context(request, slug, ods_code)
    section = _section(ctx, section_code)
    if not ctx.can_edit:
        raise PermissionDenied("You cannot change this plan.")
    version = ctx.submission and version_for(request, ctx)
    compare = compared_with(request, ctx, version)
    grid = build_grid(section, ctx.organisation, version)
    rows = [row for row in grid.rows if not row.derived]
    problems: list[dict] = []
    chosen = request.POST.get("row", "")
    if request.method == "POST":
        row = grid.row(chosen)
        method = request.POST.get("method", "even")
        if row is None:
            problems = [{"cell": "Line", "value": "", "problem": "choose a line"}]
        elif method == "profile" and compare is None:
            problems = [
                {"cell": "Profile", "value": "", "problem": "there is no submitted version yet"}
            ]
        else:
            with attempt() as call:
                if ctx.submission is not None:
                    _unchanged_by_others(request, ctx.submission, row)
                cells = services.spread_cells(
                    submission=_or_unstarted(ctx),
                    line_code=row.line.code,
                    counterparty=row.counterparty.ods_code if row.counterparty else None,
                    total=request.POST.get("total", ""),
                    profile=compare if method == "profile" else None,
                    # What the line holds now, which nobody else has changed since the page
                    # was opened: a change landing in between is refused by the save.
                    expected={c.month: c.started for c in row.cells},
                )
            if call.refusal is not None:
                problems = call.refusal.as_problems("Spread")
            else:
                ctx = plan_context(request, slug, ods_code)
                problems, conflicts, changed = _save(request, ctx, cells, "spread")
                problems += [
                    {"cell": c["cell"], "value": "", "problem": "someone else changed it"}
                    for c in conflicts
                ]
                if not problems:
                    messages.success(request, f"Spread the total over {changed} figures.")
                    return redirect(
                        reverse(
                            "plan_section", args=[ctx.round.slug, ctx.organisation.ods_code,
                                                  section.code]
                        )
                    )  # fmt: skip
    return render(
        request,
        "plans/spread.html",
        ctx.as_dict()
        | {
            "section": section,
            "rows": rows,
            "chosen": chosen,
            "total": request.POST.get("total", ""),
            "method": request.POST.get("method", "even"),
            "revision": request.POST.get("revision")
            or (version.revision if version is not None and version.is_draft else 0),
            "compared_with": compare,
            "problems": problems,
        },
        status=422 if problems else 200,
    )
