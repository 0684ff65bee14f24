"""The recalculation's results and workings, from a system's gathered inputs: each
partner's position against its control total (for the year, and to date from its latest
return) and the fund each earns. Pure: the inputs are plain data, the results JSON (money as
strings, workings in English with figures in the one number format)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from openbook import numbers
from openbook.numbers import THOUSANDTH
from payments.calculations.funds import FundRules
from payments.calculations.positions import positions
from payments.calculations.system_fund import (
    QUARTER_ENDS,
    ZERO,
    phased_target,
    still_to_report,
    system_fund,
)
from plans.models import MONTH_LABELS


def _money(value: Decimal | None) -> str | None:
    """£000 as a string with three places at least ("0.000", never "0"): figures are kept
    to the pound, and none is ever rounded here."""
    if value is None:
        return None
    exponent = value.as_tuple().exponent
    return str(value.quantize(THOUSANDTH) if isinstance(exponent, int) and exponent > -3 else value)


# Workings state £000 figures in pounds: exact (figures are kept to the pound) and with the
# unit, in the one number format.
gbp = numbers.pounds


def _counted(entry: dict[str, Any]) -> dict[str, Any]:
    """The year to date a quarter is assessed on: as first assessed, or its basis until then."""
    return entry["assessed"] or entry


def _today(entry: dict[str, Any]) -> dict[str, Any]:
    """The same months as the latest return states them."""
    return entry["latest"] or entry


def _to_date(quarters: dict[str, list], restated: bool) -> dict[str, dict[int, Decimal]]:
    """Each partner's year to date at the quarter ends it has reported: as assessed (what
    counts), or as its latest returns state it (`restated`)."""
    out: dict[str, dict[int, Decimal]] = {}
    for ods, entries in quarters.items():
        for month, entry in zip(QUARTER_ENDS, entries, strict=True):
            if entry is not None:
                used = _today(entry) if restated else _counted(entry)
                out.setdefault(ods, {})[month] = used["actual"]
    return out


def _return_name(source: dict[str, Any]) -> str:
    return f"the {MONTH_LABELS[source['return_month'] - 1]} return, version {source['version']}"


def _source_step(entry: dict[str, Any], month: int) -> str:
    """Where a quarter's year to date came from, as the workings say it."""
    label = MONTH_LABELS[month - 1]
    used = _counted(entry)
    late = (
        ""
        if used["return_month"] == month
        else f" (no {label} return yet: provisional until it comes)"
    )
    step = f"Year to date at {label}: {gbp(used['actual'])}, from {_return_name(used)}{late}"
    if entry["assessed"] is not None:
        step += ", as first assessed"
    return step


def _restatement(
    ods: str, quarter: int, quarters: dict[str, list], official, restated
) -> dict[str, Any] | None:
    """How later returns restating this quarter would change what the organisation earns:
    who restated what, and the effect. Always shown for its own restatement (even to no
    effect); a partner's only where it changes what this one earns (through the system's
    position)."""
    label = MONTH_LABELS[QUARTER_ENDS[quarter - 1] - 1]
    rows = [
        (code, _counted(entry), _today(entry))
        for code, entries in sorted(quarters.items())
        if (entry := entries[quarter - 1]) is not None
        and _counted(entry)["actual"] != _today(entry)["actual"]
    ]
    changes = [
        {"organisation": code, "was": _money(was["actual"]), "now": _money(now["actual"]),
         "return": _return_name(now)}
        for code, was, now in rows
    ]  # fmt: skip
    effect = restated.earned - official.earned
    own_restated = any(c["organisation"] == ods for c in changes)
    if not changes or (effect == ZERO and not own_restated):
        return None
    said = "; ".join(
        f"{code}'s year to date at {label} is now {gbp(now['actual'])} in {_return_name(now)} "
        f"(was {gbp(was['actual'])})"
        for code, was, now in rows
    )
    step = (
        f"Restated by a later return: {said}. At the restated figures this quarter would "
        f"earn {gbp(restated.earned)}, "
        + (
            "the same"
            if effect == ZERO
            else f"{gbp(abs(effect))} {'more' if effect > 0 else 'less'}"
        )
        + "; the assessed figure stands."
    )
    return {"by": changes, "earned": _money(restated.earned), "effect": _money(effect),
            "workings": step}  # fmt: skip


def _fund_results(inputs: dict[str, Any]) -> dict[str, Any] | None:
    fund = inputs["fund"]
    if fund is None:
        return None
    rules = FundRules(
        system_share=fund["system_share"],
        phasing=tuple(fund["phasing"]),
        taper=fund["taper"],
        taper_zero_at=fund["taper_zero_at"],
    )
    cts, reported = inputs["control_totals"], inputs["quarters"]
    releases = [tuple(r) for r in fund["releases"]]
    assessed = _to_date(reported, restated=False)
    organisations, system = system_fund(rules, fund["allocations"], cts, assessed, releases)
    restated_orgs, restated_system = system_fund(
        rules, fund["allocations"], cts, _to_date(reported, restated=True), releases
    )
    rows = []
    for org, org_restated in zip(organisations, restated_orgs, strict=True):
        ct = cts.get(org.ods_code)
        quarters = []
        for q, again, month in zip(org.quarters, org_restated.quarters, QUARTER_ENDS,
                                   strict=True):  # fmt: skip
            entry = (reported.get(org.ods_code) or [None] * 4)[q.quarter - 1]
            restatement = _restatement(org.ods_code, q.quarter, reported, q, again)
            target = (
                f"Year-to-date control total: {gbp(ct)} × {month}/12 = "
                f"{gbp(phased_target(ct, month))}"
                if ct is not None
                else "No control total: there is nothing to measure its own performance against."
            )
            quarters.append(
                {
                    "quarter": q.quarter,
                    "allocation": _money(q.allocation),
                    "own_part": _money(q.own_part),
                    "system_part": _money(q.system_part),
                    "own_earned": _money(q.own_earned),
                    "system_earned": _money(q.system_earned),
                    "earned": _money(q.earned),
                    "own_reported": q.own_reported,
                    "system_reported": q.system_reported,
                    "waiting_for": list(q.waiting_for),
                    "source": None
                    if entry is None
                    else {
                        "return_month": _counted(entry)["return_month"],
                        "version": _counted(entry)["version"],
                        "year_to_date": _money(_counted(entry)["actual"]),
                    },
                    "restated": restatement,
                    "workings": [
                        q.workings[0],
                        target,
                        *(
                            [_source_step(entry, month)]
                            if entry is not None and ct is not None
                            else []
                        ),
                        *q.workings[1:],
                        *([restatement["workings"]] if restatement else []),
                    ],
                }  # fmt: skip
            )
        rows.append(
            {
                "ods_code": org.ods_code,
                "allocation": _money(org.allocation),
                "earned": _money(org.earned),
                # No control total: nothing to meet, so nothing is earned (the workings say).
                "held_to_control_total": ct is not None,
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
            {
                "quarter": q,
                "reported": p is not None,
                "waiting_for": list(waiting),
                "target": _money(None if p is None else p.target),
                "actual": _money(None if p is None else p.actual),
                "shortfall": _money(None if p is None else p.shortfall),
                # The system's year to date at the returns as they stand today, where later
                # returns restated what was assessed (None when nothing was).
                "restated_actual": _money(again.actual) if p and again and again != p else None,
            }
            for q, (p, again, waiting) in enumerate(
                zip(system, restated_system, still_to_report(cts, assessed), strict=True),
                start=1,
            )
        ],
    }


def compute(inputs: dict[str, Any]) -> dict[str, Any]:
    """The results, as JSON (money as strings)."""
    rows, system_position = positions(inputs["control_totals"], inputs["planned"])
    latest = inputs.get("latest_returns", {})

    def to_date(ods: str, ct: Decimal | None) -> dict[str, Any] | None:
        reported = latest.get(ods)
        if reported is None:
            return None
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
