"""The recalculation's inputs, gathered in one snapshot: control totals, each partner's
planned surplus (its latest counted plan), its latest monthly return, the basis of each
quarter's assessment for the fund (and the assessment already made, where a later return has
restated it), and the fund's rules, read set-based for any number of systems; and the hash
that says whether stored results still answer them."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Any

from django.db import connection

from accounts.models import Organisation, System
from payments.calculations.system_fund import QUARTER_ENDS
from payments.models import (
    ControlTotal,
    DiscretionaryRelease,
    Fund,
    FundSystemShare,
    QuarterAssessment,
)
from plans import frozen
from plans.calculations import flatten
from plans.models import Line, PlanningRound
from plans.queries import latest_counted, template_versions_of
from plans.selectors import line_spec

# Constants (no value is formatted into them). Each partner's planned surplus for the year
# and, from its latest submitted monthly returns, its surplus by month: the template's surplus
# formula applied inside the database, as coefficients per line. The plan's year is read from
# the year totals stored when its version was submitted (plans.models.YearTotals: each line's
# twelve months added up once), one row per plan rather than every figure.
_COEFFICIENTS = (
    "coef AS (SELECT * FROM unnest(%(lines)s::bigint[], %(coefs)s::int[]) AS c(line_id, k))"
)
PLANNED_SQL = (
    "WITH "  # noqa: S608 (constants only)
    + latest_counted()
    + ", "
    + _COEFFICIENTS
    + """
    SELECT latest.organisation_id, SUM(year.total * coef.k)
    FROM latest
    JOIN plans_yeartotals y ON y.version_id = latest.version_id
    CROSS JOIN LATERAL unnest(y.lines, y.totals) AS year(line_id, total)
    JOIN coef ON coef.line_id = year.line_id
    GROUP BY 1
"""
)
RETURNS_SQL = (
    """
    WITH latest AS (
        SELECT DISTINCT ON (r.id) r.organisation_id, r.month AS return_month,
               ver.id AS version_id, ver.number AS version
        FROM plans_monthlyreturn r
        JOIN plans_returnversion ver ON ver.monthly_return_id = r.id AND ver.number > 0
        JOIN accounts_organisation o ON o.id = r.organisation_id
        WHERE r.round_id = %(round)s AND o.system_id = ANY(%(systems)s)
        ORDER BY r.id, ver.number DESC
    ), """  # noqa: S608
    + _COEFFICIENTS
    + """
    SELECT latest.organisation_id, latest.return_month, latest.version, v.month,
           SUM(v.value * coef.k)
    FROM latest
    JOIN plans_returnvalue v ON v.version_id = latest.version_id
    JOIN coef ON coef.line_id = v.line_id
    GROUP BY 1, 2, 3, 4
"""
)


def _surplus_coefficients(plan_round: PlanningRound) -> dict[str, list[int]]:
    """The surplus line (the template's line with that role: its surplus (+) or deficit (−))
    as input lines times +1/−1, by line id, for the SQL above, in every version of it."""
    # Every version of the round's template: a plan submitted before the round was revised
    # counts by its own version's lines. Worked out once per process (plans/frozen.py).
    versions = template_versions_of(plan_round)
    return frozen.memoised("surplus", versions, lambda: _coefficients_of(versions))


def _coefficients_of(version_ids: list[int]) -> dict[str, list[int]]:
    by_version: dict[int, list[Line]] = {}
    for line in frozen.lines_of(version_ids):
        by_version.setdefault(line.section.template_version_id, []).append(line)
    pairs = []
    for lines in by_version.values():
        surplus = next((line.code for line in lines if line.role == Line.Role.SURPLUS), None)
        terms = flatten([line_spec(line) for line in lines]).get(surplus, {}) if surplus else {}
        ids = {line.code: line.pk for line in lines}
        pairs += [(ids[code], k) for code, k in terms.items() if k]
    pairs.sort()
    return {"lines": [p for p, _ in pairs], "coefs": [k for _, k in pairs]}


Returns = dict[int, dict[str, Any]]  # return month → its version and year to date by month


def _returns(
    rows: list[tuple[int, int, int, int, Decimal]],
) -> tuple[dict[int, Returns], dict[int, dict[str, Any]]]:
    """From (organisation, return month, version, month, surplus) rows: each organisation's
    returns (the latest version of each), with the surplus to date at each month as that
    return states it, and what its latest return says."""
    by_return: dict[tuple[int, int], tuple[int, dict[int, Decimal]]] = {}
    for org_id, return_month, version, month, value in rows:
        by_return.setdefault((org_id, return_month), (version, {}))[1][month] = value
    returns: dict[int, Returns] = {}
    latest: dict[int, dict[str, Any]] = {}
    for (org_id, return_month), (version, months) in sorted(
        by_return.items(), key=lambda kv: kv[0][1]
    ):
        running, to_date = Decimal(0), {}
        for m in range(1, return_month + 1):
            running += months.get(m, Decimal(0))
            to_date[m] = running
        returns.setdefault(org_id, {})[return_month] = {"version": version, "to_date": to_date}
        latest[org_id] = {
            "month": return_month,
            "year_to_date": running,
            "outturn": sum(months.values(), Decimal(0)),
        }
    return returns, latest


def _at(returns: Returns, return_month: int, month: int) -> dict[str, Any]:
    source = returns[return_month]
    return {"return_month": return_month, "version": source["version"],
            "actual": source["to_date"][month]}  # fmt: skip


def quarter_basis(returns: Returns) -> list[dict[str, Any] | None]:
    """What each quarter is assessed on: the year to date at its last month from the return
    for that month (its latest version), or, where none was made, the first return after it;
    None until there is one. With it, under `latest`, what the latest return says of the same
    months, where a later return restates them (else None)."""
    out: list[dict[str, Any] | None] = []
    for m in QUARTER_ENDS:
        after = sorted(month for month in returns if month >= m)
        if not after:
            out.append(None)
            continue
        basis, latest = _at(returns, after[0], m), _at(returns, after[-1], m)
        out.append(basis | {"latest": latest if latest["actual"] != basis["actual"] else None})
    return out


def _quarters(returns: Returns, assessed: dict[int, dict[str, Any]]) -> list[dict[str, Any] | None]:
    """Each quarter's basis today, with the assessment already made where it differs (a newer
    version of the return restated it): the assessment is what counts; the basis, or the
    latest return where that restates it, shows what would change."""
    out: list[dict[str, Any] | None] = []
    for q, basis in enumerate(quarter_basis(returns), start=1):
        frozen = assessed.get(q)
        if basis is None and frozen is None:
            out.append(None)
            continue
        entry = dict(basis or frozen | {"latest": None})  # type: ignore[operator]
        same = frozen is None or (
            basis is not None and all(basis[k] == v for k, v in frozen.items())
        )
        entry["assessed"] = None if same else frozen
        out.append(entry)
    return out


def gather_many(plan_round: PlanningRound, systems: list[System]) -> dict[int, dict[str, Any]]:
    """Every system's inputs, read set-based in the caller's (repeatable-read) transaction:
    a few queries whatever the number of systems."""
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
    params: dict[str, Any] = {
        "round": plan_round.pk, "systems": system_ids, **_surplus_coefficients(plan_round)
    }  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(PLANNED_SQL, params)
        planned = dict(cursor.fetchall())
        cursor.execute(RETURNS_SQL, params)
        returns, latest = _returns(cursor.fetchall())
    assessed: dict[int, dict[int, dict[str, Any]]] = {}
    for row in QuarterAssessment.objects.filter(
        round=plan_round, organisation__system_id__in=system_ids
    ).values("organisation_id", "quarter", "return_month", "return_version", "year_to_date"):
        assessed.setdefault(row["organisation_id"], {})[row["quarter"]] = {
            "return_month": row["return_month"], "version": row["return_version"],
            "actual": row["year_to_date"],
        }  # fmt: skip
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
        members = sorted(
            (pk for pk, _, sid in organisations if sid == system_id), key=ods.__getitem__
        )
        inputs: dict[str, Any] = {
            "control_totals": {ods[pk]: cts.get(pk) for pk in members},
            "planned": {ods[pk]: planned[pk] for pk in members if pk in planned},
            "quarters": {
                ods[pk]: _quarters(returns.get(pk, {}), assessed.get(pk, {}))
                for pk in members
                if pk in returns or pk in assessed
            },
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
