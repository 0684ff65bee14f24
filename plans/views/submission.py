"""A submission's overview, its grids (edited in place with htmx, or as one form), its
narratives, version comparison and comments."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from openbook import numbers
from openbook.refusals import attempt
from plans import calculations, evidence, selectors, services
from plans.bridge import bridge_steps, chart_items
from plans.models import Comment, Line, Section, Submission
from plans.readiness import readiness
from plans.revisions import migration_for, revisions_of
from plans.views.common import plan_context, version_for


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
    # What is left to do: only the organisation's own people see the draft it is about.
    ready = None
    if submission and ctx.is_own and submission.is_editable:
        ready = readiness(submission, submission.versions.filter(number=0).first())
    review = _review(request, submission, numbers) if submission else None
    bridge = _bridge(ctx, sections, version_for(request, ctx) if submission else None)
    latest_revision = revisions_of(ctx.round).first()
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
            "ready": ready,
            "review": review,
            "bridge": bridge,
            "latest_revision": latest_revision,
            "migration": migration_for(request.user, submission)
            if submission and latest_revision
            else None,
            "chart": {"bridge": chart_items(bridge["steps"]), "total_label": "This year's plan"}
            if bridge
            else None,
        },
    )


def _bridge(ctx, sections, version) -> dict | None:
    """The bridge from last year's outturn to the plan shown (the draft for the organisation's
    own people, the latest submitted version for everyone else), if its template lays one out."""
    section = next((s for s in sections if s.code in _bridge_layouts(ctx.round)), None)
    if section is None or version is None:
        return None
    lines = list(selectors.lines_for(ctx.round.template_version_id, ctx.organisation.kind))
    specs = [selectors.line_spec(line) for line in lines]
    cells = selectors.version_cells(version)
    months = {**calculations.month_totals(cells), **calculations.derive(specs, cells)}
    years: dict[str, Decimal] = {}
    for (code, _month), value in months.items():
        years[code] = years.get(code, Decimal(0)) + value
    layout = _bridge_layouts(ctx.round)[section.code]
    if not any(code == layout["start"] for code, _month in months):
        return None  # last year's outturn not given yet: no bridge to draw from nothing
    surplus = next((line.code for line in lines if line.role == Line.Role.SURPLUS), "")
    steps = bridge_steps(
        layout, years,
        {line.code: line.label for line in lines}, surplus,
    )  # fmt: skip
    return {"section": section, "version": version, "steps": steps}


def _bridge_layouts(plan_round) -> dict:
    return {
        s["code"]: s["bridge"]
        for s in plan_round.template_version.definition["sections"]
        if s.get("bridge")
    }


def _review(request, submission, numbers: list[int]) -> dict | None:
    """For the system lead and the region's reviewers, once a plan is in: its figures, its
    mismatches and flags, and what changed since the version this person last opened."""
    if submission.status not in (Submission.Status.SUBMITTED, Submission.Status.ACCEPTED):
        return None
    found = evidence.evidence_for(request.user, submission)
    if found is None or not numbers:
        return None
    latest = numbers[-1]
    seen = evidence.last_seen(request.user, submission=submission)
    base = evidence.compare_base(latest, seen, numbers)
    diff = selectors.version_diff(request.user, submission, base, latest) if base else None
    evidence.seen_record(request.user, latest, submission=submission)
    return {"evidence": found, "latest": latest, "seen": seen, "base": base, "diff": diff}


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
        text = request.POST.get("text", "")
        with attempt() as call:
            changed = services.start_and_write(
                actor=request.user, plan_round=ctx.round, organisation=ctx.organisation,
                submission=ctx.submission, section_code=section.code, text=text,
            )  # fmt: skip
        if call.refusal:
            error = call.refusal.message
        else:
            messages.success(request, "Saved." if changed else "No changes to save.")
            return redirect(request.path)
    version = ctx.submission and version_for(request, ctx)
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
    raw = request.POST.get("parent", "").strip()
    if raw:
        # A reply names its comment by number; anything else names no comment here.
        number = numbers.whole(raw)
        if number is None:
            raise Http404("No such comment.")
        parent = Comment.objects.filter(submission=ctx.submission, pk=number).first()
        if parent is None:
            raise Http404("No such comment.")
    with attempt(request) as call:
        services.comment_add(
            actor=request.user,
            submission=ctx.submission,
            body=request.POST.get("body", ""),
            line_code=request.POST.get("line") or None,
            parent=parent,
        )
    if call.ok:
        messages.success(request, "Comment added.")
    return redirect(_submission_url(ctx) + "#comments")
