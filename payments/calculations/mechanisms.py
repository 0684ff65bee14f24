"""Risk-share mechanisms (DESIGN.md, "Payment and risk-share mechanisms"): what each partner
pays (−) or receives (+) for an outcome, relative to the plan, with the workings.

Each mechanism is built from its parameters as typed (`build(kind, params)`), which checks them
all and reports every problem in plain words. Settling takes an `Outcome`: the measure the
mechanism follows (activity in units, or spend in £000) and whether the outcome measures were
met. At the planned measure with outcomes met, every mechanism settles at zero: the plan
position. Money is £000 as Decimal; shares of a whole are apportioned to the penny by largest
remainder, so they add up to it exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from openbook import numbers
from payments.calculations.apportion import apportion

ZERO = Decimal(0)
ONE = Decimal(1)
HUNDRED = Decimal(100)
PENCE = Decimal("0.00001")  # a penny, in £000
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
    flows: dict[str, Decimal]  # partner → + receives / − pays, £000
    workings: tuple[str, ...]


def _pence(value: Decimal) -> Decimal:
    return value.quantize(PENCE)


# Workings state every amount in the one number format, exactly: money (kept in £000 to the
# penny) in pounds and pence, activity in units with every place a phased volume has, rates
# as percentages.
def _gbp(value: Decimal) -> str:
    return numbers.amount(value * 1000, numbers.GBP)


def _units(value: Decimal) -> str:
    return numbers.exact(value)


def _rate(fraction: Decimal) -> str:
    """A rate exactly as agreed (12.5%, not 13%), so each working can be done again by hand."""
    return numbers.exact(fraction * HUNDRED) + "%"


def _split(total: Decimal, shares: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """`total` shared in proportion, to the penny, adding up to it exactly."""
    if total == ZERO:
        return dict.fromkeys(shares, ZERO)
    names = list(shares)
    return dict(zip(names, apportion(_pence(total), [shares[n] for n in names], PENCE),
                    strict=True))  # fmt: skip


class _Reader:
    """Reads typed parameters, collecting every problem rather than stopping at the first."""

    def __init__(self, params: Mapping[str, Any]):
        self.params = params
        self.problems: list[str] = []

    def _decimal(self, raw: object, label: str) -> Decimal | None:
        """A figure as typed, or None (with the problem noted) if it is not a usable number."""
        try:
            value = Decimal(str(raw).strip().replace(",", ""))
        except InvalidOperation:
            self.problems.append(f"{label} must be a number (found “{raw}”).")
            return None
        if not value.is_finite():
            self.problems.append(f"{label} must be a number (found “{raw}”).")
            return None
        if abs(value) >= LIMIT:
            self.problems.append(f"{label} must be under 100,000,000,000.")
            return None
        return value

    def number(self, key: str, label: str, *, minimum: Decimal | None = None,
               positive: bool = False) -> Decimal:  # fmt: skip
        raw = self.params.get(key)
        if raw in (None, ""):
            self.problems.append(f"{label} is needed.")
            return ZERO
        value = self._decimal(raw, label)
        if value is None:
            return ZERO
        if positive and value <= 0:
            self.problems.append(f"{label} must be more than zero.")
        elif minimum is not None and value < minimum:
            self.problems.append(f"{label} must be at least {minimum}.")
        return value

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
        """Partner → a positive amount (£000)."""
        out = self.per_partner(key, label, partners)
        for ods, value in out.items():
            if value <= 0:
                self.problems.append(f"{label}: {ods}'s must be more than zero.")
        if required and not out:
            self.problems.append(f"{label}: give at least one partner's.")
        return out

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


@dataclass(frozen=True)
class MarginalRate(Mechanism):
    """Activity above a baseline is paid at a fraction of price."""

    kind: ClassVar[str] = "marginal_rate"
    label: ClassVar[str] = "Marginal rate"
    follows: ClassVar[str] = "activity"
    scaled_fields: ClassVar[tuple[str, ...]] = ("baseline",)
    provider: str
    commissioner: str
    baseline: Decimal  # units
    price: Decimal  # £000 a unit
    rate: Decimal  # fraction of price paid above the baseline

    @property
    def plan_measure(self) -> Decimal:
        return self.baseline

    def settle(self, outcome: Outcome) -> SettlementResult:
        above = max(ZERO, outcome.measure - self.baseline)
        below = min(ZERO, outcome.measure - self.baseline)
        paid = _pence(above * self.price * self.rate + below * self.price)
        return SettlementResult(
            {self.provider: paid, self.commissioner: -paid},
            (
                f"Activity {_units(outcome.measure)} against a baseline of {_units(self.baseline)}",
                f"Above the baseline: {_units(above)} × price {_gbp(self.price)} × "
                f"{_rate(self.rate)} = {_gbp(_pence(above * self.price * self.rate))}",
                f"Below the baseline: {_units(below)} × price {_gbp(self.price)} (full price) = "
                f"{_gbp(_pence(below * self.price))}",
                f"{self.commissioner} pays {self.provider} {_gbp(paid)} more than the plan",
            ),
        )


@dataclass(frozen=True)
class BlendedPayment(Mechanism):
    """A fixed payment, a variable element for activity away from plan and an optional
    outcome element."""

    kind: ClassVar[str] = "blended"
    label: ClassVar[str] = "Blended payment"
    follows: ClassVar[str] = "activity"
    scaled_fields: ClassVar[tuple[str, ...]] = ("fixed", "plan", "outcome_amount")
    provider: str
    commissioner: str
    fixed: Decimal
    plan: Decimal  # units
    price: Decimal
    variable_rate: Decimal  # fraction of price a unit away from plan
    outcome_amount: Decimal = ZERO  # paid when the outcome measures are met

    @property
    def plan_measure(self) -> Decimal:
        return self.plan

    def settle(self, outcome: Outcome) -> SettlementResult:
        away = outcome.measure - self.plan
        variable = _pence(away * self.price * self.variable_rate)
        withheld = ZERO if outcome.met else -self.outcome_amount
        paid = variable + withheld
        return SettlementResult(
            {self.provider: paid, self.commissioner: -paid},
            (
                f"Fixed payment {_gbp(self.fixed)}, as planned",
                f"Variable: ({_units(outcome.measure)} − plan {_units(self.plan)}) × price "
                f"{_gbp(self.price)} × {_rate(self.variable_rate)} = {_gbp(variable)}",
                f"Outcome element {_gbp(self.outcome_amount)}: "
                + ("earned, as planned" if outcome.met else f"not earned, {_gbp(withheld)}"),
                f"Against the plan: {_gbp(paid)}",
            ),
        )


@dataclass(frozen=True)
class CapAndCollar(Mechanism):
    """Cost and volume: between a collar and a cap on activity the payment flexes at a
    marginal rate; outside the band it does not."""

    kind: ClassVar[str] = "cap_and_collar"
    label: ClassVar[str] = "Cost and volume with cap and collar"
    follows: ClassVar[str] = "activity"
    scaled_fields: ClassVar[tuple[str, ...]] = ("core", "plan", "collar", "cap")
    provider: str
    commissioner: str
    core: Decimal
    plan: Decimal
    collar: Decimal
    cap: Decimal
    price: Decimal
    rate: Decimal

    @property
    def plan_measure(self) -> Decimal:
        return self.plan

    def settle(self, outcome: Outcome) -> SettlementResult:
        counted = min(max(outcome.measure, self.collar), self.cap)
        paid = _pence((counted - self.plan) * self.price * self.rate)
        return SettlementResult(
            {self.provider: paid, self.commissioner: -paid},
            (
                f"Core payment {_gbp(self.core)}, as planned",
                f"Activity {_units(outcome.measure)}, counted within the collar "
                f"{_units(self.collar)} and cap {_units(self.cap)}: {_units(counted)}",
                f"({_units(counted)} − plan {_units(self.plan)}) × price {_gbp(self.price)} × "
                f"{_rate(self.rate)} = {_gbp(paid)}",
            ),
        )


@dataclass(frozen=True)
class RiskPool(Mechanism):
    """Budget less actual spend, shared by the partners in agreed percentages, optionally
    capped per partner (what a capped partner cannot take goes to the others in proportion)."""

    kind: ClassVar[str] = "risk_pool"
    label: ClassVar[str] = "Risk/reward pool"
    follows: ClassVar[str] = "spend"
    scaled_fields: ClassVar[tuple[str, ...]] = ("budget", "caps")
    budget: Decimal
    shares: Mapping[str, Decimal]
    caps: Mapping[str, Decimal] = field(default_factory=dict)

    @property
    def plan_measure(self) -> Decimal:
        return self.budget

    def settle(self, outcome: Outcome) -> SettlementResult:
        result = _pence(self.budget - outcome.measure)
        steps = [
            f"Pool result: budget {_gbp(self.budget)} − spend {_gbp(outcome.measure)} = "
            f"{_gbp(result)}"
        ]
        flows = dict.fromkeys(self.shares, ZERO)
        open_shares = {p: s for p, s in self.shares.items() if s > 0}
        left = result
        while left != ZERO and open_shares:
            part = _split(left, open_shares)
            left = ZERO
            for partner, amount in part.items():
                cap = self.caps.get(partner)
                room = None if cap is None else cap - abs(flows[partner])
                if room is not None and abs(amount) > room:
                    take = room if amount > 0 else -room
                    left += amount - take
                    flows[partner] += take
                    open_shares.pop(partner)
                    steps.append(f"{partner} reaches its cap of {_gbp(cap)}")
                else:
                    flows[partner] += amount
        steps += [f"{p}: {_rate(self.shares[p])} → {_gbp(v)}" for p, v in flows.items()]
        if left:
            steps.append(f"Beyond every partner's cap, not shared: {_gbp(left)}")
        return SettlementResult(flows, tuple(steps))


@dataclass(frozen=True)
class AllOrNothing(Mechanism):
    """A percentage of each partner's contract value, paid to every partner if the system
    meets its outcome measures, to none if not."""

    kind: ClassVar[str] = "all_or_nothing"
    label: ClassVar[str] = "All-or-nothing outcome payment"
    follows: ClassVar[str] = "outcomes"
    scaled_fields: ClassVar[tuple[str, ...]] = ("contract_values",)
    percent: Decimal  # fraction of contract value
    contract_values: Mapping[str, Decimal]

    def settle(self, outcome: Outcome) -> SettlementResult:
        # The plan assumes the payment is earned: missing the measures takes it from everyone.
        flows = {
            p: ZERO if outcome.met else -_pence(v * self.percent)
            for p, v in self.contract_values.items()
        }
        steps = [f"{p}: {_rate(self.percent)} of contract value {_gbp(v)} = "
                 f"{_gbp(_pence(v * self.percent))}"
                 for p, v in self.contract_values.items()]  # fmt: skip
        steps.append("Outcome measures met: paid to every partner, as planned" if outcome.met
                     else "Outcome measures missed: paid to none")  # fmt: skip
        return SettlementResult(flows, tuple(steps))


@dataclass(frozen=True)
class GainShare(Mechanism):
    """Savings against a baseline split between provider and commissioner."""

    kind: ClassVar[str] = "gain_share"
    label: ClassVar[str] = "Gain share"
    follows: ClassVar[str] = "spend"
    scaled_fields: ClassVar[tuple[str, ...]] = ("baseline", "planned_spend")
    provider: str
    commissioner: str
    baseline: Decimal  # £000 of spend the savings are measured against
    planned_spend: Decimal
    provider_share: Decimal  # fraction of savings to the provider

    @property
    def plan_measure(self) -> Decimal:
        return self.planned_spend

    def _shares(self, spend: Decimal) -> tuple[Decimal, Decimal, Decimal]:
        saving = max(ZERO, self.baseline - spend)
        to_provider = _pence(saving * self.provider_share)
        return saving, to_provider, _pence(saving) - to_provider

    def settle(self, outcome: Outcome) -> SettlementResult:
        saving, provider, commissioner = self._shares(outcome.measure)
        _, plan_provider, plan_commissioner = self._shares(self.planned_spend)
        return SettlementResult(
            {
                self.provider: provider - plan_provider,
                self.commissioner: commissioner - plan_commissioner,
            },  # fmt: skip
            (
                f"Saving: baseline {_gbp(self.baseline)} − spend {_gbp(outcome.measure)} = "
                f"{_gbp(saving)} (none if spend is above the baseline)",
                f"{self.provider}: {_rate(self.provider_share)} = {_gbp(provider)}; "
                f"{self.commissioner}: {_gbp(commissioner)}",
                f"Against the planned saving ({_gbp(plan_provider)} and {_gbp(plan_commissioner)})",
            ),
        )


@dataclass(frozen=True)
class Capitation(Mechanism):
    """A whole-population budget: baseline in-scope spend adjusted for inflation, growth,
    efficiency and shifts; the provider holds the risk of spend against it. Weighted
    capitation gives the distance from target."""

    kind: ClassVar[str] = "capitation"
    label: ClassVar[str] = "Capitation / whole-population budget"
    follows: ClassVar[str] = "spend"
    scaled_fields: ClassVar[tuple[str, ...]] = ("baseline", "shifts", "planned_spend", "target")
    provider: str
    commissioner: str
    baseline: Decimal
    inflation: Decimal
    growth: Decimal
    efficiency: Decimal
    shifts: Decimal = ZERO  # £000 moved in (+) or out (−) of scope
    planned_spend: Decimal | None = None  # the provider's plan; the budget if not given
    target: Decimal | None = None  # weighted capitation target allocation, £000

    @property
    def budget(self) -> Decimal:
        adjusted = self.baseline * (ONE + self.inflation) * (ONE + self.growth)
        return _pence(adjusted * (ONE - self.efficiency) + self.shifts)

    @property
    def plan_measure(self) -> Decimal:
        return self.budget if self.planned_spend is None else self.planned_spend

    @property
    def distance_from_target(self) -> Decimal | None:
        """(allocation − target) / target, as a percentage to two places."""
        if not self.target:
            return None
        return ((self.budget - self.target) / self.target * HUNDRED).quantize(Decimal("0.01"))

    def settle(self, outcome: Outcome) -> SettlementResult:
        over = _pence(self.plan_measure - outcome.measure)
        steps = [
            f"Budget: {_gbp(self.baseline)} × (1 + {_rate(self.inflation)}) × "
            f"(1 + {_rate(self.growth)}) × (1 − {_rate(self.efficiency)}) + shifts "
            f"{_gbp(self.shifts)} = {_gbp(self.budget)}",
            f"Spend {_gbp(outcome.measure)} against the planned {_gbp(self.plan_measure)}: "
            f"the provider {'keeps' if over >= 0 else 'bears'} {_gbp(abs(over))}",
        ]
        if self.distance_from_target is not None and self.target is not None:
            steps.append(
                f"Distance from target {_gbp(self.target)}: "
                + numbers.figure(self.distance_from_target, numbers.PERCENT, places=2)
            )
        return SettlementResult({self.provider: over, self.commissioner: ZERO}, tuple(steps))


@dataclass(frozen=True)
class PooledBudget(Mechanism):
    """Contributions by partner to a pool a host runs; an overspend or underspend is shared
    pro rata to contribution, each partner's share of an overspend capped at its contribution
    (what is left beyond that stays with the host)."""

    kind: ClassVar[str] = "pooled_budget"
    label: ClassVar[str] = "Pooled budget"
    follows: ClassVar[str] = "spend"
    scaled_fields: ClassVar[tuple[str, ...]] = ("contributions",)
    host: str
    contributions: Mapping[str, Decimal]

    @property
    def plan_measure(self) -> Decimal:
        return sum(self.contributions.values(), ZERO)

    def settle(self, outcome: Outcome) -> SettlementResult:
        result = _pence(self.plan_measure - outcome.measure)  # + underspend, − overspend
        flows = _split(result, dict(self.contributions))
        steps = [f"Pool {_gbp(self.plan_measure)} − spend {_gbp(outcome.measure)} = {_gbp(result)}"]
        host_extra = ZERO
        for partner, amount in list(flows.items()):
            limit = self.contributions[partner]
            if amount < -limit:
                host_extra += amount + limit
                flows[partner] = -limit
                steps.append(f"{partner}'s share capped at its contribution {_gbp(limit)}")
        if host_extra:
            flows[self.host] = flows.get(self.host, ZERO) + host_extra
            steps.append(
                f"{self.host}, the host, carries what is beyond the caps: {_gbp(host_extra)}"
            )
        steps += [f"{p}: {_gbp(v)}" for p, v in flows.items()]
        return SettlementResult(flows, tuple(steps))


def _marginal(r: _Reader, partners: set[str]) -> MarginalRate:
    provider, commissioner = r.two_parties(partners)
    return MarginalRate(
        provider=provider,
        commissioner=commissioner,
        baseline=r.number("baseline", "The baseline activity", minimum=ZERO),
        price=r.number("price", "The price a unit", positive=True),
        rate=r.percent("rate", "The marginal rate"),
    )


def _blended(r: _Reader, partners: set[str]) -> BlendedPayment:
    provider, commissioner = r.two_parties(partners)
    return BlendedPayment(
        provider=provider,
        commissioner=commissioner,
        fixed=r.number("fixed", "The fixed payment", minimum=ZERO),
        plan=r.number("plan", "The planned activity", minimum=ZERO),
        price=r.number("price", "The price a unit", positive=True),
        variable_rate=r.percent("variable_rate", "The variable rate"),
        outcome_amount=r.number("outcome_amount", "The outcome element", minimum=ZERO)
        if r.params.get("outcome_amount") not in (None, "")
        else ZERO,
    )


def _cap_and_collar(r: _Reader, partners: set[str]) -> CapAndCollar:
    provider, commissioner = r.two_parties(partners)
    mechanism = CapAndCollar(
        provider=provider,
        commissioner=commissioner,
        core=r.number("core", "The core payment", minimum=ZERO),
        plan=r.number("plan", "The planned activity", minimum=ZERO),
        collar=r.number("collar", "The collar", minimum=ZERO),
        cap=r.number("cap", "The cap", minimum=ZERO),
        price=r.number("price", "The price a unit", positive=True),
        rate=r.percent("rate", "The marginal rate"),
    )
    if mechanism.collar >= mechanism.cap:
        r.problems.append("The collar must be below the cap.")
    elif not mechanism.collar <= mechanism.plan <= mechanism.cap:
        r.problems.append("The planned activity must lie between the collar and the cap.")
    return mechanism


def _pool(r: _Reader, partners: set[str]) -> RiskPool:
    shares = r.shares("shares", "The partners' shares", partners)
    caps = r.amounts("caps", "Caps", partners, required=False)
    for ods in caps:
        if ods not in shares:
            r.problems.append(f"{ods} has a cap but no share.")
    return RiskPool(budget=r.number("budget", "The pool budget", positive=True), shares=shares,
                    caps=caps)  # fmt: skip


def _all_or_nothing(r: _Reader, partners: set[str]) -> AllOrNothing:
    return AllOrNothing(
        percent=r.percent("percent", "The percentage of contract value"),
        contract_values=r.amounts("contract_values", "Contract values", partners),
    )


def _gain_share(r: _Reader, partners: set[str]) -> GainShare:
    provider, commissioner = r.two_parties(partners)
    return GainShare(
        provider=provider,
        commissioner=commissioner,
        baseline=r.number("baseline", "The baseline spend", positive=True),
        planned_spend=r.number("planned_spend", "The planned spend", minimum=ZERO),
        provider_share=r.percent("provider_share", "The provider's share of savings"),
    )


def _capitation(r: _Reader, partners: set[str]) -> Capitation:
    optional = {
        key: r.number(key, label, positive=True)
        for key, label in (("planned_spend", "The planned spend"), ("target", "The target"))
        if r.params.get(key) not in (None, "")
    }
    provider, commissioner = r.two_parties(partners)
    return Capitation(
        provider=provider,
        commissioner=commissioner,
        baseline=r.number("baseline", "The baseline in-scope spend", positive=True),
        inflation=r.percent("inflation", "Inflation"),
        growth=r.percent("growth", "Growth"),
        efficiency=r.percent("efficiency", "The efficiency requirement"),
        shifts=r.number("shifts", "Shifts in or out of scope")
        if r.params.get("shifts") not in (None, "")
        else ZERO,
        **optional,
    )


def _pooled_budget(r: _Reader, partners: set[str]) -> PooledBudget:
    contributions = r.amounts("contributions", "Contributions", partners)
    host = r.partner("host", "Host", partners)
    if host and host not in contributions:
        r.problems.append("The host must be one of the contributing partners.")
    return PooledBudget(host=host, contributions=contributions)


BUILDERS: dict[str, tuple[type[Mechanism], Callable[[_Reader, set[str]], Mechanism]]] = {
    MarginalRate.kind: (MarginalRate, _marginal),
    BlendedPayment.kind: (BlendedPayment, _blended),
    CapAndCollar.kind: (CapAndCollar, _cap_and_collar),
    RiskPool.kind: (RiskPool, _pool),
    AllOrNothing.kind: (AllOrNothing, _all_or_nothing),
    GainShare.kind: (GainShare, _gain_share),
    Capitation.kind: (Capitation, _capitation),
    PooledBudget.kind: (PooledBudget, _pooled_budget),
}
KINDS = {kind: cls.label for kind, (cls, _) in BUILDERS.items()}


def build(kind: str, params: Mapping[str, Any], partners: Sequence[str]) -> Mechanism:
    """A mechanism from its typed parameters, or ParameterProblems listing everything wrong."""
    if kind not in BUILDERS:
        raise ParameterProblems([f"“{kind}” is not a mechanism Openbook knows."])
    reader = _Reader(params)
    mechanism = BUILDERS[kind][1](reader, set(partners))
    reader.done()
    return mechanism


VARIANCES = tuple(Decimal(v) / 100 for v in range(-20, 21, 5))  # −20% … +20% of plan


@dataclass(frozen=True)
class WhatIfRow:
    variance: Decimal  # fraction of plan
    met: bool
    measure: Decimal
    flows: dict[str, Decimal]


def what_if(
    mechanisms: Sequence[Mechanism], variances: Sequence[Decimal] = VARIANCES
) -> list[WhatIfRow]:
    """What every partner pays or receives across the agreement's mechanisms, for activity or
    spend from −20% to +20% of plan, with the outcome measures met and not met."""
    rows = []
    for met in (True, False):
        for variance in variances:
            flows: dict[str, Decimal] = {}
            measure = ZERO
            for mechanism in mechanisms:
                measure = mechanism.plan_measure * (ONE + variance)
                for partner, amount in mechanism.settle(Outcome(measure, met)).flows.items():
                    flows[partner] = flows.get(partner, ZERO) + amount
            rows.append(WhatIfRow(variance, met, measure, flows))
    return rows


# What each mechanism asks for, for forms and the API's documentation: (key, label, type,
# hint). Types: number (£000 or units), percent, partner (one of the agreement's partners),
# shares (a percentage per partner), amounts (£000 per partner).
# fmt: off
FIELDS: dict[str, list[tuple[str, str, str, str]]] = {
    MarginalRate.kind: [
        ("provider", "Provider", "partner", ""),
        ("commissioner", "Commissioner", "partner", ""),
        ("baseline", "Baseline activity", "number", "Units, e.g. emergency admissions"),
        ("price", "Price a unit", "number", "£000"),
        ("rate", "Marginal rate", "percent", "Paid above the baseline, e.g. 30"),
    ],
    BlendedPayment.kind: [
        ("provider", "Provider", "partner", ""),
        ("commissioner", "Commissioner", "partner", ""),
        ("fixed", "Fixed payment", "number", "£000"),
        ("plan", "Planned activity", "number", "Units"),
        ("price", "Price a unit", "number", "£000"),
        ("variable_rate", "Variable rate", "percent",
         "Of price, for each unit away from plan, e.g. 20"),
        ("outcome_amount", "Outcome element", "number",
         "£000, paid when the outcome measures are met (optional)"),
    ],
    CapAndCollar.kind: [
        ("provider", "Provider", "partner", ""),
        ("commissioner", "Commissioner", "partner", ""),
        ("core", "Core payment", "number", "£000"),
        ("plan", "Planned activity", "number", "Units"),
        ("collar", "Collar", "number", "Units: below this the payment does not flex"),
        ("cap", "Cap", "number", "Units: above this the payment does not flex"),
        ("price", "Price a unit", "number", "£000"),
        ("rate", "Marginal rate", "percent", "Of price, between collar and cap"),
    ],
    RiskPool.kind: [
        ("budget", "Pool budget", "number", "£000"),
        ("shares", "Shares", "shares", "% of the pool's gain or loss, adding up to 100"),
        ("caps", "Caps", "amounts_optional", "£000 at most per partner (optional)"),
    ],
    AllOrNothing.kind: [
        ("percent", "Percentage of contract value", "percent", "e.g. 1.8"),
        ("contract_values", "Contract values", "amounts", "£000 per partner in the scheme"),
    ],
    GainShare.kind: [
        ("provider", "Provider", "partner", ""),
        ("commissioner", "Commissioner", "partner", ""),
        ("baseline", "Baseline spend", "number", "£000"),
        ("planned_spend", "Planned spend", "number", "£000"),
        ("provider_share", "Provider's share of savings", "percent", ""),
    ],
    Capitation.kind: [
        ("provider", "Provider", "partner", "Holds the budget and its risk"),
        ("commissioner", "Commissioner", "partner", ""),
        ("baseline", "Baseline in-scope spend", "number", "£000"),
        ("inflation", "Inflation", "percent", ""),
        ("growth", "Growth", "percent", ""),
        ("efficiency", "Efficiency", "percent", ""),
        ("shifts", "Shifts in (+) or out (−) of scope", "number", "£000 (optional)"),
        ("planned_spend", "Planned spend", "number", "£000 (optional: the budget if blank)"),
        ("target", "Weighted capitation target", "number", "£000 (optional)"),
    ],
    PooledBudget.kind: [
        ("host", "Host", "partner", ""),
        ("contributions", "Contributions", "amounts", "£000 per contributing partner"),
    ],
}
# fmt: on


PERIOD_FRACTIONS = {"Q1": Decimal("0.25"), "Q2": Decimal("0.25"), "Q3": Decimal("0.25"),
                    "Q4": Decimal("0.25"), "year": ONE}  # fmt: skip


def settle_all(
    mechanisms: Sequence[Mechanism],
    measures: Sequence[Decimal | None],
    met: bool,
    fraction: Decimal = ONE,
) -> tuple[dict[str, Decimal], list[list[str]]]:
    """Every mechanism of an agreement settled for a period: the partners' totals and each
    mechanism's workings. A mechanism that follows outcomes only needs no measure."""
    totals: dict[str, Decimal] = {}
    workings: list[list[str]] = []
    for mechanism, measure in zip(mechanisms, measures, strict=True):
        period = mechanism.for_period(fraction)
        steps = (
            []
            if fraction == ONE
            else [f"For the period: amounts and volumes × {_rate(fraction)} of the year"]
        )
        if measure is None and period.follows != "outcomes":
            raise ValueError(f"{period.label} needs the actual {period.follows}.")
        result = period.settle(Outcome(measure if measure is not None else ZERO, met))
        for partner, amount in result.flows.items():
            totals[partner] = totals.get(partner, ZERO) + amount
        workings.append(steps + list(result.workings))
    return totals, workings
