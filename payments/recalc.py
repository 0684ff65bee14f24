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
from openbook import numbers
from payments.calculations.positions import positions
from payments.models import RecalculationRun, SystemResult
from plans.models import PlanningRound

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


def enqueue(*, round_id: int, system_id: int, trigger: str) -> bool:
    """Queue one run unless one is already waiting; return whether this call queued it.
    Either way the change is noted, so a waiting run starts only once changes stop."""
    from payments.tasks import recalculate_system

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


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


# Constants (no value is formatted into them). Each partner's planned surplus for the year
# and, from its latest submitted monthly returns, its surplus by month: the template's surplus
# formula applied inside the database, as coefficients per line.
_COEFFICIENTS = (
    "coef AS (SELECT * FROM unnest(%(lines)s::bigint[], %(coefs)s::int[]) AS c(line_id, k))"
)
PLANNED_SQL = (
    """
    WITH latest AS (
        SELECT DISTINCT ON (s.id) s.organisation_id, ver.id AS version_id
        FROM plans_submission s
        JOIN plans_version ver ON ver.submission_id = s.id AND ver.number > 0
        JOIN accounts_organisation o ON o.id = s.organisation_id
        WHERE s.round_id = %(round)s AND o.system_id = ANY(%(systems)s)
          AND s.status IN ('submitted', 'accepted')
        ORDER BY s.id, ver.number DESC
    ), """  # noqa: S608
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


# Workings state £000 figures in pounds: exact (figures are kept to the pound) and with the
# unit, in the one number format.
gbp = numbers.pounds


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
                f"Year-to-date control total: {gbp(ct)} × {month}/12 = "
                f"{gbp(phased_target(ct, month))}"
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
        from plans.models import MONTH_LABELS

        month = reported["month"]
        actual = reported["year_to_date"]
        target = None if ct is None else phased_target(ct, month)
        label = MONTH_LABELS[month - 1]
        steps = [
            f"Surplus (deficit) April to {label}, actual, from the latest {label} return: "
            f"{gbp(actual)}",
            f"Control total to date: {gbp(ct)} × {month}/12 = {gbp(target)}"
            if ct is not None
            else "No control total: nothing to measure against",
        ]
        if target is not None:
            steps.append(
                f"Variance {gbp(actual)} − {gbp(target)} = {gbp(actual - target)}: "
                + ("on or ahead of the control total" if actual >= target else "behind it")
            )
        steps.append(
            f"Forecast outturn (actuals plus forecast for the year): {gbp(reported['outturn'])}"
        )
        return {
            "month": month,
            "actual": _money(actual),
            "target": _money(target),
            "variance": _money(None if target is None else actual - target),
            "outturn": _money(reported["outturn"]),
            "workings": steps,
        }

    def planned_steps(p) -> list[str]:
        if p.planned is None:
            return ["No submitted plan yet"]
        if p.control_total is None:
            return [
                f"Planned surplus (deficit) for the year: {gbp(p.planned)}",
                "No control total",
            ]
        return [
            f"Planned surplus (deficit) for the year, from the submitted plan: {gbp(p.planned)}",
            f"Control total (after agreed transfers): {gbp(p.control_total)}",
            f"Variance {gbp(p.planned)} − {gbp(p.control_total)} = {gbp(p.variance)}: "
            + ("meets it" if p.met else "misses it"),
        ]

    return {
        "organisations": [
            {
                "ods_code": p.organisation,
                "control_total": _money(p.control_total),
                "planned": _money(p.planned),
                "variance": _money(p.variance),
                "met": p.met,
                "workings": planned_steps(p),
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
    """Run once for one system: snapshot, compute, store if the inputs changed. Safe to repeat
    or kill."""
    plan_round = PlanningRound.objects.get(pk=round_id)
    system = System.objects.get(pk=system_id)
    return recalculate_many(plan_round, [system], trigger=trigger)[0]


def recalculate_many(
    plan_round: PlanningRound, systems: list[System], *, trigger: str
) -> list[RecalculationRun]:
    """Run once for several systems (a national run in one go): one consistent snapshot of
    every input, each system's results computed and stored only where its inputs changed, a
    run recorded per system. Safe to repeat or kill."""
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
                run.inputs_hash = inputs_hash(inputs[system.pk])
                current = existing.get(system.pk)
                if current is not None and current.inputs_hash == run.inputs_hash:
                    run.status = RecalculationRun.Status.UNCHANGED
                    continue
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
                               (round_id, system_id, inputs_hash, computed_at, data)
                           SELECT %s, u.system_id, u.digest, %s, u.data
                           FROM jsonb_to_recordset(%s::jsonb)
                                AS u(system_id bigint, digest text, data jsonb)
                           ON CONFLICT (round_id, system_id) DO UPDATE
                           SET inputs_hash = EXCLUDED.inputs_hash,
                               computed_at = EXCLUDED.computed_at, data = EXCLUDED.data""",
                        [plan_round.pk, now, json.dumps(changed)],
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
                       duration_ms = %s
                   FROM jsonb_to_recordset(%s::jsonb)
                        AS u(id bigint, status text, digest text, error text)
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
                            }
                            for r in runs
                        ]  # fmt: skip
                    ),
                ],
            )
        for run in runs:
            run.duration_ms = duration
    return runs
