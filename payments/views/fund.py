"""The fund page of a system: the rules, allocations, what each partner earns by quarter with
its workings, the system's position, and discretionary releases."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts import policy
from openbook.refusals import attempt
from payments import coalescing, selectors
from payments.calculations.version import current as calculation_version
from payments.forms import (
    FundRulesForm,
    FundShareForm,
    ReleaseDecisionForm,
    ReleaseProposalForm,
    cleaned,
    per_organisation,
)
from payments.models import Fund
from payments.services import fund as fund_services
from payments.views.common import round_and_system


def _back(plan_round, system):
    return redirect(reverse("fund", args=[plan_round.slug, system.code]))


def _fund_or_404(request, plan_round, system) -> Fund:
    fund = selectors.fund_for(request.user, plan_round, system)
    if fund is None:
        raise Http404("This round has no fund yet.")
    return fund


@login_required
def fund(request, slug, code):
    plan_round, system = round_and_system(request, slug, code)
    fund = selectors.fund_for(request.user, plan_round, system)
    result = selectors.result_for(request.user, plan_round, system)
    context = {
        "round": plan_round,
        "system": system,
        "fund": fund,
        "result": result,
        "fund_result": (result.data.get("fund") if result else None),
        "pending": coalescing.is_pending(plan_round.pk, system.pk),
        "calculation_version": calculation_version(),
        "can_manage": policy.can_manage_fund(request.user),
        "can_allocate": policy.can_set_allocations(request.user, system),
        "can_choose": policy.can_choose_system_share(request.user, system),
        "can_propose": policy.can_propose_release(request.user, system),
        "can_decide": policy.can_decide_release(request.user, system),
    }
    if request.htmx and request.GET.get("part") == "results":
        return render(request, "payments/fund.html#results", context)
    if fund is not None:
        cts = selectors.control_totals_for(request.user, plan_round, system)
        allocations = selectors.allocations_for(request.user, fund, system)
        eligible = fund_services.default_eligible(plan_round, system)
        context |= {
            "rows": [
                {
                    "organisation": o,
                    "ct": cts.get(o.ods_code),
                    "allocation": allocations.get(o.ods_code),
                    "eligible": o.ods_code in eligible,
                }
                for o in system.organisations.order_by("name")
            ],
            "allocated": [
                o for o in system.organisations.order_by("name") if o.ods_code in allocations
            ],  # fmt: skip
            "releases": selectors.releases_for(request.user, fund, system),
            "rules": fund_services.rules_for(fund, system),
        }
    return render(request, "payments/fund.html", context)


@login_required
@require_POST
def fund_rules(request, slug, code):
    plan_round, system = round_and_system(request, slug, code)
    selectors.fund_for(request.user, plan_round, system)  # 404 for outsiders first
    if not policy.can_manage_fund(request.user):
        raise PermissionDenied("A round's fund is set by platform administrators.")
    with attempt(request, prefix="Nothing was saved.") as call:
        rules = cleaned(FundRulesForm(request.POST))
        fund_services.fund_save(
            actor=request.user,
            plan_round=plan_round,
            name=rules["name"],
            system_share=rules["system_share"],
            phasing=[rules[f"q{q}"] for q in (1, 2, 3, 4)],
            taper=rules["taper"],
            taper_zero_at=rules["taper_zero_at"],
        )
    if call.ok:
        messages.success(request, "Fund rules saved; every system's figures will be recalculated.")
    return _back(plan_round, system)


@login_required
@require_POST
def fund_share(request, slug, code):
    plan_round, system = round_and_system(request, slug, code)
    fund = _fund_or_404(request, plan_round, system)
    if not policy.can_choose_system_share(request.user, system):
        raise PermissionDenied
    with attempt(request) as call:
        share = cleaned(FundShareForm(request.POST))["system_share"]
        fund_services.system_share_choose(actor=request.user, fund=fund, system=system, share=share)
    if call.ok:
        messages.success(request, "The system's share is saved.")
    return _back(plan_round, system)


@login_required
@require_POST
def fund_allocations(request, slug, code):
    plan_round, system = round_and_system(request, slug, code)
    fund = _fund_or_404(request, plan_round, system)
    if not policy.can_set_allocations(request.user, system):
        raise PermissionDenied
    with attempt(request, prefix="Nothing was saved.") as call:
        typed = per_organisation(request.POST, "alloc:", system.organisations.all(), "allocation")
        amounts = {organisation.ods_code: amount for organisation, amount in typed.items()}
        changed = fund_services.allocations_set(
            actor=request.user, fund=fund, system=system, amounts=amounts
        )
    if call.ok:
        messages.success(request, f"Allocations saved ({changed} changed).")
    return _back(plan_round, system)


@login_required
@require_POST
def release_propose(request, slug, code):
    plan_round, system = round_and_system(request, slug, code)
    fund = _fund_or_404(request, plan_round, system)
    if not policy.can_propose_release(request.user, system):
        raise PermissionDenied
    with attempt(request) as call:
        release = cleaned(ReleaseProposalForm(request.POST, system=system))
        fund_services.release_propose(actor=request.user, fund=fund, **release)
    if call.ok:
        messages.success(request, "Release proposed: it counts once the region agrees.")
    return _back(plan_round, system)


@login_required
@require_POST
def release_decide(request, slug, code, pk):
    plan_round, system = round_and_system(request, slug, code)
    fund = _fund_or_404(request, plan_round, system)
    release = selectors.release_get(request.user, fund, system, pk)
    if not policy.can_decide_release(request.user, system):
        raise PermissionDenied
    with attempt(request) as call:
        decision = cleaned(ReleaseDecisionForm(request.POST))
        agreed = decision["decision"] == "agree"
        fund_services.release_decide(
            actor=request.user, release=release, agreed=agreed, note=decision["note"]
        )
    if call.ok:
        messages.success(request, "Release agreed." if agreed else "Release refused.")
    return _back(plan_round, system)


@login_required
@require_POST
def release_withdraw(request, slug, code, pk):
    plan_round, system = round_and_system(request, slug, code)
    fund = _fund_or_404(request, plan_round, system)
    release = selectors.release_get(request.user, fund, system, pk)
    with attempt(request) as call:
        fund_services.release_withdraw(actor=request.user, release=release)
    if call.ok:
        messages.success(request, "Release withdrawn.")
    return _back(plan_round, system)
