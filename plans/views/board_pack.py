"""The board pack: the whole plan on one printable page (A4 landscape): each section's figures
by month, the narratives, the versions and the board's approval."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

from plans import selectors
from plans.grid import build_grid
from plans.models import Section
from plans.views.common import compared_with, plan_context, plan_position, version_for


@login_required
def board_pack(request, slug, ods_code):
    ctx = plan_context(request, slug, ods_code)
    if ctx.submission is None:
        raise Http404("No plan.")
    version = version_for(request, ctx)
    compare = compared_with(request, ctx, version)
    sections = selectors.sections_for(ctx.round.template_version_id, ctx.organisation.kind)
    grids = []
    narratives = selectors.version_narratives(version)
    position = None
    for section in sections:
        if section.kind == Section.Kind.GRID:
            grid = build_grid(section, ctx.organisation, version, compare)
            grids.append(grid)
            position = position or plan_position(request, ctx, grid)
    return render(
        request,
        "plans/board_pack.html",
        ctx.as_dict()
        | {
            "version": version,
            "sections": sections,
            "grids": grids,
            "narratives": narratives,
            "plan_position": position,
            "versions": selectors.versions_visible(request.user, ctx.submission),
        },
    )
