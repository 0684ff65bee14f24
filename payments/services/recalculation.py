"""The system recalculation: control totals, the system control total and each partner's
planned position against its control total, worked out from a consistent snapshot and
stored with a hash of the inputs, so a repeat run on the same inputs changes nothing.

Anything that moves the numbers calls `request_recalculation` inside its transaction; the run
is queued when that transaction commits, and bursts coalesce (payments/coalescing.py). The
inputs are gathered in payments/inputs.py, and the results and their workings are pure
calculations (payments/calculations/results.py).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from accounts import policy
from accounts.models import Organisation, System
from openbook.audit import audit_record
from payments import coalescing
from payments.calculations.results import compute
from payments.calculations.system_fund import QUARTER_ENDS
from payments.calculations.version import current as calculation_version
from payments.inputs import gather_many, inputs_hash
from payments.models import QuarterAssessment, RecalculationRun, Settlement, SystemResult
from payments.services import settlements
from plans.models import PlanningRound
from webhooks import services as webhooks
from webhooks.models import Event


def request_recalculation(*, round_id: int, system_id: int, trigger: str) -> None:
    """Queue a recalculation of the system when the current transaction commits."""
    transaction.on_commit(
        lambda: coalescing.enqueue(round_id=round_id, system_id=system_id, trigger=trigger)
    )


# --- a national run, started by an administrator and followed on a progress bar ---------------


def _national_key(plan_round: PlanningRound) -> str:
    return f"recalc:national:{plan_round.pk}"


def round_systems(plan_round: PlanningRound) -> list[System]:
    """Every system with plans in the round."""
    return list(
        System.objects.filter(organisations__submissions__round=plan_round)
        .distinct()
        .order_by("code")
    )


def national_start(*, actor, plan_round: PlanningRound, systems: list[System]) -> None:
    """Queue a run for every system and remember the batch for its progress bar. Audited."""
    if not policy.can_recalculate_round(actor):
        raise PermissionDenied("A national recalculation is started by platform administrators.")
    cache.set(
        _national_key(plan_round),
        {
            "started": timezone.now().isoformat(),
            "systems": [s.pk for s in systems],
            "by": actor.email,
        },
        timeout=24 * 3600,
    )
    for system in systems:
        # A run already waiting for a system counts: it starts after this moment.
        coalescing.enqueue(round_id=plan_round.pk, system_id=system.pk, trigger="national")
    audit_record(action="recalculation.national_requested", actor=actor, obj=plan_round,
                 payload={"systems": len(systems)})  # fmt: skip


def national_progress(plan_round: PlanningRound) -> dict[str, Any] | None:
    """How far the last national run has got: systems with a finished run since it began."""
    batch = cache.get(_national_key(plan_round))
    if batch is None:
        return None
    since = dt.datetime.fromisoformat(batch["started"])
    runs = RecalculationRun.objects.filter(
        round=plan_round, system_id__in=batch["systems"], started_at__gte=since
    )
    # An abandoned run is not finished: its work was taken again by another run.
    finished = (RecalculationRun.Status.CHANGED, RecalculationRun.Status.UNCHANGED,
                RecalculationRun.Status.FAILED)  # fmt: skip
    done = runs.filter(status__in=finished).values("system").distinct().count()
    failed = runs.filter(status=RecalculationRun.Status.FAILED).values("system").distinct().count()
    total = len(batch["systems"])
    return batch | {"done": done, "total": total, "failed": failed, "finished": done >= total,
                    "percent": int(100 * done / total) if total else 100}  # fmt: skip


def _why(current: SystemResult | None, version: int, force: bool, digest: str) -> str:
    """Why a system's results are worked out again: first, a newer calculation version,
    changed inputs, or forced (on the same inputs, or as well as changed ones)."""
    if current is None:
        return "first run"
    if current.calculation_version != version:
        return f"calculation version {current.calculation_version} → {version}"
    if current.inputs_hash != digest:
        return "inputs changed (forced)" if force else "inputs changed"
    return "forced"


def recompute_outdated() -> int:
    """After a deploy that changed the calculations: queue a run for every system whose
    stored results an older version computed, and work out again every settlement still in
    draft. Settlements already proposed, agreed or decided are records of what partners saw
    and decided: they stay as they are (their page says when today's calculation differs).
    Returns how many were queued; repeating it is harmless (runs coalesce, settlements are
    idempotent)."""
    version = calculation_version()
    stale = (
        SystemResult.objects.filter(calculation_version__lt=version)
        .values_list("round_id", "system_id", "calculation_version")
        .order_by("round_id", "system_id")
    )
    queued = 0
    for round_id, system_id, old in stale:
        coalescing.enqueue(round_id=round_id, system_id=system_id,
                trigger=f"calculation version {old} → {version}")  # fmt: skip
        queued += 1
    drafts = Settlement.objects.filter(
        status=Settlement.Status.DRAFT, calculation_version__lt=version
    )
    for settlement_id in drafts.values_list("pk", flat=True):
        settlements.enqueue(settlement_id)
        queued += 1
    return queued


def _assess_quarters(plan_round, systems, inputs) -> None:
    """Record each quarter the fund has now assessed on its stated basis, the return for the
    quarter's last month: from then on a newer version of it, or a later return, restating it
    is shown as a restatement, and does not change it. A quarter worked out from a later
    return (none was made for its last month) is provisional and not recorded: it is assessed
    when the quarter's own return comes."""
    ods = dict(Organisation.objects.filter(system__in=systems).values_list("ods_code", "pk"))
    rows = [
        QuarterAssessment(round=plan_round, organisation_id=ods[code], quarter=q,
                          return_month=entry["return_month"], return_version=entry["version"],
                          year_to_date=entry["actual"])
        for system in systems if inputs[system.pk]["fund"] is not None
        for code, entries in inputs[system.pk]["quarters"].items()
        for q, entry in enumerate(entries, start=1)
        if entry is not None and entry["assessed"] is None
        and entry["return_month"] == QUARTER_ENDS[q - 1]
    ]  # fmt: skip
    QuarterAssessment.objects.bulk_create(rows, ignore_conflicts=True)


def _announce(plan_round, systems, changed, runs, version) -> None:
    """Tell each changed system's webhooks its results moved (after the commit)."""
    codes = {s.pk: s for s in systems}
    for item in changed:
        system, whole = codes[item["system_id"]], item["data"]["system"]
        webhooks.emit(
            Event.RESULTS_RECALCULATED,
            system,
            {"round": plan_round.slug, "calculation_version": version, "unit": "£000",
             "reason": runs[system.pk].reason, "trigger": runs[system.pk].trigger,
             "system_control_total": whole.get("control_total"),
             "planned": whole.get("planned"), "variance": whole.get("variance"),
             "meets_control_total": whole.get("met")},
            links={"page": reverse("control_totals", args=[plan_round.slug, system.code]),
                   "api": reverse("api_system_results", args=[plan_round.slug, system.code])},
        )  # fmt: skip


def recalculate(
    *, system_id: int, round_id: int, trigger: str, force: bool = False
) -> RecalculationRun:
    """Run once for one system: snapshot, compute, store if the inputs changed. Safe to repeat
    or kill."""
    plan_round = PlanningRound.objects.get(pk=round_id)
    system = System.objects.get(pk=system_id)
    return recalculate_many(plan_round, [system], trigger=trigger, force=force)[0]


def recalculate_many(
    plan_round: PlanningRound, systems: list[System], *, trigger: str, force: bool = False
) -> list[RecalculationRun]:
    """Run once for several systems (a national run in one go): one consistent snapshot of
    every input, each system's results computed and stored only where its inputs or the
    calculation version changed (or every one, with `force`), a run recorded per system with
    why. Safe to repeat or kill."""
    version = calculation_version()
    # The runs are recorded as under way before the queued flag goes, so a page asking whether
    # figures are still to come never finds neither (and stops polling on the old figures).
    runs = RecalculationRun.objects.bulk_create(
        RecalculationRun(round=plan_round, system=s, trigger=trigger[:80]) for s in systems
    )
    # A run still "running" for these systems after longer than any run may take was cut off
    # (its worker killed, the task taken again): it is over, and must not keep pages saying
    # the figures are still to come. A younger one may still be going: it is left alone.
    cut_off = timezone.now() - dt.timedelta(seconds=settings.RECALC_ABANDON_AFTER_SECONDS)
    RecalculationRun.objects.filter(
        round=plan_round,
        system__in=systems,
        status=RecalculationRun.Status.RUNNING,
        started_at__lt=cut_off,
    ).exclude(pk__in=[r.pk for r in runs]).update(
        status=RecalculationRun.Status.ABANDONED,
        error="Its worker stopped before it finished; a later run took the work again.",
    )
    coalescing.clear_pending(plan_round.pk, [s.pk for s in systems])
    by_system = {run.system_id: run for run in runs}
    started = time.monotonic()
    try:
        outermost = not connection.in_atomic_block
        with transaction.atomic():
            if outermost:  # one consistent snapshot of every input
                with connection.cursor() as cursor:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            inputs = gather_many(plan_round, systems)
            existing = {
                r.system_id: r
                for r in SystemResult.objects.select_for_update().filter(
                    round=plan_round, system__in=systems
                )
            }
            now = timezone.now()
            changed = []
            for system in systems:
                run = by_system[system.pk]
                run.inputs_hash = inputs_hash(inputs[system.pk], version)
                current = existing.get(system.pk)
                if current is not None and (
                    current.calculation_version > version  # a newer worker's: left to it
                    or (current.inputs_hash == run.inputs_hash
                        and current.calculation_version == version and not force)
                ):  # fmt: skip
                    run.status = RecalculationRun.Status.UNCHANGED
                    continue
                run.reason = _why(current, version, force, run.inputs_hash)
                changed.append(
                    {
                        "system_id": system.pk,
                        "digest": run.inputs_hash,
                        "data": compute(inputs[system.pk]),
                    }  # fmt: skip
                )
                run.status = RecalculationRun.Status.CHANGED
            if changed:
                with connection.cursor() as cursor:
                    # Every changed system in one statement, its rows passed as one JSON
                    # document (one parameter: no per-row quoting on the way).
                    cursor.execute(
                        """INSERT INTO payments_systemresult
                               (round_id, system_id, inputs_hash, computed_at, data,
                                calculation_version)
                           SELECT %s, u.system_id, u.digest, %s, u.data, %s
                           FROM jsonb_to_recordset(%s::jsonb)
                                AS u(system_id bigint, digest text, data jsonb)
                           ON CONFLICT (round_id, system_id) DO UPDATE
                           SET inputs_hash = EXCLUDED.inputs_hash,
                               computed_at = EXCLUDED.computed_at, data = EXCLUDED.data,
                               calculation_version = EXCLUDED.calculation_version""",
                        [plan_round.pk, now, version, json.dumps(changed)],
                    )
                _announce(plan_round, systems, changed, by_system, version)
            _assess_quarters(plan_round, systems, inputs)
    except Exception as exc:
        for run in runs:
            run.status = RecalculationRun.Status.FAILED
            run.error = f"{type(exc).__name__}: {exc}"[:2000]
        raise
    finally:
        duration = int((time.monotonic() - started) * 1000)
        with connection.cursor() as cursor:
            cursor.execute(
                """UPDATE payments_recalculationrun r
                   SET status = u.status, inputs_hash = u.digest, error = u.error,
                       reason = u.reason, duration_ms = %s
                   FROM jsonb_to_recordset(%s::jsonb)
                        AS u(id bigint, status text, digest text, error text, reason text)
                   WHERE r.id = u.id""",
                [
                    duration,
                    json.dumps(
                        [
                            {
                                "id": r.pk,
                                "status": r.status,
                                "digest": r.inputs_hash,
                                "error": r.error,
                                "reason": r.reason,
                            }
                            for r in runs
                        ]  # fmt: skip
                    ),
                ],
            )
        for run in runs:
            run.duration_ms = duration
    return runs
