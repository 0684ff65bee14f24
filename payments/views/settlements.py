"""Settlement pages: enter a period's actuals against an agreement in force, see the flows
and workings, propose, answer, decide."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts import policy
from openbook.refusals import attempt, show
from payments import selectors
from payments.calculations.mechanisms import ParameterProblems
from payments.calculations.version import current as calculation_version
from payments.forms import (
    SettlementAnswerForm,
    SettlementDecisionForm,
    SettlementEntryForm,
    cleaned,
)
from payments.services import agreements as services
from payments.services import settlements
from payments.views.agreements import detail_page, form_blocks
from payments.views.common import round_and_system

HUNDRED = Decimal(100)


def _settlement_url(settlement) -> str:
    a = settlement.agreement
    return reverse("settlement_detail", args=[a.round.slug, a.system.code, a.pk, settlement.pk])


@login_required
@require_POST
def settlement_enter(request, slug, code, pk):
    plan_round, system = round_and_system(request, slug, code)
    agreement = selectors.agreement_get(request.user, plan_round, system, pk)
    version = services.in_force(agreement)
    count = len(version.mechanisms) if version else 0
    form = SettlementEntryForm(request.POST, count=count)
    unusual = False
    with attempt() as call:
        data = cleaned(form)
        try:
            settlement = settlements.settlement_enter(
                actor=request.user, agreement=agreement, period=data["period"],
                measures=list(data["measures"].values()),
                outcomes=list(data["outcomes"].values()) if data["one_for_all"] is None else None,
                outcomes_met=data["one_for_all"],
                confirm_unusual=data["confirmed"],
            )  # fmt: skip
        except settlements.UnusualActuals:
            unusual = True
            raise
    if call.refusal:
        # The page again, with what was typed and what is wrong with it (and, for actuals far
        # from the plan, the box to confirm them).
        typed = form.cleaned_data  # as typed, whether or not each field was accepted
        entry = {"period": typed["period"], "outcomes": typed["outcomes"],
                 "measures": typed["measures"], "error": call.refusal.message,
                 "problems": call.refusal.problems, "unusual": unusual,
                 "confirmed_for": typed["asked"]}  # fmt: skip
        return detail_page(request, plan_round, system, agreement, entry, status=422)
    messages.success(request, "Entered. The worker is working out the settlement.")
    return redirect(_settlement_url(settlement))


@login_required
def settlement_detail(request, slug, code, pk, sid):
    plan_round, system = round_and_system(request, slug, code)
    agreement = selectors.agreement_get(request.user, plan_round, system, pk)
    settlement = selectors.settlement_get(request.user, agreement, sid)
    return _settlement_page(request, plan_round, system, agreement, settlement)


def _settlement_page(request, plan_round, system, agreement, settlement, error=None, status=200):
    """The settlement's page; `error` a refused answer or decision: {"field": the input's id,
    "message"}, shown in the error summary and on the field."""
    partners = sorted(settlement.version.partners.all(), key=lambda o: o.name)
    responses = {r.organisation_id: r for r in settlement.responses.select_related("responded_by")}
    context = {
        "round": plan_round,
        "system": system,
        "agreement": agreement,
        "settlement": settlement,
        "rows": [
            (o, (settlement.flows or {}).get(o.ods_code), responses.get(o.pk)) for o in partners
        ],
        "can_lead": policy.can_draft_agreement(request.user, system),
        "can_decide": policy.can_decide_settlement(request.user, system),
        "can_respond": [
            o
            for o in partners
            if o.pk not in responses and policy.can_answer_settlement(request.user, o)
        ],  # fmt: skip
        "measures": [
            (block["label"], value, met, follows)
            for block, value, met, follows in zip(
                form_blocks(settlement.version.mechanisms, partners),
                settlement.measures,
                settlement.outcomes or [None] * len(settlement.measures),
                _follows(settlement),
                strict=False,
            )
        ],  # fmt: skip
        "error": error,
        "flows_today": settlements.flows_today(settlement),
        "calculation_version": calculation_version(),
    }
    if request.htmx and request.GET.get("part") == "result":
        return render(request, "payments/settlement_detail.html#result", context)
    return render(request, "payments/settlement_detail.html", context, status=status)


def _follows(settlement) -> list[str]:
    """What each mechanism's actual is ("spend", pounds and pence; "activity", units), for its
    unit."""
    try:
        return [m.follows for m in services.built_mechanisms(settlement.version)]
    except ParameterProblems:  # terms a later rule refuses: the figures without a unit
        return [""] * len(settlement.measures)


def _settlement_action(request, slug, code, pk, sid, act, done: str, field: str = "", allowed=None):
    """Do `act`; a refusal that names the reason comes back on the page, on `field`.
    `allowed(system)`, when given, is the policy's check, made once the settlement is found
    (so a settlement that is not there is 404 to everyone) and before the form is read."""
    plan_round, system = round_and_system(request, slug, code)
    agreement = selectors.agreement_get(request.user, plan_round, system, pk)
    settlement = selectors.settlement_get(request.user, agreement, sid)
    if allowed is not None and not allowed(system):
        raise PermissionDenied
    with attempt() as call:
        act(settlement)
    if call.refusal and field and "reason" in call.refusal.fields:
        error = {"field": field, "message": call.refusal.fields["reason"]}
        return _settlement_page(request, plan_round, system, agreement, settlement,
                                error=error, status=422)  # fmt: skip
    if call.refusal:
        show(request, call.refusal)
    else:
        messages.success(request, done)
    return redirect(_settlement_url(settlement))


@login_required
@require_POST
def settlement_propose(request, slug, code, pk, sid):
    return _settlement_action(
        request, slug, code, pk, sid,
        lambda s: settlements.settlement_propose(actor=request.user, settlement=s),
        "Proposed to the partners.",
    )  # fmt: skip


@login_required
@require_POST
def settlement_withdraw(request, slug, code, pk, sid):
    return _settlement_action(
        request, slug, code, pk, sid,
        lambda s: settlements.settlement_withdraw(actor=request.user, settlement=s),
        "Settlement withdrawn.",
    )  # fmt: skip


@login_required
@require_POST
def settlement_respond(request, slug, code, pk, sid):
    _, system = round_and_system(request, slug, code)
    form = SettlementAnswerForm(request.POST, system=system)
    accepted = form.is_valid() and form.cleaned_data["answer"] == "accept"
    organisation = form.cleaned_data.get("organisation")
    if organisation is None:
        raise Http404("No such partner.")
    return _settlement_action(
        request, slug, code, pk, sid,
        lambda s: settlements.settlement_respond(
            actor=request.user, settlement=s, organisation=organisation, accepted=accepted,
            reason=cleaned(form)["reason"],
        ),
        f"{organisation.name} " + ("accepts the settlement." if accepted else
                                   "disputes the settlement: it goes to the region."),
        field=f"reason-{organisation.ods_code}",
        allowed=lambda _: policy.can_answer_settlement(request.user, organisation),
    )  # fmt: skip


@login_required
@require_POST
def settlement_decide(request, slug, code, pk, sid):
    form = SettlementDecisionForm(request.POST)
    uphold = form.is_valid() and form.cleaned_data["decision"] == "uphold"
    return _settlement_action(
        request, slug, code, pk, sid,
        lambda s: settlements.settlement_decide(
            actor=request.user, settlement=s, uphold=uphold, reason=cleaned(form)["reason"]
        ),
        "Decided: the settlement stands." if uphold else "Set aside: the lead proposes again.",
        field="decision-reason",
        allowed=lambda system: policy.can_decide_settlement(request.user, system),
    )  # fmt: skip
