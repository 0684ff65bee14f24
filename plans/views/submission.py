"""A submission's overview, its grids (edited in place with htmx, or as one form), its
narratives, version comparison and comments."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from openbook.errors import Conflict, ProblemList
from plans import selectors, services
from plans.calculations import MONTHS, ValueProblem, parse_value
from plans.grid import build_grid
from plans.models import Comment, Section
from plans.views.common import plan_context


def _submission_url(ctx) -> str:
    return reverse("plan_detail", args=[ctx.round.slug, ctx.organisation.ods_code])


@login_required
def submission_detail(request, slug, ods_code):
    ctx = plan_context(request, slug, ods_code)
    submission = ctx.submission
    versions = selectors.versions_visible(request.user, submission) if submission else []
    sections = selectors.sections_for(ctx.round.template_version_id, ctx.organisation.kind)
    comments = list(selectors.comments_for(request.user, submission)) if submission else []
    numbers = [v.number for v in versions if v.number > 0]
    return render(
        request,
        "plans/submission_detail.html",
        ctx.as_dict()
        | {
            "versions": versions,
            "sections": sections,
            "threads": [
                (c, [r for r in comments if r.parent_id == c.pk])
                for c in comments
                if c.parent_id is None
            ],
            "compare_from": numbers[-2]
            if len(numbers) > 1
            else (0 if ctx.is_own and numbers else None),
            "compare_to": numbers[-1] if numbers else None,
        },
    )


@login_required
@require_POST
def submission_start(request, slug, ods_code):
    ctx = plan_context(request, slug, ods_code)
    if not ctx.can_edit:
        raise PermissionDenied(
            "Only the organisation's preparers and approvers can start its plan."
        )
    services.submission_start(
        actor=request.user, plan_round=ctx.round, organisation=ctx.organisation
    )
    return redirect(_submission_url(ctx))


def _version_for(request, ctx):
    """The version a grid shows: ?version=N, else the draft (own) or the latest submitted."""
    if ctx.submission is None:
        if ctx.is_own:
            return None
        raise Http404("No submitted plan.")
    number = request.GET.get("version")
    if number is not None:
        try:
            return selectors.version_get(request.user, ctx.submission, int(number))
        except ValueError:
            raise Http404("No such version.") from None
    version = selectors.default_version(request.user, ctx.submission)
    if version is None:
        raise Http404("No submitted plan.")
    return version


def _posted_cells(post) -> list[services.CellInput]:
    """Grid fields are v:LINE:COUNTERPARTY:MONTH (the value) and e:… (the value it started
    from). Only cells whose value differs from where they started are saved."""
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
        try:
            if parse_value(raw) == parse_value(started):
                continue
        except ValueProblem:
            pass  # let the service name the problem
        cells.append(
            services.CellInput(
                line=line,
                month=month_number,
                value=raw,
                counterparty=counterparty or None,
                expected=started,
            )
        )
    return cells


@login_required
@require_http_methods(["GET", "POST"])
def section_grid(request, slug, ods_code, section_code):
    ctx = plan_context(request, slug, ods_code)
    section = get_object_or_404(
        Section,
        template_version_id=ctx.round.template_version_id,
        code=section_code,
        kind=Section.Kind.GRID,
    )
    problems: list[dict] = []
    conflicts: list[dict] = []
    typed: dict[str, str] = {}
    if request.method == "POST":
        if not ctx.can_edit:
            raise PermissionDenied("You cannot change this plan.")
        submission = ctx.submission or services.submission_start(
            actor=request.user, plan_round=ctx.round, organisation=ctx.organisation
        )
        cells = _posted_cells(request.POST)
        try:
            result = services.draft_save(actor=request.user, submission=submission, cells=cells)
        except ProblemList as exc:
            problems = exc.problems
        except Conflict as exc:
            conflicts = exc.conflicts
        except ValidationError as exc:
            problems = [{"cell": "", "value": "", "problem": m} for m in exc.messages]
        else:
            if not request.htmx:
                messages.success(
                    request, f"Saved {result.changed} figure{'s' if result.changed != 1 else ''}."
                )
                return redirect(request.get_full_path())
        ctx = plan_context(request, slug, ods_code)
        if problems or conflicts:
            typed = {
                f"cell-{c.line}-{c.counterparty or 'x'}-{c.month}": str(c.value) for c in cells
            }
    version = ctx.submission and _version_for(request, ctx)
    editing = bool(ctx.can_edit and (version is None or version.is_draft))
    grid = build_grid(section, ctx.organisation, version)
    _mark(grid, problems, conflicts, typed)
    context = ctx.as_dict() | {
        "section": section,
        "grid": grid,
        "version": version,
        "editing": editing,
        "problems": problems,
        "conflicts": conflicts,
        "versions": selectors.versions_visible(request.user, ctx.submission)
        if ctx.submission
        else [],
    }
    if request.htmx and request.method == "POST":
        context["cell_id"] = request.POST.get("cell", "")
        status = 200 if not (problems or conflicts) else 422
        return render(request, "plans/section.html#cell_update", context, status=status)
    return render(
        request, "plans/section.html", context, status=422 if problems or conflicts else 200
    )


def _mark(grid, problems, conflicts, typed) -> None:
    """Put each problem and conflict on the cell it belongs to."""
    by_name: dict[str, tuple[str, object]] = {}
    for problem in problems:
        by_name[problem["cell"]] = ("problem", problem["problem"])
    for conflict in conflicts:
        by_name[conflict["cell"]] = ("conflict", conflict["theirs"])
    from plans.models import MONTH_LABELS

    for row in grid.rows:
        for cell in row.cells:
            cp = f" ({row.counterparty.ods_code})" if row.counterparty else ""
            name = f"{row.line.code}{cp}, {MONTH_LABELS[cell.month - 1]}"
            if cell.id in typed:
                cell.typed = typed[cell.id]
            if name in by_name:
                kind, detail = by_name[name]
                if kind == "problem":
                    cell.problem = f"{cell.typed or ''} {detail}".strip()
                else:
                    from decimal import Decimal

                    cell.conflict_theirs = Decimal(detail) if detail is not None else None
                    cell.problem = (
                        "Someone else changed this to "
                        f"{'blank' if detail is None else detail} after you started. "
                        "Save again to replace it with yours."
                    )
            elif cell.id in typed and not by_name:
                cell.typed = None


@login_required
@require_http_methods(["GET", "POST"])
def narrative(request, slug, ods_code, section_code):
    ctx = plan_context(request, slug, ods_code)
    section = get_object_or_404(
        Section,
        template_version_id=ctx.round.template_version_id,
        code=section_code,
        kind=Section.Kind.NARRATIVE,
        kinds__contains=[ctx.organisation.kind],
    )
    error = ""
    text = None
    if request.method == "POST":
        if not ctx.can_edit:
            raise PermissionDenied("You cannot change this plan.")
        submission = ctx.submission or services.submission_start(
            actor=request.user, plan_round=ctx.round, organisation=ctx.organisation
        )
        text = request.POST.get("text", "")
        try:
            changed = services.narrative_save(
                actor=request.user, submission=submission, section_code=section.code, text=text
            )
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, "Saved." if changed else "No changes to save.")
            return redirect(request.path)
    version = ctx.submission and _version_for(request, ctx)
    if text is None:
        text = selectors.version_narratives(version).get(section.code, "") if version else ""
    return render(
        request,
        "plans/narrative.html",
        ctx.as_dict()
        | {
            "section": section,
            "text": text,
            "error": error,
            "version": version,
            "editing": ctx.can_edit and (version is None or version.is_draft),
        },  # fmt: skip
        status=422 if error else 200,
    )


@login_required
def compare(request, slug, ods_code):
    ctx = plan_context(request, slug, ods_code)
    if ctx.submission is None:
        raise Http404("No submitted plan.")
    versions = list(selectors.versions_visible(request.user, ctx.submission))
    try:
        a, b = int(request.GET["from"]), int(request.GET["to"])
    except (KeyError, ValueError):
        numbers = [v.number for v in versions]
        a, b = (numbers[-2], numbers[-1]) if len(numbers) > 1 else (numbers[0], numbers[0])
    diff = selectors.version_diff(request.user, ctx.submission, a, b)
    return render(
        request, "plans/compare.html", ctx.as_dict() | {"diff": diff, "versions": versions}
    )


@login_required
@require_POST
def comment_add(request, slug, ods_code):
    ctx = plan_context(request, slug, ods_code)
    if ctx.submission is None:
        raise Http404("No submitted plan.")
    parent = None
    if request.POST.get("parent"):
        parent = Comment.objects.filter(
            submission=ctx.submission, pk=request.POST["parent"]
        ).first()
        if parent is None:
            raise Http404("No such comment.")
    try:
        services.comment_add(
            actor=request.user,
            submission=ctx.submission,
            body=request.POST.get("body", ""),
            line_code=request.POST.get("line") or None,
            parent=parent,
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Comment added.")
    return redirect(_submission_url(ctx) + "#comments")


__all__ = ["MONTHS"]
