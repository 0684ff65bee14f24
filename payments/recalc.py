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


def gather(plan_round: PlanningRound, system: System) -> dict[str, Any]:
    """The inputs, read in the caller's (repeatable-read) transaction."""
    from payments.services import current_control_totals
    from plans.system_plan import build, fetch_plans

    plan = build(plan_round, system, fetch_plans(plan_round, [system.pk]))
    return {
        "control_totals": current_control_totals(plan_round, system),
        "planned": plan.surplus_by_organisation,
    }


def compute(inputs: dict[str, Any]) -> dict[str, Any]:
    """The results, as JSON (money as strings)."""
    rows, system_position = positions(inputs["control_totals"], inputs["planned"])
    return {
        "organisations": [
            {
                "ods_code": p.organisation,
                "control_total": _money(p.control_total),
                "planned": _money(p.planned),
                "variance": _money(p.variance),
                "met": p.met,
            }
            for p in rows
        ],
        "system": {
            "control_total": _money(system_position.control_total),
            "planned": _money(system_position.planned),
            "variance": _money(system_position.variance),
            "met": system_position.met,
        },
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
