"""The system plan's journey to the region, and the region's side-by-side view of its systems."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from accounts import policy
from accounts.selectors import region_get
from openbook.forms import DecisionNoteForm
from openbook.refusals import attempt
from payments.calculations.control_totals import system_control_total
from payments.selectors import control_totals_by_system
from plans import evidence, selectors
from plans.models import SystemVersion
from plans.region_overview import region_overview
from plans.services import system as system_services
from plans.services.system import changes_since_sent
from plans.system_plan import system_plan_get
from plans.views.common import round_and_system


class NarrativeForm(forms.Form):
    narrative = forms.CharField(
        label="Narrative for the region",
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="What the system plan delivers, the main risks, and how the mismatches "
        "will be resolved.",
        max_length=20000,
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label="Why is the system plan being returned?",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="The system lead sees this as a comment.",
        max_length=5000,
    )


def _back(plan_round, system):
    return redirect(reverse("system_plan", args=[plan_round.slug, system.code]) + "#region")


def _form_page(request, plan_round, system, form, template, act, extra=None):
    """A form whose valid submission calls one service: `act(cleaned_data)` returns the
    success message, or raises ValidationError, shown on the form. `extra()` adds to the
    page's context, worked out only when the page is shown."""
    if request.method == "POST" and form.is_valid():
        with attempt(form=form) as call:
            message = act(form.cleaned_data)
        if call.ok:
            messages.success(request, message)
            return _back(plan_round, system)
    return render(
        request,
        template,
        {"round": plan_round, "system": system, "form": form, **(extra() if extra else {})},
        status=422 if request.method == "POST" else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def system_submit(request, slug, code):
    plan_round, system = round_and_system(request, slug, code)
    if not policy.can_submit_system_plan(request.user, system):
        raise PermissionDenied("Only the system lead can submit the system plan.")
    policy.require_second_factor(request.user, "submit the system plan")

    def act(data):
        plan = system_plan_get(request.user, plan_round, system)
        version = system_services.system_plan_submit(
            actor=request.user, plan=plan, narrative=data["narrative"]
        )
        return f"System plan version {version.number} sent to the region."

    form = NarrativeForm(request.POST or None)
    return _form_page(
        request, plan_round, system, form, "plans/system_submit.html", act,
        lambda: _what_is_sent(request.user, plan_round, system),
    )  # fmt: skip


def _what_is_sent(user, plan_round, system) -> dict:
    """What the lead is about to freeze: where each plan stands, the mismatches, and after an
    approval what has changed since."""

    plan = system_plan_get(user, plan_round, system)
    states = [s.state for s in plan.statuses]
    latest, changes = changes_since_sent(plan)
    return {
        "summary": {
            "organisations": len(states),
            "accepted": states.count("accepted"),
            "awaiting_lead": states.count("submitted"),
            "not_in": sum(1 for s in states if s not in ("accepted", "submitted")),
            "late": sum(1 for s in plan.statuses if s.late),
            "mismatches": len(plan.flagged),
            "awaiting_pairs": len(plan.awaiting),
            "surplus": sum(plan.surplus_by_organisation.values()),
        },
        "latest": latest,
        "changes": changes,
    }


@login_required
@require_http_methods(["GET", "POST"])
def system_approve(request, slug, code):
    """Approving is a second step that repeats the evidence of the version sent; one with
    mismatches or pay flags needs a confirmation and a note."""
    plan_round, system = round_and_system(request, slug, code)
    if not policy.can_review_system_plan(request.user, system):
        raise PermissionDenied("Only the region's reviewers can approve a system plan.")
    policy.require_second_factor(request.user, "approve a system plan")
    version = (
        SystemVersion.objects.filter(submission__round=plan_round, submission__system=system)
        .select_related("submission")
        .order_by("-number")
        .first()
    )
    if version is None:
        raise Http404("The system plan has not been sent to the region.")
    found = evidence.system_evidence(plan_round, system, version.snapshot)
    form = DecisionNoteForm(
        # Bound on every POST: with nothing to acknowledge an empty POST is a valid accept.
        request.POST if request.method == "POST" else None,
        concerns=found.concern_summary,
        label="Why are you approving the system plan with these?",
        help_text="The system lead sees this as a comment on the system plan.",
        shown=f"{version.number}:{found.concern_summary}",
    )

    def act(data):
        system_services.system_plan_approve(
            actor=request.user, plan_round=plan_round, system=system, note=data["note"]
        )
        return f"{system.name}'s plan is approved."

    return _form_page(
        request, plan_round, system, form, "plans/system_approve.html", act,
        lambda: {"version": version, "evidence": found},
    )  # fmt: skip


@login_required
@require_http_methods(["GET", "POST"])
def system_return(request, slug, code):
    plan_round, system = round_and_system(request, slug, code)
    if not policy.can_review_system_plan(request.user, system):
        raise PermissionDenied("Only the region's reviewers can return a system plan.")
    policy.require_second_factor(request.user, "return a system plan")

    def act(data):
        system_services.system_plan_return(
            actor=request.user, plan_round=plan_round, system=system, reason=data["reason"]
        )
        return f"{system.name}'s plan has been returned with your reasons."

    form = ReasonForm(request.POST or None)
    return _form_page(request, plan_round, system, form, "plans/system_return.html", act)


@login_required
@require_POST
def system_comment(request, slug, code):
    plan_round, system = round_and_system(request, slug, code)
    with attempt(request) as call:
        system_services.system_comment_add(
            actor=request.user,
            plan_round=plan_round,
            system=system,
            body=request.POST.get("body", ""),
        )
    if call.ok:
        messages.success(request, "Comment added.")
    return _back(plan_round, system)


@login_required
def region_systems(request, slug, code):
    plan_round = selectors.round_get(request.user, slug)
    region = region_get(request.user, code)
    rows = region_overview(request.user, plan_round, region)
    totals = control_totals_by_system(plan_round, [row.system for row in rows])
    for row in rows:
        row.sct = system_control_total(totals[row.system.pk])
        row.against_sct = None if row.sct is None else row.surplus - row.sct
    return render(
        request, "plans/region_overview.html", {"round": plan_round, "region": region, "rows": rows}
    )
