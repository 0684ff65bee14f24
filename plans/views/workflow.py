"""Submit (approver), accept or return (system lead), recall (approver)."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from accounts import policy
from openbook.forms import DateInputField, DecisionNoteForm
from openbook.refusals import attempt, on_form
from plans import evidence, services
from plans.readiness import readiness
from plans.views.common import plan_context


class SubmitForm(forms.Form):
    board_approval_date = DateInputField(
        label="Date the board approved the plan", help_text="For example, 27 11 2026"
    )
    late_reason = forms.CharField(
        label="Why is the plan late?",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Only needed after the final deadline.",
    )
    confirmed = forms.BooleanField(
        label="I confirm the board has approved this plan, and I am submitting it on its behalf.",
        required=True,
        error_messages={"required": "Confirm that the board has approved this plan."},
    )


class ReturnForm(forms.Form):
    reason = forms.CharField(
        label="Why is the plan being returned?",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="The organisation sees this as a comment on its plan.",
        max_length=5000,
    )


def _back(ctx):
    return redirect(reverse("plan_detail", args=[ctx.round.slug, ctx.organisation.ods_code]))


def _need_submission(ctx):
    if ctx.submission is None:
        raise Http404("No plan.")
    return ctx.submission


@login_required
@require_http_methods(["GET", "POST"])
def submit(request, slug, ods_code):
    ctx = plan_context(request, slug, ods_code)
    submission = _need_submission(ctx)
    if not ctx.can_submit:
        raise PermissionDenied("Only the organisation's approvers can submit its plan.")
    # Asked before the form is filled in, not after.
    policy.require_second_factor(request.user, "submit the plan")
    form = SubmitForm(request.POST or None)
    refused = False
    if request.method == "POST" and form.is_valid():
        with attempt() as call:
            version = services.submission_submit(
                actor=request.user, submission=submission, **form.cleaned_data
            )
        if call.refusal is not None and call.refusal.problems:
            refused = True  # the blockers below say what and where
        elif call.refusal is not None:
            on_form(form, call.refusal)
        else:
            note = " It was flagged as late." if version.late else ""
            messages.success(request, f"Plan submitted as version {version.number}.{note}")
            return _back(ctx)
    late = timezone.now() > ctx.round.final_deadline
    draft = submission.versions.filter(number=0).first()
    blockers = readiness(submission, draft).blockers
    return render(
        request,
        "plans/submit.html",
        ctx.as_dict()
        | {
            "form": form,
            "blockers": blockers,
            "refused": refused or (request.method == "POST" and bool(blockers)),
            "late": late,
            "today": dt.date.today(),
        },
        status=422 if request.method == "POST" else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def accept(request, slug, ods_code):
    """Accepting is a second step: the page repeats the evidence, and a plan with mismatches
    or flags needs a confirmation and a note."""
    ctx = plan_context(request, slug, ods_code)
    submission = _need_submission(ctx)
    if not ctx.can_decide:
        raise PermissionDenied("Only the system lead can accept a plan.")
    policy.require_second_factor(request.user, "accept a plan")
    found = evidence.evidence_for(request.user, submission)
    form = DecisionNoteForm(
        # Bound on every POST: with nothing to acknowledge an empty POST is a valid accept.
        request.POST if request.method == "POST" else None,
        concerns=found.concern_summary if found else "",
        label="Why are you accepting the plan with these?",
        help_text="The organisation and its partners see this as a comment on the plan.",
        shown=f"{submission.versions.order_by('-number').values_list('number', flat=True).first()}"
        f":{found.concern_summary if found else ''}",
    )
    if request.method == "POST" and form.is_valid():
        with attempt(form=form) as call:
            services.submission_accept(
                actor=request.user, submission=submission, note=form.cleaned_data["note"]
            )
        if call.ok:
            messages.success(request, f"{ctx.organisation.name}'s plan is accepted.")
            return _back(ctx)
    return render(
        request,
        "plans/accept.html",
        ctx.as_dict() | {"form": form, "evidence": found},
        status=422 if request.method == "POST" else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def return_plan(request, slug, ods_code):
    ctx = plan_context(request, slug, ods_code)
    submission = _need_submission(ctx)
    if not ctx.can_decide:
        raise PermissionDenied("Only the system lead can return a plan.")
    policy.require_second_factor(request.user, "return a plan")
    form = ReturnForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with attempt(form=form) as call:
            services.submission_return(
                actor=request.user, submission=submission, reason=form.cleaned_data["reason"]
            )
        if call.ok:
            messages.success(
                request, f"{ctx.organisation.name}'s plan has been returned with your reason."
            )
            return _back(ctx)
    return render(request, "plans/return.html", ctx.as_dict() | {"form": form},
                  status=422 if request.method == "POST" else 200)  # fmt: skip


@login_required
@require_POST
def recall(request, slug, ods_code):
    ctx = plan_context(request, slug, ods_code)
    with attempt(request) as call:
        services.submission_recall(actor=request.user, submission=_need_submission(ctx))
    if call.ok:
        messages.success(request, "The plan is recalled and back in draft.")
    return _back(ctx)
