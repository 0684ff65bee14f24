"""Splitting a sum of money into parts that add up to it exactly."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_FLOOR, Decimal

from openbook.numbers import THOUSANDTH


def apportion(
    total: Decimal, weights: Sequence[Decimal], quantum: Decimal = THOUSANDTH
) -> list[Decimal]:
    """Split `total` in proportion to `weights`, to the quantum, by largest remainder: the
    parts always add up to exactly `total`."""
    if not weights:
        return []
    weight_sum = sum(weights, Decimal(0))
    if weight_sum == 0:
        raise ValueError("The weights add up to zero.")
    units = (total / quantum).to_integral_value()
    if units * quantum != total:
        raise ValueError(f"{total} is not a whole number of {quantum}.")
    exact = [units * w / weight_sum for w in weights]
    floors = [e.to_integral_value(rounding=ROUND_FLOOR) for e in exact]
    left = int(units - sum(floors, Decimal(0)))
    order = sorted(range(len(weights)), key=lambda i: (exact[i] - floors[i], -i), reverse=True)
    for i in order[:left]:
        floors[i] += 1
    return [f * quantum for f in floors]
