"""Settlements under agreed risk-share agreements, and the decision on each: the lead enters
the period's actuals and outcome results, the worker works out what each partner pays or
receives, the lead proposes it, each partner accepts or disputes, a dispute goes to the
region's reviewer. Every step is one transaction, checks the policy and is audited; an agreed
or decided settlement is never edited, only superseded by a later one."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from celery import current_app
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts import policy
from notifications import occasions
from openbook import numbers
from openbook.audit import audit_record
from openbook.errors import ProblemList
from payments.calculations.mechanisms import (
    LIMIT,
    PERIOD_FRACTIONS,
    ParameterProblems,
    outcomes_for,
    pounds_text,
    settle_all,
    worked_measure,
)
from payments.calculations.version import current as calculation_version
from payments.models import Agreement, AgreementVersion, Settlement, SettlementResponse
from payments.services.agreements import built_mechanisms, in_force
from webhooks import services as webhooks
from webhooks.models import Event

if TYPE_CHECKING:
    from accounts.models import Organisation, User

logger = logging.getLogger(__name__)
ZERO = Decimal(0)
S = Settlement.Status
FINAL = (S.AGREED, S.DECIDED)


def _locked(settlement: Settlement) -> Settlement:
    return (
        Settlement.objects.select_for_update()
        .select_related("agreement__system", "version")
        .get(pk=settlement.pk)
    )


def _not_now(settlement: Settlement, doing: str) -> ValidationError:
    return ValidationError(
        f"This settlement is {settlement.get_status_display().lower()}, so it cannot be {doing}."
    )


def _audit(action: str, actor, settlement: Settlement, **extra) -> None:
    audit_record(action=action, actor=actor, system=settlement.agreement.system, obj=settlement,
                 **extra)  # fmt: skip


def _announce(event: Event, settlement: Settlement, **data) -> None:
    """Tell the system's webhooks a settlement is settled: its flows as agreed or decided."""
    a = settlement.agreement
    r, s = a.round, a.system
    webhooks.emit(
        event,
        s,
        {"round": r.slug, "agreement": a.pk, "settlement": settlement.pk,
         "period": settlement.period, "status": settlement.status, "unit": "£",
         "flows": settlement.flows, "external": settlement.external, **data},
        links={"page": reverse("settlement_detail", args=[r.slug, s.code, a.pk, settlement.pk]),
               "api": reverse("api_settlement_detail",
                              args=[r.slug, s.code, a.pk, settlement.pk])},
    )  # fmt: skip


class UnusualActuals(ProblemList):
    """Actuals far from the period's phased plan: entered only once the person confirms."""


UNUSUAL = Decimal(2)  # more than twice the plan, or under half of it


def _far_from_plan(
    mechanisms: list, measures: list[str | None], period: str, fraction: Decimal
) -> list[dict[str, str]]:
    """Each actual more than twice, or under half, the period's share of the year's plan."""
    found = []
    period_name = "the year" if period == "year" else period
    for n, (mechanism, raw) in enumerate(zip(mechanisms, measures, strict=True), start=1):
        if raw is None:
            continue
        plan = mechanism.for_period(fraction).plan_measure
        actual = worked_measure(mechanism, raw)
        if plan > 0 and (actual > plan * UNUSUAL or actual * UNUSUAL < plan):
            shown = (numbers.amount(plan * 1000, numbers.GBP) if mechanism.follows == "spend"
                     else f"{numbers.figure(plan)} units")  # fmt: skip
            found.append({
                "cell": f"Mechanism {n} ({mechanism.label})",
                "value": raw,
                "problem": f"the actual {mechanism.follows} is "
                           f"{'more than twice' if actual > plan else 'under half'} the plan "
                           f"for {period_name}, {shown}",
            })  # fmt: skip
    return found


@transaction.atomic
def settlement_enter(
    *,
    actor: User,
    agreement: Agreement,
    period: str,
    measures: Sequence[str | None],
    outcomes_met: bool | None = None,
    outcomes: Sequence[bool | None] | None = None,
    confirm_unusual: bool = False,
) -> Settlement:
    """Enter a period's actuals, and for each mechanism linked to outcomes whether its
    outcome measures were met: `outcomes`, each mechanism's own answer in order, or
    `outcomes_met`, one answer for all of them. An actual more than twice the period's phased
    plan, or under half of it (a year's figure typed for a quarter, a figure in pounds typed
    as £000), is refused as UnusualActuals unless the person confirms it is right."""
    if not policy.can_draft_agreement(actor, agreement.system):
        raise PermissionDenied("Settlements are entered by the system lead.")
    agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
    version = in_force(agreement)
    if version is None:
        raise ValidationError("The agreement is not agreed yet: every partner must sign first.")
    if period not in PERIOD_FRACTIONS:
        raise ValidationError("Choose a quarter or the year.")
    if period_fraction(version, period) == 0:
        raise ValidationError(
            f"The agreement's phasing gives {period} none of the year: there is nothing to "
            "settle for that quarter."
        )
    try:
        mechanisms = built_mechanisms(version)
    except ParameterProblems as exc:
        raise ValidationError(
            ["The agreed terms cannot be settled as they stand; agree a new version first."]
            + exc.problems
        ) from None
    if len(measures) != len(mechanisms):
        raise ValidationError(
            f"Give one actual figure for each of the {len(mechanisms)} mechanisms."
        )
    answered = _outcomes(mechanisms, outcomes_met, outcomes)
    problems = []
    clean: list[str | None] = []
    for n, (mechanism, raw) in enumerate(zip(mechanisms, measures, strict=True), start=1):
        where = f"Mechanism {n} ({mechanism.label})"
        if mechanism.follows == "outcomes":
            clean.append(None)
            continue
        try:  # the one grammar: "12,34" is refused, not read as 1234
            value = numbers.parse(raw or "") if isinstance(raw, str | type(None)) else None
        except numbers.NotAFigure:
            value = None
        if value is None or not value.is_finite() or value < 0 or value >= LIMIT:
            why = "a number" if value is None or not value.is_finite() else (
                "zero or more" if value < 0 else "under 100,000,000,000")  # fmt: skip
            problems.append(
                {"cell": where, "value": raw or "",
                 "problem": f"the actual {mechanism.follows} must be {why}"}
            )  # fmt: skip
            continue
        if mechanism.follows == "spend" and value != value.quantize(Decimal("0.01")):
            problems.append(
                {"cell": where, "value": raw or "",
                 "problem": "the actual spend is in pounds and pence and goes no finer than "
                            "a penny, two decimal places"}
            )  # fmt: skip
            continue
        # One scale: spend in pounds and pence to two places, activity as typed.
        clean.append(f"{value:.2f}" if mechanism.follows == "spend" else format(value, "f"))
    if problems:
        raise ProblemList("The actuals could not be accepted; nothing was saved.", problems)
    unusual = _far_from_plan(mechanisms, clean, period, period_fraction(version, period))
    if unusual and not confirm_unusual:
        raise UnusualActuals(
            "Some actuals are far from the plan for the period; nothing was saved. Check each "
            "is the figure for the period chosen, then confirm.",
            unusual,
        )
    if agreement.settlements.filter(
        period=period, status__in=[S.DRAFT, S.PROPOSED, S.DISPUTED]
    ).exists():
        raise ValidationError(
            "A settlement for this period is already being decided: withdraw it first, or wait "
            "for the decision."
        )
    settlement = Settlement.objects.create(
        agreement=agreement, version=version, period=period, measures=clean,
        outcomes=answered, outcomes_met=all(a is not False for a in answered), created_by=actor,
    )  # fmt: skip
    _audit("settlement.entered", actor, settlement,
           after={"period": period, "version": version.number, "measures": clean,
                  "outcomes": answered, "outcomes_met": settlement.outcomes_met,
                  # Actuals far from the plan, entered because the lead confirmed them.
                  "confirmed_far_from_plan": [u["cell"] for u in unusual]})  # fmt: skip
    transaction.on_commit(lambda: enqueue(settlement.pk))
    return settlement


def _outcomes(
    mechanisms: Sequence, outcomes_met: bool | None, outcomes: Sequence[bool | None] | None
) -> list[bool | None]:
    """Each mechanism's answer (None for one not linked to outcomes), from one of the two
    ways of giving them."""
    if outcomes is not None and outcomes_met is not None:
        raise ValidationError(
            "Say whether outcome measures were met either for each mechanism or once for all "
            "of them, not both."
        )
    given = outcomes if outcomes is not None else outcomes_met
    if given is None:
        given = [None] * len(mechanisms)
    try:
        return outcomes_for(mechanisms, given)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None


def answers_of(settlement: Settlement) -> list[bool | None] | bool:
    """What the settlement was entered with: each mechanism's answer (one for all, for a
    settlement entered before mechanisms had their own; and that one answer for any
    outcome-linked mechanism the backfill could not tell was linked)."""
    if not settlement.outcomes:
        return settlement.outcomes_met
    return [settlement.outcomes_met if a is None else a for a in settlement.outcomes]


def enqueue(settlement_id: int) -> None:
    """Queue the worker's task by its name: the task module imports this one, not the other
    way round."""
    current_app.send_task("payments.compute_settlement", args=[settlement_id])


def period_fraction(version: AgreementVersion, period: str) -> Decimal:
    """The period's share of the year under the agreed terms: a quarter's share by the
    agreement's phasing, the whole year as it is."""
    if period.startswith("Q"):
        return version.quarter_shares[int(period[1]) - 1]
    return PERIOD_FRACTIONS[period]


def _worked(mechanisms: list, measures: list[str | None]) -> list[Decimal | None]:
    return [None if m is None else worked_measure(mech, m)
            for mech, m in zip(mechanisms, measures, strict=True)]  # fmt: skip


def compute(settlement_id: int) -> Settlement:
    """The worker's part: what each partner pays or receives, with workings. Idempotent."""
    with transaction.atomic():
        settlement = Settlement.objects.select_for_update().get(pk=settlement_id)
        if settlement.computed_at is not None and (
            settlement.status != S.DRAFT or settlement.calculation_version > calculation_version()
        ):
            # Once proposed it is what the partners were asked, and is never redone (a sweep
            # queued before the proposal must not rewrite it); nor does an older worker, mid
            # deploy, redo what a newer one worked out.
            return settlement
        fraction = period_fraction(settlement.version, settlement.period)
        data: dict[str, Any]
        mechanisms: list = []
        try:
            # Terms a later rule refuses are a settlement that cannot be worked out: recorded
            # and shown, not retried for ever.
            mechanisms = built_mechanisms(settlement.version)
            measures = _worked(mechanisms, settlement.measures)
            flows, workings, external = settle_all(
                mechanisms, measures, answers_of(settlement), fraction
            )
        except (ValueError, ArithmeticError) as exc:
            # Inputs the rules cannot settle: recorded and shown, not retried for ever.
            data = {"flows": None, "workings": [{"mechanism": "Could not be worked out",
                                                 "steps": [str(exc)]}]}  # fmt: skip
        else:
            data = {
                "flows": {k: pounds_text(v) for k, v in sorted(flows.items())},
                "external": {k: pounds_text(v) for k, v in sorted(external.items()) if v},
                "workings": [
                    {"mechanism": m.label, "steps": steps}
                    for m, steps in zip(mechanisms, workings, strict=True)
                ],
            }
        digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()
        version = calculation_version()
        if settlement.result_hash != digest or settlement.calculation_version != version:
            settlement.flows, settlement.workings = data["flows"], data["workings"]
            settlement.external = data.get("external", {})
            settlement.result_hash = digest
            settlement.calculation_version = version
            settlement.computed_at = timezone.now()
            settlement.save(update_fields=["flows", "workings", "external", "result_hash",
                                           "computed_at", "calculation_version"])  # fmt: skip
    return settlement


def flows_today(settlement: Settlement) -> dict[str, str] | None:
    """For a settlement an older calculation version worked out: the flows today's would
    give, when any partner's amount differs from the stored one (None when they are the same,
    or it is current, or today's cannot be worked out). Shown on its page; the settlement
    itself is a record and is not changed."""
    if settlement.calculation_version >= calculation_version() or settlement.flows is None:
        return None
    try:
        mechanisms = built_mechanisms(settlement.version)
        measures = _worked(mechanisms, settlement.measures)
        fraction = period_fraction(settlement.version, settlement.period)
        flows = settle_all(mechanisms, measures, answers_of(settlement), fraction).flows
    except Exception:  # an old agreement today's rules cannot build: nothing to compare
        logger.warning("Settlement %s: today's calculation failed", settlement.pk, exc_info=True)
        return None
    stored = {k: Decimal(v) for k, v in settlement.flows.items()}
    today = {k: Decimal(pounds_text(v)) for k, v in flows.items()}
    partners = set(stored) | set(today)
    if all(stored.get(k, ZERO) == today.get(k, ZERO) for k in partners):
        return None
    return {k: pounds_text(flows.get(k, ZERO)) for k in sorted(partners)}


@transaction.atomic
def settlement_propose(*, actor: User, settlement: Settlement) -> Settlement:
    settlement = _locked(settlement)
    if not policy.can_draft_agreement(actor, settlement.agreement.system):
        raise PermissionDenied("Settlements are proposed by the system lead.")
    policy.require_second_factor(actor, "propose a settlement")
    if settlement.status != S.DRAFT:
        raise _not_now(settlement, "proposed")
    if settlement.computed_at is None:
        raise ValidationError("The settlement is still being worked out: try again in a moment.")
    if settlement.flows is None:
        raise ValidationError(
            "The settlement could not be worked out from these actuals: withdraw it and enter "
            "it again."
        )
    settlement.status = S.PROPOSED
    settlement.save(update_fields=["status"])
    _audit("settlement.proposed", actor, settlement,
           after={"flows": settlement.flows, "external": settlement.external})  # fmt: skip
    occasions.settlement_to_answer(actor, settlement)
    return settlement


@transaction.atomic
def settlement_withdraw(*, actor: User, settlement: Settlement) -> Settlement:
    settlement = _locked(settlement)
    if not policy.can_draft_agreement(actor, settlement.agreement.system):
        raise PermissionDenied("Only the system lead withdraws a settlement.")
    if settlement.status not in (S.DRAFT, S.PROPOSED):
        raise _not_now(settlement, "withdrawn")
    settlement.status = S.WITHDRAWN
    settlement.save(update_fields=["status"])
    _audit("settlement.withdrawn", actor, settlement)
    return settlement


def _supersede_earlier(settlement: Settlement) -> None:
    earlier = Settlement.objects.filter(
        agreement=settlement.agreement, period=settlement.period, status__in=FINAL
    ).exclude(pk=settlement.pk)  # fmt: skip
    for old in earlier:
        old.status = S.SUPERSEDED
        old.save(update_fields=["status"])
        _audit("settlement.superseded", None, old, payload={"by": settlement.pk})


@transaction.atomic
def settlement_respond(
    *, actor: User, settlement: Settlement, organisation: Organisation, accepted: bool,
    reason: str = "",
) -> Settlement:  # fmt: skip
    """A partner's approver accepts or disputes (with a reason). All accepting agrees it; any
    dispute sends it to the region's reviewer."""
    settlement = _locked(settlement)
    if not settlement.version.partners.filter(pk=organisation.pk).exists():
        raise PermissionDenied(f"{organisation.name} is not a partner in this agreement.")
    if not policy.can_answer_settlement(actor, organisation):
        raise PermissionDenied(f"Only {organisation.name}'s approvers answer for it.")
    policy.require_second_factor(actor, "accept or dispute a settlement")
    if settlement.status != S.PROPOSED:
        raise _not_now(settlement, "accepted or disputed")
    if settlement.responses.filter(organisation=organisation).exists():
        raise ValidationError(f"{organisation.name} has already answered.")
    if not accepted and not reason.strip():
        raise ValidationError(
            {"reason": "Say why you dispute the settlement: the region will read it."}
        )
    SettlementResponse.objects.create(settlement=settlement, organisation=organisation,
                                      accepted=accepted, reason=reason.strip(),
                                      responded_by=actor)  # fmt: skip
    _audit("settlement.accepted" if accepted else "settlement.disputed", actor, settlement,
           reason=reason.strip(), payload={"organisation": organisation.ods_code})  # fmt: skip
    if not accepted:
        settlement.status = S.DISPUTED
        settlement.save(update_fields=["status"])
        _audit("settlement.escalated", actor, settlement,
               payload={"to": "region", "disputed_by": organisation.ods_code})  # fmt: skip
        occasions.dispute_to_decide(actor, settlement, organisation, reason.strip())
    elif not settlement.version.partners.exclude(
        pk__in=settlement.responses.values_list("organisation_id", flat=True)
    ).exists():
        settlement.status = S.AGREED
        settlement.decided_at = timezone.now()
        settlement.save(update_fields=["status", "decided_at"])
        _supersede_earlier(settlement)
        _audit("settlement.agreed", actor, settlement,
               after={"flows": settlement.flows, "external": settlement.external})  # fmt: skip
        _announce(Event.SETTLEMENT_AGREED, settlement)
    return settlement


@transaction.atomic
def settlement_decide(
    *, actor: User, settlement: Settlement, uphold: bool, reason: str
) -> Settlement:
    """The region's reviewer decides a disputed settlement: upheld as proposed (binding), or
    set aside for the lead to propose again. Either way with a reason."""
    settlement = _locked(settlement)
    if not policy.can_decide_settlement(actor, settlement.agreement.system):
        raise PermissionDenied("Disputed settlements are decided by the region's reviewers.")
    policy.require_second_factor(actor, "decide a disputed settlement")
    if settlement.status != S.DISPUTED:
        raise _not_now(settlement, "decided")
    if not reason.strip():
        raise ValidationError({"reason": "Give the reason for the decision."})
    settlement.status = S.DECIDED if uphold else S.SET_ASIDE
    settlement.decided_by, settlement.decided_at = actor, timezone.now()
    settlement.decision_reason = reason.strip()
    settlement.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
    if uphold:
        _supersede_earlier(settlement)
    _audit(
        "settlement.decided" if uphold else "settlement.set_aside",
        actor,
        settlement,
        reason=settlement.decision_reason,
        after={"flows": settlement.flows, "external": settlement.external} if uphold else None,
    )
    _announce(Event.SETTLEMENT_DECIDED, settlement, decision="upheld" if uphold else "set aside",
              reason=settlement.decision_reason,
              # Set aside, its flows bind nobody: a receiver must not book them.
              **({} if uphold else {"flows": None, "external": None}))  # fmt: skip
    return settlement
