"""Control totals and net-neutral transfers between partners.

A control total (CT) is the surplus (+) or deficit (−) an organisation has agreed to, in
£000; an organisation may have none. The system control total (SCT) is the sum of its
members' control totals. A transfer moves control total between partners without moving
the SCT: its amounts add up to exactly zero.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

ZERO = Decimal(0)


class TransferProblem(ValueError):
    """A transfer that cannot be made, with the reason."""


@dataclass(frozen=True)
class Move:
    organisation: str  # ODS code
    amount: Decimal  # added to the organisation's control total (negative: taken away)


def system_control_total(control_totals: Mapping[str, Decimal | None]) -> Decimal | None:
    """The sum of the members' control totals; None when no member has one."""
    values = [v for v in control_totals.values() if v is not None]
    if not values:
        return None
    return sum(values, ZERO)


def check_transfer(lines: list[Move], control_totals: Mapping[str, Decimal | None]) -> None:
    """Raise TransferProblem unless the transfer is net-neutral between partners with
    control totals: at least two organisations, each once, no zero amounts, summing to 0."""
    if len(lines) < 2:
        raise TransferProblem("A transfer is between at least two organisations.")
    seen = set()
    for line in lines:
        if line.organisation in seen:
            raise TransferProblem(f"{line.organisation} appears more than once.")
        seen.add(line.organisation)
        if line.organisation not in control_totals:
            raise TransferProblem(f"{line.organisation} is not a partner in this system.")
        if control_totals[line.organisation] is None:
            raise TransferProblem(f"{line.organisation} has no control total to change.")
        if line.amount == ZERO:
            raise TransferProblem(f"The amount for {line.organisation} is zero.")
    total = sum((line.amount for line in lines), ZERO)
    if total != ZERO:
        raise TransferProblem(
            f"The amounts add up to {total:+}, not zero: a transfer cannot change the system "
            "control total."
        )


def apply_transfer(
    lines: list[Move], control_totals: Mapping[str, Decimal | None]
) -> dict[str, Decimal | None]:
    """The control totals after the transfer (checked first)."""
    check_transfer(lines, control_totals)
    after = dict(control_totals)
    for line in lines:
        after[line.organisation] = (after[line.organisation] or ZERO) + line.amount
    return after
