"""The system recalculation: control totals, the system control total and each partner's
planned position against its control total, worked out from a consistent snapshot and
stored with a hash of the inputs, so a repeat run on the same inputs changes nothing.

Anything that moves the numbers calls `request_recalculation` inside its transaction; the run
is queued when that transaction commits. Bursts coalesce: while a run is queued (it waits a
moment before starting) further requests for the same system add nothing.
"""

from __future__ import annotations

import hashlib
import json
import time
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import System
from payments.calculations.positions import positions
from payments.models import RecalculationRun, SystemResult
from plans.models import PlanningRound

COALESCE_SECONDS = 1.0
PENDING_TTL = 600  # a flag left by a worker that died clears itself


def _pending_key(round_id: int, system_id: int) -> str:
    return f"recalc:pending:{round_id}:{system_id}"


def request_recalculation(*, round_id: int, system_id: int, trigger: str) -> None:
    """Queue a recalculation of the system when the current transaction commits."""
    transaction.on_commit(lambda: enqueue(round_id=round_id, system_id=system_id, trigger=trigger))


def enqueue(*, round_id: int, system_id: int, trigger: str) -> bool:
    """Queue one run unless one is already waiting; return whether this call queued it."""
    from payments.tasks import recalculate_system

    if not cache.add(_pending_key(round_id, system_id), trigger, timeout=PENDING_TTL):
        return False
    recalculate_system.apply_async(args=[system_id, round_id, trigger], countdown=COALESCE_SECONDS)
    return True


def is_pending(round_id: int, system_id: int) -> bool:
    return cache.get(_pending_key(round_id, system_id)) is not None


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _returns_year_to_date(
    plan_round: PlanningRound, system: System, flat: dict[str, dict[str, int]]
) -> tuple[dict[str, dict[int, Decimal]], dict[str, dict[str, Any]]]:
    """From each partner's latest submitted returns: its actual year-to-date surplus at every
    month an actual was reported (the latest return covering the month wins: a later return
    may restate earlier months), and what its latest return says."""
    from plans.models import ReturnValue, ReturnVersion
    from plans.monthly_returns import position

    latest = list(
        ReturnVersion.objects.filter(
            monthly_return__round=plan_round,
            monthly_return__organisation__system=system,
            number__gt=0,
        )
        .order_by("monthly_return_id", "-number")
        .distinct("monthly_return_id")
        .values_list("pk", "monthly_return__organisation__ods_code", "monthly_return__month")
    )
    cells: dict[int, dict[tuple[str, int], Decimal]] = {pk: {} for pk, _, _ in latest}
    for version_id, code, month, value in ReturnValue.objects.filter(
        version_id__in=list(cells)
    ).values_list("version_id", "line__code", "month", "value"):
        cells[version_id][(code, month)] = value
    year_to_date: dict[str, dict[int, Decimal]] = {}
    summary: dict[str, dict[str, Any]] = {}
    # Oldest return first, so each month ends up taken from the latest return covering it.
    for version_id, ods, month in sorted(latest, key=lambda row: row[2]):
        pos = position(cells[version_id], month, flat)
        running = Decimal(0)
        for m, value in enumerate(pos.by_month[:month], start=1):
            running += value
            year_to_date.setdefault(ods, {})[m] = running
        summary[ods] = {"month": month, "year_to_date": pos.year_to_date, "outturn": pos.outturn}
    return year_to_date, summary


def _fund_inputs(plan_round: PlanningRound, system: System) -> dict[str, Any] | None:
    from payments.fund_services import rules_for
    from payments.models import DiscretionaryRelease, Fund

    fund = Fund.objects.filter(round=plan_round).first()
    if fund is None:
        return None
    rules = rules_for(fund, system)
    return {
        "name": fund.name,
        "system_share": rules.system_share,
        "phasing": list(rules.phasing),
        "taper": rules.taper,
        "taper_zero_at": rules.taper_zero_at,
        "allocations": dict(
            fund.allocations.filter(organisation__system=system).values_list(
                "organisation__ods_code", "amount"
            )
        ),
        "releases": sorted(
            DiscretionaryRelease.objects.filter(
                fund=fund,
                organisation__system=system,
                status=DiscretionaryRelease.Status.AGREED,
            ).values_list("organisation__ods_code", "quarter")
        ),
    }


def gather(plan_round: PlanningRound, system: System) -> dict[str, Any]:
    """The inputs, read in the caller's (repeatable-read) transaction."""
    from payments.services import current_control_totals
    from plans.system_plan import build, fetch_plans, template_lines

    template = template_lines(plan_round)
    plan = build(plan_round, system, fetch_plans(plan_round, [system.pk]), template)
    year_to_date, latest = _returns_year_to_date(plan_round, system, template.flat)
    return {
        "control_totals": current_control_totals(plan_round, system),
        "planned": plan.surplus_by_organisation,
        "year_to_date": year_to_date,
        "latest_returns": latest,
        "fund": _fund_inputs(plan_round, system),
    }


def _fund_results(inputs: dict[str, Any]) -> dict[str, Any] | None:
    from payments.calculations.funds import FundRules
    from payments.calculations.system_fund import QUARTER_ENDS, phased_target, system_fund

    fund = inputs["fund"]
    if fund is None:
        return None
    rules = FundRules(
        system_share=fund["system_share"],
        phasing=tuple(fund["phasing"]),
        taper=fund["taper"],
        taper_zero_at=fund["taper_zero_at"],
    )
    cts = inputs["control_totals"]
    organisations, system = system_fund(
        rules,
        fund["allocations"],
        cts,
        inputs["year_to_date"],
        [tuple(r) for r in fund["releases"]],
    )
    rows = []
    for org in organisations:
        ct = cts.get(org.ods_code)
        quarters = []
        for q, month in zip(org.quarters, QUARTER_ENDS, strict=True):
            target = (
                f"Year-to-date control total: {ct} × {month}/12 = {phased_target(ct, month)}"
                if ct is not None
                else "No control total: there is nothing to measure its own performance against."
            )
            quarters.append(
                {
                    "quarter": q.quarter,
                    "allocation": str(q.allocation),
                    "own_part": str(q.own_part),
                    "system_part": str(q.system_part),
                    "own_earned": str(q.own_earned),
                    "system_earned": str(q.system_earned),
                    "earned": str(q.earned),
                    "workings": [q.workings[0], target, *q.workings[1:]],
                }
            )
        rows.append(
            {
                "ods_code": org.ods_code,
                "allocation": str(org.allocation),
                "earned": str(org.earned),
                "quarters": quarters,
            }
        )
    return {
        "name": fund["name"],
        "system_share": str(rules.system_share),
        "phasing": [str(p) for p in rules.phasing],
        "taper": rules.taper,
        "taper_zero_at": _money(rules.taper_zero_at),
        "organisations": rows,
        "system_quarters": [
            None
            if p is None
            else {"target": str(p.target), "actual": str(p.actual), "shortfall": str(p.shortfall)}
            for p in system
        ],
    }


def compute(inputs: dict[str, Any]) -> dict[str, Any]:
    """The results, as JSON (money as strings)."""
    from payments.calculations.system_fund import phased_target

    rows, system_position = positions(inputs["control_totals"], inputs["planned"])
    latest = inputs.get("latest_returns", {})

    def to_date(ods: str, ct: Decimal | None) -> dict[str, Any] | None:
        reported = latest.get(ods)
        if reported is None:
            return None
        target = None if ct is None else phased_target(ct, reported["month"])
        return {
            "month": reported["month"],
            "actual": _money(reported["year_to_date"]),
            "target": _money(target),
            "variance": _money(None if target is None else reported["year_to_date"] - target),
            "outturn": _money(reported["outturn"]),
        }

    return {
        "organisations": [
            {
                "ods_code": p.organisation,
                "control_total": _money(p.control_total),
                "planned": _money(p.planned),
                "variance": _money(p.variance),
                "met": p.met,
                "year_to_date": to_date(p.organisation, p.control_total),
            }
            for p in rows
        ],
        "system": {
            "control_total": _money(system_position.control_total),
            "planned": _money(system_position.planned),
            "variance": _money(system_position.variance),
            "met": system_position.met,
        },
        "fund": _fund_results(inputs) if "fund" in inputs else None,
    }


def inputs_hash(inputs: dict[str, Any]) -> str:
    canonical = json.dumps(inputs, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def recalculate(*, system_id: int, round_id: int, trigger: str) -> RecalculationRun:
    """Run once: snapshot, compute, store if the inputs changed. Safe to repeat or kill."""
    # From here on, new changes queue another run rather than being lost in this one.
    cache.delete(_pending_key(round_id, system_id))
    system = System.objects.get(pk=system_id)
    plan_round = PlanningRound.objects.get(pk=round_id)
    run = RecalculationRun.objects.create(round=plan_round, system=system, trigger=trigger[:80])
    started = time.monotonic()
    try:
        outermost = not connection.in_atomic_block
        with transaction.atomic():
            if outermost:  # one consistent snapshot of every input
                with connection.cursor() as cursor:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            inputs = gather(plan_round, system)
            digest = inputs_hash(inputs)
            existing = (
                SystemResult.objects.select_for_update()
                .filter(round=plan_round, system=system)
                .first()
            )
            if existing is not None and existing.inputs_hash == digest:
                run.status = RecalculationRun.Status.UNCHANGED
            else:
                SystemResult.objects.update_or_create(
                    round=plan_round,
                    system=system,
                    defaults={
                        "inputs_hash": digest,
                        "computed_at": timezone.now(),
                        "data": compute(inputs),
                    },
                )
                run.status = RecalculationRun.Status.CHANGED
        run.inputs_hash = digest
    except Exception as exc:
        run.status = RecalculationRun.Status.FAILED
        run.error = f"{type(exc).__name__}: {exc}"[:2000]
        raise
    finally:
        run.duration_ms = int((time.monotonic() - started) * 1000)
        run.save(update_fields=["status", "inputs_hash", "error", "duration_ms"])
    return run
