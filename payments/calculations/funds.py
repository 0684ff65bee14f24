"""The financial recovery fund (or any fund like it): what each organisation earns, quarter by
quarter, for its own performance and for the system's, with the taper and any discretionary
release applied. Every figure comes with its workings.

Parameters are data on the fund, never constants here: the share tied to the system, the
quarterly phasing, the taper and where it reaches zero.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from openbook import numbers
from openbook.numbers import THOUSANDTH
from payments.calculations.apportion import apportion

ZERO = Decimal(0)
ONE = Decimal(1)


@dataclass(frozen=True)
class FundRules:
    system_share: Decimal = Decimal("0.5")  # of each payment, tied to the system's performance
    phasing: tuple[Decimal, ...] = (Decimal("0.25"),) * 4  # of the year's allocation, by quarter
    taper: str = "none"  # "none": met or missed; "linear": reduced with the shortfall
    taper_zero_at: Decimal | None = None  # the shortfall (£000) at which nothing is paid

    def check(self) -> None:
        if not ZERO <= self.system_share <= ONE:
            raise ValueError("The system share must be between 0% and 100%.")
        if (
            len(self.phasing) != 4
            or sum(self.phasing, ZERO) != ONE
            or any(p < 0 for p in self.phasing)
        ):
            raise ValueError("The quarterly phasing must be four shares adding up to 100%.")
        if self.taper not in ("none", "linear"):
            raise ValueError("The taper is none or linear.")
        if self.taper == "linear" and (self.taper_zero_at is None or self.taper_zero_at <= 0):
            raise ValueError("A linear taper needs the shortfall at which it reaches zero.")


@dataclass(frozen=True)
class QuarterPosition:
    """Year to date at the end of a quarter, £000: the plan it was held to and the outturn."""

    target: Decimal  # year-to-date control total
    actual: Decimal  # year-to-date position (surplus +, deficit −)

    @property
    def shortfall(self) -> Decimal:
        return max(ZERO, self.target - self.actual)


@dataclass(frozen=True)
class QuarterEarning:
    quarter: int
    allocation: Decimal
    own_part: Decimal
    system_part: Decimal
    own_earned: Decimal
    system_earned: Decimal
    workings: tuple[str, ...] = field(default_factory=tuple)
    own_reported: bool = True  # the organisation's own return for the quarter's end is in
    system_reported: bool = True  # every partner with a control total has reported it
    waiting_for: tuple[str, ...] = ()  # partners (ODS codes) the system-tied part waits for

    @property
    def earned(self) -> Decimal:
        return self.own_earned + self.system_earned


def paid_share(shortfall: Decimal, rules: FundRules) -> Decimal:
    """How much of a part is paid given a shortfall: all if none; with no taper nothing if any;
    with a linear taper, less in proportion, nothing at `taper_zero_at`."""
    if shortfall <= ZERO:
        return ONE
    if rules.taper == "none":
        return ZERO
    assert rules.taper_zero_at is not None
    return max(ZERO, ONE - shortfall / rules.taper_zero_at)


def _pay(part: Decimal, f: Decimal) -> Decimal:
    """Round down to the pound, so nothing is ever paid above the allocation."""
    return (part * f).quantize(THOUSANDTH, rounding="ROUND_FLOOR")


def _share(fraction: Decimal) -> str:
    """A taper factor as a percentage, to two places: 0.75 → 75.00%."""
    return numbers.figure(fraction * 100, numbers.PERCENT, places=2)


def _split(amount: Decimal, rules: FundRules) -> tuple[Decimal, Decimal]:
    """A quarter's allocation into its own-performance and system-tied parts, exactly."""
    if amount == ZERO:
        return ZERO, ZERO
    system_part, own_part = apportion(amount, [rules.system_share, ONE - rules.system_share])
    return own_part, system_part


def _quarter(
    q: int,
    amount: Decimal,
    rules: FundRules,
    own: QuarterPosition | None,
    system: QuarterPosition | None,
    released: bool,
    waiting_for: tuple[str, ...] = (),
    held: bool = True,
) -> QuarterEarning:
    """One quarter. The own-performance part depends on the organisation's own return only;
    the system-tied part waits for every partner with a control total (named) and, unless
    the lead released it, for the organisation's own result, as it is paid only to one that
    met its own control total."""
    own_part, system_part = _split(amount, rules)
    gbp = numbers.pounds  # workings in pounds: exact, as the fund is paid to the pound
    steps = [
        f"Q{q}: allocation {gbp(amount)}, of which own performance {gbp(own_part)} "
        f"and tied to the system {gbp(system_part)}",
    ]
    own_earned = ZERO
    if not held:
        steps.append("Own: no control total to be held to, so this part is not paid.")
    elif own is None:
        steps.append(f"Own: not yet reported for Q{q}; nothing earned from this part yet.")
    else:
        own_paid = paid_share(own.shortfall, rules)
        own_earned = _pay(own_part, own_paid)
        steps.append(
            f"Own: {gbp(own.actual)} against {gbp(own.target)} year to date, shortfall "
            f"{gbp(own.shortfall)}; paid {_share(own_paid)} of {gbp(own_part)} = "
            f"{gbp(own_earned)}"
        )
    system_earned = ZERO
    if system is None:
        steps.append(
            f"System: waiting for {', '.join(waiting_for)} to report Q{q}; nothing earned "
            "from this part yet."
            if waiting_for
            else "System: no partner has a control total, so the system has no position to "
            "measure; nothing earned from this part yet."
        )
    else:
        system_paid = paid_share(system.shortfall, rules)
        if not held:
            why, eligible = (
                "it is paid only to an organisation that met its own control total, and this "
                "one has none",
                False,
            )
        elif own is not None and own.shortfall == ZERO:
            why, eligible = "it met its own control total", True
        elif released and own is not None:
            why, eligible = "it missed its own control total but the lead released it", True
        elif released:
            why, eligible = "the lead released it", True
        elif own is None:
            why, eligible = (
                "it is paid only if the organisation met its own control total, so it waits "
                "for the organisation's own return",
                False,
            )
        else:
            why, eligible = "it missed its own control total, so this part is withheld", False
        system_earned = _pay(system_part, system_paid) if eligible else ZERO
        steps.append(
            f"System: {gbp(system.actual)} against {gbp(system.target)} year to date, "
            f"shortfall {gbp(system.shortfall)}, paid at {_share(system_paid)}; {why}; "
            f"earned {gbp(system_earned)}"
        )
    return QuarterEarning(
        q,
        amount,
        own_part,
        system_part,
        own_earned,
        system_earned,
        tuple(steps),
        own_reported=own is not None,
        system_reported=system is not None,
        waiting_for=waiting_for if system is None else (),
    )


def fund_earned(
    allocation: Decimal,
    rules: FundRules,
    own: Sequence[QuarterPosition | None],
    system: Sequence[QuarterPosition | None],
    released: Sequence[bool] = (False, False, False, False),
    waiting_for: Sequence[tuple[str, ...]] = ((), (), (), ()),
    held: bool = True,
) -> list[QuarterEarning]:
    """What an organisation earns each quarter. A part not yet reported (None) earns nothing
    yet: the own part as soon as the organisation has reported, whoever else has not. The
    system-tied part is paid, tapered by the system's shortfall, to an organisation that met
    its own control total, or that the system lead (with the region) released it to;
    `waiting_for` names, by quarter, the partners the system's position still waits for. An
    organisation with no control total (`held` false) has nothing to meet, so earns neither
    part, released or not."""
    rules.check()
    quarters = apportion(allocation, list(rules.phasing))
    return [
        _quarter(q, amount, rules, own_pos, sys_pos, release, tuple(waiting), held)
        for q, (amount, own_pos, sys_pos, release, waiting) in enumerate(
            zip(quarters, own, system, released, waiting_for, strict=True), start=1
        )
    ]
