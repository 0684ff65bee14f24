"""A system's fund for the year: each partner's year-to-date position at each quarter end
against its control total (phased evenly through the year), the system's, and what each
organisation with an allocation earns, with workings. Pure: figures in, figures out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from openbook.numbers import THOUSANDTH
from payments.calculations.funds import FundRules, QuarterEarning, QuarterPosition, fund_earned

ZERO = Decimal(0)
QUARTER_ENDS = (3, 6, 9, 12)


def phased_target(control_total: Decimal, month: int) -> Decimal:
    """The control total for the year to date: phased evenly, month by month."""
    return (control_total * month / 12).quantize(THOUSANDTH)


def quarter_positions(
    control_total: Decimal | None, year_to_date: Mapping[int, Decimal]
) -> list[QuarterPosition | None]:
    """At each quarter end, the year-to-date target and actual (None: not yet reported, or no
    control total to be held to)."""
    if control_total is None:
        return [None] * 4
    return [
        QuarterPosition(phased_target(control_total, m), year_to_date[m])
        if m in year_to_date
        else None
        for m in QUARTER_ENDS
    ]


def system_positions(
    control_totals: Mapping[str, Decimal | None], year_to_date: Mapping[str, Mapping[int, Decimal]]
) -> list[QuarterPosition | None]:
    """The system at each quarter end: its partners with control totals added up. A quarter is
    not reported until every one of them has reported it."""
    held = [ods for ods, ct in control_totals.items() if ct is not None]
    out: list[QuarterPosition | None] = []
    for m in QUARTER_ENDS:
        if not held or any(m not in year_to_date.get(ods, {}) for ods in held):
            out.append(None)
            continue
        out.append(
            QuarterPosition(
                sum((phased_target(control_totals[ods], m) for ods in held), ZERO),  # type: ignore[arg-type]
                sum((year_to_date[ods][m] for ods in held), ZERO),
            )
        )
    return out


def still_to_report(
    control_totals: Mapping[str, Decimal | None], year_to_date: Mapping[str, Mapping[int, Decimal]]
) -> list[tuple[str, ...]]:
    """At each quarter end, the partners with control totals that have not reported it, by
    ODS code (empty once the system's position is known, and when no partner has a control
    total: then there is no system position to wait for)."""
    held = [ods for ods, ct in control_totals.items() if ct is not None]
    return [
        tuple(sorted(ods for ods in held if m not in year_to_date.get(ods, {})))
        for m in QUARTER_ENDS
    ]


@dataclass(frozen=True)
class OrganisationFund:
    ods_code: str
    allocation: Decimal
    quarters: list[QuarterEarning]

    @property
    def earned(self) -> Decimal:
        return sum((q.earned for q in self.quarters), ZERO)


def system_fund(
    rules: FundRules,
    allocations: Mapping[str, Decimal],
    control_totals: Mapping[str, Decimal | None],
    year_to_date: Mapping[str, Mapping[int, Decimal]],
    releases: Sequence[tuple[str, int]] = (),
) -> tuple[list[OrganisationFund], list[QuarterPosition | None]]:
    """What every organisation with an allocation earns, quarter by quarter.

    An allocated organisation without a control total has nothing to be held to: its own part
    is never reported, so it earns nothing until it has one (the page says so).
    """
    system = system_positions(control_totals, year_to_date)
    waiting = still_to_report(control_totals, year_to_date)
    released = set(releases)
    out = []
    for ods in sorted(allocations):
        own = quarter_positions(control_totals.get(ods), year_to_date.get(ods, {}))
        quarters = fund_earned(
            allocations[ods],
            rules,
            own,
            system,
            tuple((ods, q) in released for q in (1, 2, 3, 4)),
            waiting,
            held=control_totals.get(ods) is not None,
        )
        out.append(OrganisationFund(ods, allocations[ods], quarters))
    return out, system
