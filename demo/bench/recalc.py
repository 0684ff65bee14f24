"""`openbook bench recalc`: the national recalculation (every system's control totals,
positions and fund, results stored) against one hand-written SQL aggregate of the same
inputs; and the time of one system's recalculation after one organisation submits a return.

The recalculation runs as the worker does (the application role in the platform scope, under
row-level security: accounts/rowsecurity.py); the aggregate as the tables' owner.

Run `openbook seed --scale national` first.
"""

from __future__ import annotations

import statistics
import time
from decimal import Decimal

from django.db import connection, transaction

from accounts import rowsecurity
from accounts.models import Organisation, System
from accounts.second_factor import unattended
from demo.national import ROUND_SLUG
from demo.synthetic import board_approver
from payments.inputs import _COEFFICIENTS, _surplus_coefficients
from payments.models import SystemResult
from payments.services.recalculation import recalculate, recalculate_many
from plans.models import MonthlyReturn, PlanningRound
from plans.queries import latest_counted
from plans.services.returns import return_save, return_submit, version_cells

# Every system's control total, planned surplus, actual surplus to date and fund allocation,
# added up straight from the stored tables the recalculation reads: plans' years from the
# year totals stored at submission, returns from their figures.
BASELINE_SQL = (
    "WITH "  # noqa: S608 (constants only)
    + latest_counted("plan_latest")
    + """, return_latest AS (
        SELECT DISTINCT ON (r.id) r.organisation_id, r.month AS return_month, ver.id AS version_id
        FROM plans_monthlyreturn r
        JOIN plans_returnversion ver ON ver.monthly_return_id = r.id AND ver.number > 0
        WHERE r.round_id = %(round)s
        ORDER BY r.id, ver.number DESC
    ), """
    + _COEFFICIENTS
    + """, planned AS (
        SELECT o.system_id, SUM(t.total * coef.k) AS amount
        FROM plan_latest p
        JOIN plans_yeartotals y ON y.version_id = p.version_id
        CROSS JOIN LATERAL unnest(y.lines, y.totals) AS t(line_id, total)
        JOIN coef ON coef.line_id = t.line_id
        JOIN accounts_organisation o ON o.id = p.organisation_id
        GROUP BY 1
    ), actual AS (
        SELECT o.system_id, SUM(v.value * coef.k) AS amount
        FROM return_latest r
        JOIN plans_returnvalue v ON v.version_id = r.version_id AND v.month <= r.return_month
        JOIN coef ON coef.line_id = v.line_id
        JOIN accounts_organisation o ON o.id = r.organisation_id
        GROUP BY 1
    ), cts AS (
        SELECT o.system_id, SUM(ct.amount) AS amount
        FROM payments_controltotal ct
        JOIN accounts_organisation o ON o.id = ct.organisation_id
        WHERE ct.round_id = %(round)s
        GROUP BY 1
    ), allocations AS (
        SELECT o.system_id, SUM(a.amount) AS amount
        FROM payments_fundallocation a
        JOIN payments_fund f ON f.id = a.fund_id AND f.round_id = %(round)s
        JOIN accounts_organisation o ON o.id = a.organisation_id
        GROUP BY 1
    )
    SELECT s.id, cts.amount, planned.amount, actual.amount, allocations.amount
    FROM accounts_system s
    LEFT JOIN cts ON cts.system_id = s.id
    LEFT JOIN planned ON planned.system_id = s.id
    LEFT JOIN actual ON actual.system_id = s.id
    LEFT JOIN allocations ON allocations.system_id = s.id
    WHERE s.id = ANY(%(systems)s)
"""
)


def _baseline(plan_round: PlanningRound, systems: list[System]) -> tuple[Decimal, Decimal]:
    params = {"round": plan_round.pk, "systems": [s.pk for s in systems]}
    params |= _surplus_coefficients(plan_round)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(BASELINE_SQL, params)
        rows = cursor.fetchall()
    return (
        sum((r[1] or Decimal(0) for r in rows), Decimal(0)),
        sum((r[2] or Decimal(0) for r in rows), Decimal(0)),
    )


def _stored(plan_round: PlanningRound) -> tuple[Decimal, Decimal]:
    """The stored results' system control totals and planned positions, added up."""
    ct = planned = Decimal(0)
    for data in SystemResult.objects.filter(round=plan_round).values_list("data", flat=True):
        ct += Decimal(data["system"]["control_total"] or 0)
        planned += Decimal(data["system"]["planned"] or 0)
    return ct, planned


def _national(plan_round: PlanningRound, systems: list[System]) -> float:
    SystemResult.objects.filter(round=plan_round).delete()  # every result written afresh
    started = time.perf_counter()
    with rowsecurity.platform():
        recalculate_many(plan_round, systems, trigger="bench")
    return time.perf_counter() - started


def _single(plan_round: PlanningRound, system: System, organisation: Organisation, n: int):
    """One organisation resubmits its return with one figure changed; the system's
    recalculation is then timed as the worker runs it."""
    monthly_return = MonthlyReturn.objects.filter(round=plan_round, organisation=organisation)
    monthly_return = monthly_return.order_by("-month").first()
    cells = version_cells(monthly_return.versions.get(number=0))
    key = next((k for k in sorted(cells) if k[0] in ("F110", "INCOTH")), min(cells))
    cells[key] += 1  # an income figure: the surplus moves, so the results must change
    approver = board_approver(organisation, "national.openbook.invalid")
    saved = return_save(actor=approver, monthly_return=monthly_return, cells=cells,
                        expected_revision=monthly_return.revision, source="bench")  # fmt: skip
    return_submit(actor=approver, monthly_return=saved, expected_revision=saved.revision)
    started = time.perf_counter()
    with rowsecurity.platform():
        run = recalculate(system_id=system.pk, round_id=plan_round.pk, trigger=f"bench {n}")
    elapsed = time.perf_counter() - started
    assert run.status == "changed", run.status
    return elapsed


@unattended("demo data: its people are not there to type a code")
def run(repeats: int = 5, round_slug: str = ROUND_SLUG, singles: int = 25) -> dict:
    plan_round = PlanningRound.objects.filter(slug=round_slug).first()
    if plan_round is None or not MonthlyReturn.objects.filter(round=plan_round).exists():
        raise SystemExit(
            f"No round {round_slug!r} with returns: run `openbook seed --scale national`."
        )
    systems = list(
        System.objects.filter(organisations__control_totals__round=plan_round).distinct()
    )
    ours, base = [], []
    for _ in range(repeats):
        ours.append(_national(plan_round, systems))
        started = time.perf_counter()
        expected = _baseline(plan_round, systems)
        base.append(time.perf_counter() - started)
        # Fast and wrong would be no result: the stored figures must add up to the aggregate's.
        if _stored(plan_round) != expected:
            raise SystemExit(
                f"Stored results {_stored(plan_round)} differ from the SQL {expected}."
            )
    largest = max(systems, key=lambda s: s.organisations.count())
    organisation = (
        Organisation.objects.filter(system=largest, returns__round=plan_round)
        .order_by("ods_code")
        .first()
    )
    latencies = sorted(_single(plan_round, largest, organisation, n) for n in range(singles))
    p95 = latencies[max(0, int(round(0.95 * len(latencies))) - 1)]
    seconds, baseline = statistics.median(ours), statistics.median(base)
    return {
        "bench": "recalc",
        "systems": len(systems),
        "seconds": round(seconds, 4),
        "baseline_seconds": round(baseline, 4),
        "ratio": round(seconds / baseline, 2),
        "ours": "every system's inputs gathered in one snapshot (control totals, planned "
        "surplus from stored year totals, returns by month, quarter assessments, the fund), "
        "results and workings computed and stored with their inputs hash, run records written",
        "baseline": "one SQL statement adding up each system's control total, planned surplus "
        "(stored year totals), actual surplus to date and fund allocation",
        "single_system_p50_ms": round(statistics.median(latencies) * 1000, 1),
        "single_system_p95_ms": round(p95 * 1000, 1),
    }
