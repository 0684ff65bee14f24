"""The fund page of a system: the rules, allocations, what each partner earns by quarter with
its workings, the system's position, and discretionary releases."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts import policy
from openbook.refusals import attempt
from payments import coalescing, selectors
from payments.calculations.version import current as calculation_version
from payments.models import Fund
from payments.services import fund as fund_services
from payments.views.common import round_and_system
from plans.calculations import ValueProblem, parse_value

PERCENT = Decimal(100)


def _back(plan_round, system):
    return redirect(reverse("fund", args=[plan_round.slug, system.code]))


def _fund_or_404(request, plan_round, system) -> Fund:
    fund = selectors.fund_for(request.user, plan_round, system)
    if fund is None:
        raise Http404("This round has no fund yet.")
    return fund


def _percent(raw: str, what: str) -> Decimal:
    """A percentage typed as 50 or 50% → 0.5."""
    try:
        value = parse_value(raw.strip().removesuffix("%"))
    except ValueProblem as exc:
        raise ValidationError(f"{what} {exc}.") from None
    if value is None:
        raise ValidationError(f"Give {what.lower()}.")
    return value / PERCENT


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
    post = request.POST
    with attempt(request, prefix="Nothing was saved.") as call:
        taper = post.get("taper", "none")
        try:
            zero_at = parse_value(post.get("taper_zero_at", "")) if taper == "linear" else None
        except ValueProblem as exc:
            raise ValidationError(f"The shortfall at which the taper reaches zero {exc}.") from None
        fund_services.fund_save(
            actor=request.user,
            plan_round=plan_round,
            name=post.get("name", ""),
            system_share=_percent(post.get("system_share", ""), "The system share"),
            phasing=[_percent(post.get(f"q{q}", ""), f"Quarter {q}'s share") for q in (1, 2, 3, 4)],
            taper=taper,
            taper_zero_at=zero_at,
        )
    if call.ok:
        messages.success(request, "Fund rules saved; every system's figures will be recalculated.")
    return _back(plan_round, system)


@login_required
@require_POST
def fund_share(request, slug, code):
    plan_round, system = round_and_system(request, slug, code)
    fund = _fund_or_404(request, plan_round, system)
    with attempt(request) as call:
        fund_services.system_share_choose(
            actor=request.user, fund=fund, system=system,
            share=_percent(request.POST.get("system_share", ""), "The system's share"),
        )  # fmt: skip
    if call.ok:
        messages.success(request, "The system's share is saved.")
    return _back(plan_round, system)


@login_required
@require_POST
def fund_allocations(request, slug, code):
    plan_round, system = round_and_system(request, slug, code)
    fund = _fund_or_404(request, plan_round, system)
    amounts, problems = {}, []
    for organisation in system.organisations.all():
        field = f"alloc:{organisation.ods_code}"
        if field in request.POST:
            try:
                amounts[organisation.ods_code] = parse_value(request.POST[field])
            except ValueProblem as exc:
                problems.append(f"{organisation.name}: “{request.POST[field]}” {exc}.")
    with attempt(request, prefix="Nothing was saved.") as call:
        if problems:
            raise ValidationError(" ".join(problems))
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
    organisation = system.organisations.filter(ods_code=request.POST.get("organisation")).first()
    with attempt(request) as call:
        if organisation is None:
            raise ValidationError("Choose an organisation of the system.")
        try:
            quarter = int(request.POST.get("quarter", "0") or 0)
        except ValueError:
            raise ValidationError("Choose a quarter from 1 to 4.") from None
        fund_services.release_propose(
            actor=request.user, fund=fund, organisation=organisation, quarter=quarter,
            reason=request.POST.get("reason", ""),
        )  # fmt: skip
    if call.ok:
        messages.success(request, "Release proposed: it counts once the region agrees.")
    return _back(plan_round, system)


@login_required
@require_POST
def release_decide(request, slug, code, pk):
    plan_round, system = round_and_system(request, slug, code)
    fund = _fund_or_404(request, plan_round, system)
    release = selectors.release_get(request.user, fund, system, pk)
    agreed = request.POST.get("decision") == "agree"
    with attempt(request) as call:
        fund_services.release_decide(
            actor=request.user, release=release, agreed=agreed, note=request.POST.get("note", "")
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
