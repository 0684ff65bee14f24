"""The system recalculation: control totals, the system control total and each partner's
planned position against its control total, worked out from a consistent snapshot and
stored with a hash of the inputs, so a repeat run on the same inputs changes nothing.

Anything that moves the numbers calls `request_recalculation` inside its transaction; the run
is queued when that transaction commits. Bursts coalesce: while a run is queued, further
requests for the same system queue nothing; they push its start back until the changes have
stopped for a moment (but never further than a limit after the first, so a steady stream of
changes still gets recalculated).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import System
from payments.calculations.results import compute
from payments.calculations.version import current as calculation_version
from payments.models import RecalculationRun, SystemResult
from plans.models import PlanningRound
from plans.queries import latest_counted

COALESCE_SECONDS = 1.0  # quiet time after the latest change before a queued run starts
COALESCE_LIMIT_SECONDS = 10.0  # the longest a queued run waits after the first change
SURPLUS = "F900"  # the template line that is a partner's surplus (+) or deficit (−)
PENDING_TTL = 600  # a flag left by a worker that died clears itself


def _pending_key(round_id: int, system_id: int) -> str:
    return f"recalc:pending:{round_id}:{system_id}"


def _latest_key(round_id: int, system_id: int) -> str:
    return f"recalc:latest:{round_id}:{system_id}"


def request_recalculation(*, round_id: int, system_id: int, trigger: str) -> None:
    """Queue a recalculation of the system when the current transaction commits."""
    transaction.on_commit(lambda: enqueue(round_id=round_id, system_id=system_id, trigger=trigger))


def enqueue(*, round_id: int, system_id: int, trigger: str, force: bool = False) -> bool:
    """Queue one run unless one is already waiting; return whether this call queued it.
    Either way the change is noted, so a waiting run starts only once changes stop. A forced
    run is queued whatever is waiting, to start now and store results even on the same
    inputs."""
    from payments.tasks import recalculate_system

    if force:
        recalculate_system.apply_async(args=[system_id, round_id, trigger], kwargs={"force": True})
        return True
    now = time.time()  # wall clock: the web and the worker compare it across processes
    cache.set(_latest_key(round_id, system_id), now, timeout=PENDING_TTL)
    if not cache.add(_pending_key(round_id, system_id), now, timeout=PENDING_TTL):
        return False
    recalculate_system.apply_async(
        args=[system_id, round_id, trigger], kwargs={"coalesce": True}, countdown=COALESCE_SECONDS
    )
    return True


def start_delay(first: float | None, latest: float | None, now: float) -> float:
    """Seconds a queued run should still wait: until a quiet moment after the latest change,
    but no later than the limit after the first."""
    if first is None or latest is None:
        return 0.0
    due = min(latest + COALESCE_SECONDS, first + COALESCE_LIMIT_SECONDS)
    return max(0.0, due - now)


def waiting_time(round_id: int, system_id: int) -> float:
    """How much longer the queued run for this system should wait (0: start now)."""
    pending, latest = _pending_key(round_id, system_id), _latest_key(round_id, system_id)
    found = cache.get_many([pending, latest])
    first, last = found.get(pending), found.get(latest)
    if not isinstance(first, float) or not isinstance(last, float):
        return 0.0  # no times noted (or a flag from before times were): start now
    return start_delay(first, last, time.time())


def is_pending(round_id: int, system_id: int) -> bool:
    """A run is queued, or one is under way (a run clears the queued flag as it starts, so
    without the second check a page loaded mid-run would show old figures as final)."""
    if cache.get(_pending_key(round_id, system_id)) is not None:
        return True
    since = timezone.now() - dt.timedelta(seconds=PENDING_TTL)  # a dead run stops counting
    return RecalculationRun.objects.filter(
        round_id=round_id,
        system_id=system_id,
        status=RecalculationRun.Status.RUNNING,
        started_at__gte=since,
    ).exists()


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
    from accounts import policy
    from openbook.audit import audit_record

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
        enqueue(round_id=plan_round.pk, system_id=system.pk, trigger="national")
    audit_record(action="recalculation.national_requested", actor=actor, obj=plan_round,
                 payload={"systems": len(systems)})  # fmt: skip


def national_progress(plan_round: PlanningRound) -> dict[str, Any] | None:
    """How far the last national run has got: systems with a finished run since it began."""
    import datetime as dt

    batch = cache.get(_national_key(plan_round))
    if batch is None:
        return None
    since = dt.datetime.fromisoformat(batch["started"])
    runs = RecalculationRun.objects.filter(
        round=plan_round, system_id__in=batch["systems"], started_at__gte=since
    )
    done = runs.exclude(status=RecalculationRun.Status.RUNNING).values("system").distinct().count()
    failed = runs.filter(status=RecalculationRun.Status.FAILED).values("system").distinct().count()
    total = len(batch["systems"])
    return batch | {"done": done, "total": total, "failed": failed, "finished": done >= total,
                    "percent": int(100 * done / total) if total else 100}  # fmt: skip


# Constants (no value is formatted into them). Each partner's planned surplus for the year
# and, from its latest submitted monthly returns, its surplus by month: the template's surplus
# formula applied inside the database, as coefficients per line.
_COEFFICIENTS = (
    "coef AS (SELECT * FROM unnest(%(lines)s::bigint[], %(coefs)s::int[]) AS c(line_id, k))"
)
PLANNED_SQL = (
    "WITH "  # noqa: S608 (constants only)
    + latest_counted()
    + ", "
    + _COEFFICIENTS
    + """
    SELECT latest.organisation_id, SUM(v.value * coef.k)
    FROM latest
    JOIN plans_value v ON v.version_id = latest.version_id
    JOIN coef ON coef.line_id = v.line_id
    GROUP BY 1
"""
)
RETURNS_SQL = (
    """
    WITH latest AS (
        SELECT DISTINCT ON (r.id) r.organisation_id, r.month AS return_month, ver.id AS version_id
        FROM plans_monthlyreturn r
        JOIN plans_returnversion ver ON ver.monthly_return_id = r.id AND ver.number > 0
        JOIN accounts_organisation o ON o.id = r.organisation_id
        WHERE r.round_id = %(round)s AND o.system_id = ANY(%(systems)s)
        ORDER BY r.id, ver.number DESC
    ), """  # noqa: S608
    + _COEFFICIENTS
    + """
    SELECT latest.organisation_id, latest.return_month, v.month, SUM(v.value * coef.k)
    FROM latest
    JOIN plans_returnvalue v ON v.version_id = latest.version_id
    JOIN coef ON coef.line_id = v.line_id
    GROUP BY 1, 2, 3
"""
)


def _surplus_coefficients(plan_round: PlanningRound) -> dict[str, list[int]]:
    """The surplus line as input lines times +1/−1, by line id, for the SQL above."""
    from plans.calculations import flatten
    from plans.models import Line
    from plans.selectors import line_spec

    lines = list(Line.objects.filter(section__template_version_id=plan_round.template_version_id))
    terms = flatten([line_spec(line) for line in lines]).get(SURPLUS, {})
    ids = {line.code: line.pk for line in lines}
    pairs = sorted((ids[code], k) for code, k in terms.items() if k)
    return {"lines": [p for p, _ in pairs], "coefs": [k for _, k in pairs]}


def _year_to_date(
    rows: list[tuple[int, int, int, Decimal]],
) -> tuple[dict[int, dict[int, Decimal]], dict[int, dict[str, Any]]]:
    """From (organisation, return month, month, surplus) rows: each organisation's actual
    surplus to date at every month reported (a later return restates earlier months) and what
    its latest return says."""
    by_return: dict[tuple[int, int], dict[int, Decimal]] = {}
    for org_id, return_month, month, value in rows:
        by_return.setdefault((org_id, return_month), {})[month] = value
    year_to_date: dict[int, dict[int, Decimal]] = {}
    latest: dict[int, dict[str, Any]] = {}
    for (org_id, return_month), months in sorted(by_return.items(), key=lambda kv: kv[0][1]):
        running = Decimal(0)
        for m in range(1, return_month + 1):
            running += months.get(m, Decimal(0))
            year_to_date.setdefault(org_id, {})[m] = running
        latest[org_id] = {
            "month": return_month,
            "year_to_date": running,
            "outturn": sum(months.values(), Decimal(0)),
        }
    return year_to_date, latest


def gather_many(plan_round: PlanningRound, systems: list[System]) -> dict[int, dict[str, Any]]:
    """Every system's inputs, read set-based in the caller's (repeatable-read) transaction:
    a few queries whatever the number of systems."""
    from accounts.models import Organisation
    from payments.models import ControlTotal, DiscretionaryRelease, Fund, FundSystemShare

    system_ids = [s.pk for s in systems]
    organisations = list(
        Organisation.objects.filter(system_id__in=system_ids).values_list(
            "pk", "ods_code", "system_id"
        )
    )
    ods = {pk: code for pk, code, _ in organisations}
    cts = dict(
        ControlTotal.objects.filter(
            round=plan_round, organisation__system_id__in=system_ids
        ).values_list("organisation_id", "amount")
    )
    params = {"round": plan_round.pk, "systems": system_ids, **_surplus_coefficients(plan_round)}
    with connection.cursor() as cursor:
        cursor.execute(PLANNED_SQL, params)
        planned = dict(cursor.fetchall())
        cursor.execute(RETURNS_SQL, params)
        year_to_date, latest = _year_to_date(cursor.fetchall())
    fund = Fund.objects.filter(round=plan_round).first()
    shares: dict[int, Decimal] = {}
    allocations: dict[int, Decimal] = {}
    releases: list[tuple[int, int]] = []
    if fund is not None:
        shares = dict(
            FundSystemShare.objects.filter(fund=fund, system_id__in=system_ids).values_list(
                "system_id", "system_share"
            )
        )
        allocations = dict(
            fund.allocations.filter(organisation__system_id__in=system_ids).values_list(
                "organisation_id", "amount"
            )
        )
        releases = list(
            DiscretionaryRelease.objects.filter(
                fund=fund,
                organisation__system_id__in=system_ids,
                status=DiscretionaryRelease.Status.AGREED,
            ).values_list("organisation_id", "quarter")
        )
    out: dict[int, dict[str, Any]] = {}
    for system_id in system_ids:
        members = sorted((pk for pk, _, sid in organisations if sid == system_id), key=ods.get)
        inputs: dict[str, Any] = {
            "control_totals": {ods[pk]: cts.get(pk) for pk in members},
            "planned": {ods[pk]: planned[pk] for pk in members if pk in planned},
            "year_to_date": {ods[pk]: year_to_date[pk] for pk in members if pk in year_to_date},
            "latest_returns": {ods[pk]: latest[pk] for pk in members if pk in latest},
            "fund": None,
        }
        if fund is not None:
            member_set = set(members)
            inputs["fund"] = {
                "name": fund.name,
                # A system ties more than the fund's share if it chose to, never less.
                "system_share": max(shares.get(system_id, fund.system_share), fund.system_share),
                "phasing": list(fund.phasing),
                "taper": fund.taper,
                "taper_zero_at": fund.taper_zero_at,
                "allocations": {ods[pk]: a for pk, a in allocations.items() if pk in member_set},
                "releases": sorted([ods[pk], q] for pk, q in releases if pk in member_set),
            }
        out[system_id] = inputs
    return out


def gather(plan_round: PlanningRound, system: System) -> dict[str, Any]:
    """One system's inputs (see gather_many)."""
    return gather_many(plan_round, [system])[system.pk]


def inputs_hash(inputs: dict[str, Any], version: int) -> str:
    """What a stored result is reused for: the same inputs, computed by the same version of
    the calculations."""
    canonical = json.dumps(
        {"calculation_version": version, "inputs": inputs},
        sort_keys=True, default=str, separators=(",", ":"),
    )  # fmt: skip
    return hashlib.sha256(canonical.encode()).hexdigest()


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
    from payments.models import Settlement
    from payments.tasks import compute_settlement

    version = calculation_version()
    stale = (
        SystemResult.objects.filter(calculation_version__lt=version)
        .values_list("round_id", "system_id", "calculation_version")
        .order_by("round_id", "system_id")
    )
    queued = 0
    for round_id, system_id, old in stale:
        enqueue(round_id=round_id, system_id=system_id,
                trigger=f"calculation version {old} → {version}")  # fmt: skip
        queued += 1
    drafts = Settlement.objects.filter(
        status=Settlement.Status.DRAFT, calculation_version__lt=version
    )
    for settlement_id in drafts.values_list("pk", flat=True):
        compute_settlement.delay(settlement_id)
        queued += 1
    return queued


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
    # From here on, new changes queue another run rather than being lost in this one.
    cache.delete_many([_pending_key(plan_round.pk, s.pk) for s in systems])
    runs = RecalculationRun.objects.bulk_create(
        RecalculationRun(round=plan_round, system=s, trigger=trigger[:80]) for s in systems
    )
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
