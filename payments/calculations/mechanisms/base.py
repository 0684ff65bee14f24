"""What every mechanism shares: the outcome it settles for, its result, the precision and
wording of money, and reading typed parameters with every problem reported."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, ClassVar

from openbook import numbers
from payments.calculations.apportion import apportion

ZERO = Decimal(0)
ONE = Decimal(1)
HUNDRED = Decimal(100)
PENCE = Decimal("0.00001")  # a penny, in £000
PENNY = Decimal("0.01")  # a penny, in pounds
THOUSAND = Decimal(1000)  # pounds in £000: money is typed in pounds, worked in £000
LIMIT = Decimal("1e11")  # any figure must be under this (£100bn in £000, or units)


class ParameterProblems(ValueError):
    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Outcome:
    measure: Decimal  # activity (units) or spend (£000), whichever the mechanism follows
    met: bool = True  # the outcome measures


@dataclass(frozen=True)
class SettlementResult:
    """What each partner receives (+) or pays (−), £000, against the plan. Money between
    partners nets to zero; what does not (a pool's underspend, spend against a budget) is the
    named external party's, so partners and external parties together always sum to zero."""

    flows: dict[str, Decimal]  # partner → + receives / − pays, £000
    workings: tuple[str, ...]
    external: dict[str, Decimal] = field(default_factory=dict)  # named party → amount, £000


def pence(value: Decimal) -> Decimal:
    return value.quantize(PENCE)


def pounds_text(value: Decimal) -> str:
    """An amount worked in £000, as shown and sent: pounds and pence, two places ("0.00",
    "1000000.01"), the unit people type money in."""
    return str((value * THOUSAND).quantize(PENNY))


def worked_measure(mechanism: Mechanism, typed: object) -> Decimal:
    """An actual as typed (spend in pounds and pence, activity in units) as the mechanism
    works it (spend in £000)."""
    value = Decimal(str(typed))
    return value / THOUSAND if mechanism.follows == "spend" else value


# Workings state every amount in the one number format, exactly: money (kept in £000 to the
# penny) in pounds and pence, activity in units with every place a phased volume has, rates
# as percentages.
def gbp(value: Decimal) -> str:
    return numbers.amount(value * 1000, numbers.GBP)


def money_gbp(value: Decimal | None) -> str:
    """An amount already in pounds (a figure per head), in pounds and pence."""
    return numbers.amount(value, numbers.GBP)


def units(value: Decimal) -> str:
    return numbers.exact(value)


def rate(fraction: Decimal) -> str:
    """A rate exactly as agreed (12.5%, not 13%), so each working can be done again by hand."""
    return numbers.exact(fraction * HUNDRED) + "%"


def split(total: Decimal, shares: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """`total` shared in proportion, to the penny, adding up to it exactly."""
    if total == ZERO:
        return dict.fromkeys(shares, ZERO)
    names = list(shares)
    return dict(zip(names, apportion(pence(total), [shares[n] for n in names], PENCE),
                    strict=True))  # fmt: skip


class Reader:
    """Reads typed parameters, collecting every problem rather than stopping at the first."""

    def __init__(self, params: Mapping[str, Any]):
        self.params = params
        self.problems: list[str] = []

    def _decimal(self, raw: object, label: str) -> Decimal | None:
        """A figure as typed, or None (with the problem noted) if it is not a usable number."""
        try:  # the one grammar: "12,34" is not 1234, nor is "5e2" 500
            value = numbers.parse(str(raw))
        except numbers.NotAFigure:
            value = None
        if value is None:
            self.problems.append(f"{label} must be a number (found “{raw}”).")
            return None
        if abs(value) >= LIMIT:
            self.problems.append(f"{label} must be under 100,000,000,000.")
            return None
        return value

    def number(self, key: str, label: str, *, minimum: Decimal | None = None,
               positive: bool = False, money: bool = False) -> Decimal:  # fmt: skip
        """A figure; `money`, an amount typed in pounds and pence (no finer than a penny),
        returned in £000 as the mechanisms work in it."""
        raw = self.params.get(key)
        if raw in (None, ""):
            self.problems.append(f"{label} is needed.")
            return ZERO
        value = self._decimal(raw, label)
        if value is None:
            return ZERO
        if money:
            self._to_the_penny(value, label, raw)
        if positive and value <= 0:
            self.problems.append(f"{label} must be more than zero.")
        elif minimum is not None and value < minimum:
            self.problems.append(f"{label} must be at least {minimum}.")
        return value / THOUSAND if money else value

    def _to_the_penny(self, value: Decimal, label: str, raw: object) -> None:
        if value != value.quantize(PENNY):
            self.problems.append(
                f"{label} is in pounds and pence and goes no finer than a penny, two decimal "
                f"places (found “{raw}”)."
            )

    def per_partner(self, key: str, label: str, partners: set[str]) -> dict[str, Decimal]:
        """Partner → a figure, for the partners given; problems noted for the rest."""
        raw = self.params.get(key) or {}
        if not isinstance(raw, Mapping):
            self.problems.append(f"{label}: give a figure for each partner, by ODS code.")
            return {}
        out: dict[str, Decimal] = {}
        for ods, value in raw.items():
            if ods not in partners:
                self.problems.append(f"{label}: {ods} is not a partner in this agreement.")
                continue
            if value in (None, ""):
                continue
            number = self._decimal(value, f"{label}: {ods}'s")
            if number is not None:
                out[str(ods)] = number
        return out

    def percent(self, key: str, label: str) -> Decimal:
        """A rate typed as a percentage (30 for 30%), returned as a fraction."""
        value = self.number(key, label)
        if not ZERO <= value <= HUNDRED:
            self.problems.append(f"{label} must be between 0% and 100%.")
        return value / HUNDRED

    def partner(self, key: str, label: str, partners: set[str]) -> str:
        value = str(self.params.get(key) or "").strip()
        if not value:
            self.problems.append(f"Choose the {label.lower()}.")
        elif value not in partners:
            self.problems.append(f"{label} {value} is not a partner in this agreement.")
        return value

    def shares(self, key: str, label: str, partners: set[str]) -> dict[str, Decimal]:
        """Partner → percentage, which must add up to exactly 100%."""
        out = {
            ods: value / HUNDRED for ods, value in self.per_partner(key, label, partners).items()
        }
        for ods, value in out.items():
            if value < 0:
                self.problems.append(f"{label}: {ods}'s share cannot be negative.")
        if out and sum(out.values(), ZERO) != ONE:
            total = sum(out.values(), ZERO) * HUNDRED
            self.problems.append(
                f"{label} must add up to 100% (they add up to {total.normalize():f}%)."
            )
        if not out:
            self.problems.append(f"{label}: give each partner's share.")
        return out

    def amounts(
        self, key: str, label: str, partners: set[str], *, required: bool = True
    ) -> dict[str, Decimal]:
        """Partner → a positive amount, typed in pounds and pence, returned in £000."""
        out = self.per_partner(key, label, partners)
        for ods, value in out.items():
            if value <= 0:
                self.problems.append(f"{label}: {ods}'s must be more than zero.")
            typed = (self.params.get(key) or {}).get(ods, value)  # as typed, to be found
            self._to_the_penny(value, f"{label}: {ods}'s", typed)
        if required and not out:
            self.problems.append(f"{label}: give at least one partner's.")
        return {ods: value / THOUSAND for ods, value in out.items()}

    def two_parties(self, partners: set[str]) -> tuple[str, str]:
        provider = self.partner("provider", "Provider", partners)
        commissioner = self.partner("commissioner", "Commissioner", partners)
        if provider and provider == commissioner:
            self.problems.append("The provider and the commissioner must be different partners.")
        return provider, commissioner

    def done(self) -> None:
        if self.problems:
            raise ParameterProblems(self.problems)


@dataclass(frozen=True)
class Mechanism:
    kind: ClassVar[str]
    label: ClassVar[str]
    follows: ClassVar[str]  # "activity", "spend" or "outcomes": what the what-if varies

    scaled_fields: ClassVar[tuple[str, ...]] = ()  # amounts and volumes for a whole year

    @property
    def plan_measure(self) -> Decimal:
        return ZERO

    @property
    def outcome_linked(self) -> bool:
        """Whether what it settles depends on outcome measures being met: each such mechanism
        is asked its own (an agreement's mechanisms have measures of their own)."""
        return False

    def figures(self, measure: Decimal | None = None) -> dict[str, Decimal | None]:
        """Named figures about the terms (and, given a measure, about that outcome), each name
        ending in its unit: `_gbp` pounds, `_percent`, `_people`. None: not given."""
        return {}

    def settle(self, outcome: Outcome) -> SettlementResult:
        raise NotImplementedError

    def for_period(self, fraction: Decimal) -> Mechanism:
        """The mechanism for part of the year (a quarter is 1/4): its amounts and volumes
        scaled, its rates, prices and shares unchanged."""
        if fraction == ONE:
            return self
        changes: dict[str, Any] = {}
        for name in self.scaled_fields:
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, Mapping):
                changes[name] = {k: v * fraction for k, v in value.items()}
            else:
                changes[name] = value * fraction
        return replace(self, **changes)
