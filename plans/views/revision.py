"""Revising a live round's template (administrators): choose the new version and say why;
then what the revision did to every draft."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Sum
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts import policy
from openbook.refusals import attempt
from plans import selectors
from plans.models import TemplateVersion
from plans.revisions import revision_get, revisions_of
from plans.services.revision import round_revise


@login_required
@require_http_methods(["GET", "POST"])
def round_revise_view(request, slug):
    plan_round = selectors.round_get(request.user, slug)
    if not policy.is_platform_admin(request.user):
        raise PermissionDenied("Only a platform administrator can revise a round's template.")
    versions = TemplateVersion.objects.filter(
        template_id=plan_round.template_version.template_id
    ).exclude(pk=plan_round.template_version_id)
    errors: dict = {}
    message = ""
    if request.method == "POST":
        try:
            chosen = versions.filter(pk=int(request.POST.get("to_version", ""))).first()
        except ValueError:
            chosen = None
        if chosen is None:
            errors["to_version"] = "Choose the version to move the round to."
        else:
            with attempt() as call:
                revision = round_revise(
                    actor=request.user,
                    plan_round=plan_round,
                    to_version=chosen,
                    reason=request.POST.get("reason", ""),
                )
            if call.refusal is None:
                return redirect("round_revision", slug=plan_round.slug, pk=revision.pk)
            errors, message = call.refusal.fields, call.refusal.message
    return render(
        request,
        "plans/round_revise.html",
        {
            "round": plan_round,
            "versions": versions,
            "errors": errors,
            "message": message,
            "reason": request.POST.get("reason", ""),
            "chosen": request.POST.get("to_version", ""),
            "revisions": revisions_of(plan_round),
        },  # fmt: skip
        status=422 if errors or message else 200,
    )


@login_required
def round_revision(request, slug, pk):
    plan_round = selectors.round_get(request.user, slug)
    revision = revision_get(request.user, plan_round, pk)
    # Drafts are their organisations' own (an administrator's requests cannot read them): the
    # round's totals, not any one organisation's.
    totals = revision.migrations.aggregate(drafts=Count("pk"), carried=Sum("carried"))
    counts = {"dropped": 0, "new_required": 0, "problems": 0}
    for migration in revision.migrations.only("dropped", "new_required", "problems"):
        for key in counts:
            counts[key] += bool(getattr(migration, key))
    return render(
        request, "plans/round_revision.html",
        {"round": plan_round, "revision": revision, "totals": totals, "counts": counts},
    )  # fmt: skip
