"""Control totals and transfers for a system in a round."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts import policy
from openbook.refusals import attempt
from payments import coalescing, selectors
from payments.calculations.control_totals import (
    Move,
    TransferProblem,
    apply_transfer,
    system_control_total,
)
from payments.calculations.positions import positions
from payments.calculations.version import current as calculation_version
from payments.forms import (
    TransferDecisionForm,
    TransferProposalForm,
    cleaned,
    per_organisation,
)
from payments.services import recalculation
from payments.services import transfers as transfer_service
from payments.services.control_totals import (
    CONTROL_TOTALS_FILE_BYTES,
    control_total_set,
    control_totals_import,
)
from payments.views.common import round_and_system
from plans import selectors as plan_selectors
from plans.system_plan import system_plan_get


def _back(plan_round, system):
    return redirect(reverse("control_totals", args=[plan_round.slug, system.code]))


@login_required
def control_totals(request, slug, code):
    plan_round, system = round_and_system(request, slug, code)
    return _page(request, plan_round, system)


def _effects(transfer, parties, control_totals) -> list[tuple]:
    """For the organisations this person decides for: (organisation, control total now, after
    the transfer), by the same calculation that applies it; the lead sees the system's, which
    a net-neutral transfer leaves as it is."""
    moves = [Move(line.organisation.ods_code, line.amount) for line in transfer.lines.all()]
    try:
        after = apply_transfer(moves, control_totals)
    except TransferProblem:
        return []  # no longer applies; agreeing says why
    effects = [(p.name, control_totals.get(p.ods_code), after.get(p.ods_code))
               for p in parties if p is not None]  # fmt: skip
    if None in parties:
        effects.append((f"{transfer.system.name} (the system)", system_control_total(
            control_totals), system_control_total(after)))  # fmt: skip
    return effects


def _page(request, plan_round, system, proposal: dict | None = None, status: int = 200):
    """The control totals page; `proposal` is a transfer form sent back with its problem.
    The results part (what the page polls every two seconds while the worker runs) comes
    first, so a poll never collates the system plan."""
    result = selectors.result_for(request.user, plan_round, system)
    results = {
        "result": result,
        "pending": coalescing.is_pending(plan_round.pk, system.pk),
        "calculation_version": calculation_version(),
        "last_run": selectors.last_run(request.user, plan_round, system),
    }
    if request.htmx and request.GET.get("part") == "results":
        return render(
            request,
            "payments/control_totals.html#results",
            {"round": plan_round, "system": system, **results},
        )
    cts = selectors.control_totals_for(request.user, plan_round, system)
    planned = system_plan_get(request.user, plan_round, system).surplus_by_organisation
    # The same pure calculation the recalculation worker uses, on the live figures.
    by_ods, system_position = positions(cts, planned)
    by_ods = {p.organisation: p for p in by_ods}
    rows = [
        {
            "organisation": organisation,
            "ct": by_ods[organisation.ods_code].control_total,
            "planned": by_ods[organisation.ods_code].planned,
            "gap": by_ods[organisation.ods_code].variance,
        }
        for organisation in system.organisations.order_by("name")
    ]
    transfers = list(selectors.transfers_for(request.user, plan_round, system))
    for transfer in transfers:
        transfer.waiting = selectors.pending_parties(transfer)
        parties = transfer_service.undecided_parties_for(request.user, transfer)
        transfer.can_decide = bool(parties)
        transfer.effects = _effects(transfer, parties, cts) if parties else []
    return render(
        request,
        "payments/control_totals.html",
        results
        | {
            "round": plan_round,
            "system": system,
            "rows": rows,
            "sct": system_position.control_total,
            "planned_total": system_position.planned,
            "transfers": transfers,
            "can_set": policy.can_set_control_totals(request.user, system),
            "can_propose": policy.can_propose_transfer(request.user, system),
            "partners": [r["organisation"] for r in rows if r["ct"] is not None],
            "proposal": proposal or {"moves": [("", "")] * 3, "reason": ""},
        },
        status=status,
    )


@login_required
@require_POST
def control_totals_save(request, slug, code):
    plan_round, system = round_and_system(request, slug, code)
    if not policy.can_set_control_totals(request.user, system):
        raise PermissionDenied(
            "Control totals are set by the region's reviewers and administrators."
        )
    if request.FILES.get("file"):
        with attempt(request) as call:
            # One byte more than may be sent, so a larger file is refused, not cut short.
            data = request.FILES["file"].read(CONTROL_TOTALS_FILE_BYTES + 1)
            count = control_totals_import(
                actor=request.user, plan_round=plan_round, system=system, data=data
            )
        if call.ok:
            messages.success(request, f"{count} control totals set from the file.")
        return _back(plan_round, system)
    with attempt(request, prefix="Nothing was saved.") as call, transaction.atomic():
        typed = per_organisation(request.POST, "ct:", system.organisations.all(), "control total")
        for organisation, amount in typed.items():  # all the page's changes, or none
            control_total_set(
                actor=request.user, plan_round=plan_round, organisation=organisation, amount=amount
            )
    if call.ok:
        messages.success(request, "Control totals saved.")
    return _back(plan_round, system)


@login_required
@require_POST
def transfer_propose(request, slug, code):
    plan_round, system = round_and_system(request, slug, code)
    if not policy.can_propose_transfer(request.user, system):
        raise PermissionDenied("Transfers are proposed by the system lead or a partner's approver.")
    form = TransferProposalForm(request.POST, system=system)
    with attempt() as call:
        data = cleaned(form)
        try:
            transfer_service.transfer_propose(
                actor=request.user, plan_round=plan_round, system=system, moves=data["moves"],
                reason=data["reason"],
            )  # fmt: skip
        except policy.SecondFactorRequired:
            raise  # to the code page and back (accounts/middleware.py)
        except PermissionDenied as exc:  # a partner's approver naming two other organisations
            raise ValidationError(str(exc)) from None
    if call.refusal:
        # Sent back with what was typed, so nothing has to be entered again.
        problem = call.refusal.message
        typed = form.typed()
        typed += [("", "")] * (3 - len(typed))
        return _page(
            request,
            plan_round,
            system,
            {
                "moves": typed,
                "reason": form.data.get("reason", ""),
                "error": problem + " Nothing was proposed.",
            },  # fmt: skip
            status=422,
        )
    messages.success(request, "Transfer proposed. It takes effect when every party has agreed.")
    return _back(plan_round, system)


@login_required
@require_POST
def transfer_decide(request, slug, code, pk):
    plan_round, system = round_and_system(request, slug, code)
    transfer = selectors.transfer_get(request.user, plan_round, system, pk)
    if not policy.transfer_parties(request.user, transfer):
        raise PermissionDenied
    with attempt(request) as call:
        decision = cleaned(TransferDecisionForm(request.POST))
        agreed = decision["decision"] == "agree"
        transfer_service.transfer_decide(
            actor=request.user, transfer=transfer, agreed=agreed, reason=decision["reason"]
        )
    if call.ok:
        messages.success(
            request, "Your agreement is recorded." if agreed else "You refused the transfer."
        )
    return _back(plan_round, system)


@login_required
@require_POST
def transfer_withdraw(request, slug, code, pk):
    plan_round, system = round_and_system(request, slug, code)
    transfer = selectors.transfer_get(request.user, plan_round, system, pk)
    with attempt(request) as call:
        transfer_service.transfer_withdraw(actor=request.user, transfer=transfer)
    if call.ok:
        messages.success(request, "Transfer withdrawn.")
    return _back(plan_round, system)


# --- a national recalculation, started by an administrator -------------------------------------


@login_required
def national_recalculation(request, slug):
    plan_round = plan_selectors.round_get(request.user, slug)
    if not policy.can_recalculate_round(request.user):
        raise PermissionDenied("A national recalculation is started by platform administrators.")
    systems = recalculation.round_systems(plan_round)
    if request.method == "POST":
        recalculation.national_start(actor=request.user, plan_round=plan_round, systems=systems)
        messages.success(request, f"Recalculating {len(systems)} systems on the worker.")
        return redirect(reverse("national_recalculation", args=[plan_round.slug]))
    context = {
        "round": plan_round,
        "systems": systems,
        "progress": recalculation.national_progress(plan_round),
    }
    if request.htmx and request.GET.get("part") == "progress":
        return render(request, "payments/national_recalculation.html#progress", context)
    return render(request, "payments/national_recalculation.html", context)
