"""Each organisation's planned position against its control total, and the system's."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from payments.calculations.control_totals import system_control_total

ZERO = Decimal(0)


@dataclass(frozen=True)
class Position:
    organisation: str
    control_total: Decimal | None
    planned: Decimal | None  # the planned surplus (+) / deficit (−) for the year, £000

    @property
    def variance(self) -> Decimal | None:
        """Plan less control total: negative means the plan misses it."""
        if self.control_total is None or self.planned is None:
            return None
        return self.planned - self.control_total

    @property
    def met(self) -> bool | None:
        variance = self.variance
        return None if variance is None else variance >= ZERO


def positions(
    control_totals: Mapping[str, Decimal | None], planned: Mapping[str, Decimal]
) -> tuple[list[Position], Position]:
    """Every organisation's position, and the system's against its control total."""
    rows = [
        Position(ods, control_totals.get(ods), planned.get(ods)) for ods in sorted(control_totals)
    ]
    system_planned = sum((p for p in planned.values()), ZERO) if planned else None
    return rows, Position("system", system_control_total(control_totals), system_planned)
