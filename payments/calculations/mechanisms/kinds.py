"""The eight mechanisms of the catalogue, each settling an outcome into flows between
partners with its workings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import ClassVar

from openbook import numbers
from payments.calculations.mechanisms.base import (
    HUNDRED,
    ONE,
    PENNY,
    ZERO,
    Mechanism,
    Outcome,
    SettlementResult,
    gbp,
    money_gbp,
    pence,
    rate,
    split,
    units,
)

# The parties outside the agreement whose money settles what partners do not pay each other:
# a pool's result (its budget, or contributions, less what was spent), what a capped pool
# could not share, a saving against planned spend, spend against a budget.
POOL_RESULT = "The pool (budget less spend)"
NOT_SHARED = "Beyond every cap, not shared"
SAVING = "Spend saved against the plan"
SPEND = "Spend against the budget"


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
        paid = pence(above * self.price * self.rate + below * self.price)
        return SettlementResult(
            {self.provider: paid, self.commissioner: -paid},
            (
                f"Activity {units(outcome.measure)} against a baseline of {units(self.baseline)}",
                f"Above the baseline: {units(above)} × price {gbp(self.price)} × "
                f"{rate(self.rate)} = {gbp(pence(above * self.price * self.rate))}",
                f"Below the baseline: {units(below)} × price {gbp(self.price)} (full price) = "
                f"{gbp(pence(below * self.price))}",
                f"{self.commissioner} pays {self.provider} {gbp(paid)} more than the plan",
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

    @property
    def outcome_linked(self) -> bool:
        return self.outcome_amount != ZERO

    def settle(self, outcome: Outcome) -> SettlementResult:
        away = outcome.measure - self.plan
        variable = pence(away * self.price * self.variable_rate)
        withheld = ZERO if outcome.met else -self.outcome_amount
        paid = variable + withheld
        return SettlementResult(
            {self.provider: paid, self.commissioner: -paid},
            (
                f"Fixed payment {gbp(self.fixed)}, as planned",
                f"Variable: ({units(outcome.measure)} − plan {units(self.plan)}) × price "
                f"{gbp(self.price)} × {rate(self.variable_rate)} = {gbp(variable)}",
                f"Outcome element {gbp(self.outcome_amount)}: "
                + ("earned, as planned" if outcome.met else f"not earned, {gbp(withheld)}"),
                f"Against the plan: {gbp(paid)}",
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
        paid = pence((counted - self.plan) * self.price * self.rate)
        return SettlementResult(
            {self.provider: paid, self.commissioner: -paid},
            (
                f"Core payment {gbp(self.core)}, as planned",
                f"Activity {units(outcome.measure)}, counted within the collar "
                f"{units(self.collar)} and cap {units(self.cap)}: {units(counted)}",
                f"({units(counted)} − plan {units(self.plan)}) × price {gbp(self.price)} × "
                f"{rate(self.rate)} = {gbp(paid)}",
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
        result = pence(self.budget - outcome.measure)
        steps = [
            f"Pool result: budget {gbp(self.budget)} − spend {gbp(outcome.measure)} = {gbp(result)}"
        ]
        flows = dict.fromkeys(self.shares, ZERO)
        open_shares = {p: s for p, s in self.shares.items() if s > 0}
        left = result
        while left != ZERO and open_shares:
            part = split(left, open_shares)
            left = ZERO
            for partner, amount in part.items():
                cap = self.caps.get(partner)
                room = None if cap is None else cap - abs(flows[partner])
                if cap is not None and room is not None and abs(amount) > room:
                    take = room if amount > 0 else -room
                    left += amount - take
                    flows[partner] += take
                    open_shares.pop(partner)
                    steps.append(f"{partner} reaches its cap of {gbp(cap)}")
                else:
                    flows[partner] += amount
        steps += [f"{p}: {rate(self.shares[p])} → {gbp(v)}" for p, v in flows.items()]
        external = {POOL_RESULT: -result}
        if left:
            steps.append(f"Beyond every partner's cap, not shared: {gbp(left)}")
            external[NOT_SHARED] = left
        return SettlementResult(flows, tuple(steps), external)


@dataclass(frozen=True)
class AllOrNothing(Mechanism):
    """A percentage of each provider's contract value, paid by the payer (a partner, usually
    the commissioner) if the system meets its outcome measures, to none if not: when they
    are missed the payer keeps what it would have paid."""

    kind: ClassVar[str] = "all_or_nothing"
    label: ClassVar[str] = "All-or-nothing outcome payment"
    follows: ClassVar[str] = "outcomes"
    scaled_fields: ClassVar[tuple[str, ...]] = ("contract_values",)
    percent: Decimal  # fraction of contract value
    contract_values: Mapping[str, Decimal]
    payer: str

    @property
    def outcome_linked(self) -> bool:
        return True

    def settle(self, outcome: Outcome) -> SettlementResult:
        # The plan assumes the payment is earned: missing the measures takes it from every
        # provider, and the payer keeps it.
        flows = {
            p: ZERO if outcome.met else -pence(v * self.percent)
            for p, v in self.contract_values.items()
        }
        kept = -sum(flows.values(), ZERO)
        flows[self.payer] = flows.get(self.payer, ZERO) + kept
        steps = [f"{p}: {rate(self.percent)} of contract value {gbp(v)} = "
                 f"{gbp(pence(v * self.percent))}"
                 for p, v in self.contract_values.items()]  # fmt: skip
        steps.append(f"Outcome measures met: {self.payer} pays every provider, as planned"
                     if outcome.met
                     else f"Outcome measures missed: paid to none; {self.payer} keeps "
                          f"{gbp(kept)}")  # fmt: skip
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
        to_provider = pence(saving * self.provider_share)
        return saving, to_provider, pence(saving) - to_provider

    def settle(self, outcome: Outcome) -> SettlementResult:
        saving, provider, commissioner = self._shares(outcome.measure)
        _, plan_provider, plan_commissioner = self._shares(self.planned_spend)
        flows = {
            self.provider: provider - plan_provider,
            self.commissioner: commissioner - plan_commissioner,
        }
        return SettlementResult(
            flows,
            (
                f"Saving: baseline {gbp(self.baseline)} − spend {gbp(outcome.measure)} = "
                f"{gbp(saving)} (none if spend is above the baseline)",
                f"{self.provider}: {rate(self.provider_share)} = {gbp(provider)}; "
                f"{self.commissioner}: {gbp(commissioner)}",
                f"Against the planned saving ({gbp(plan_provider)} and {gbp(plan_commissioner)})",
            ),
            {SAVING: -sum(flows.values(), ZERO)},
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
    population: Decimal | None = None  # registered (raw) population, people
    weighted_population: Decimal | None = None  # weighted for need, people

    @property
    def budget(self) -> Decimal:
        adjusted = self.baseline * (ONE + self.inflation) * (ONE + self.growth)
        return pence(adjusted * (ONE - self.efficiency) + self.shifts)

    @property
    def plan_measure(self) -> Decimal:
        return self.budget if self.planned_spend is None else self.planned_spend

    @property
    def distance_from_target(self) -> Decimal | None:
        """(allocation − target) / target, as a percentage to two places."""
        if not self.target:
            return None
        return ((self.budget - self.target) / self.target * HUNDRED).quantize(Decimal("0.01"))

    def figures(self, measure: Decimal | None = None) -> dict[str, Decimal | None]:
        """The budget and target in pounds, the distance from target, the populations and
        the budget, target and (given the spend) spend per head and per weighted head, in
        pounds and pence. Per-head figures are for the year's terms, or the period's."""

        def per(amount: Decimal | None, people: Decimal | None) -> Decimal | None:
            if amount is None or not people:
                return None
            return (amount * 1000 / people).quantize(PENNY)

        out: dict[str, Decimal | None] = {
            "budget_gbp": (self.budget * 1000).quantize(PENNY),
            "target_gbp": None if self.target is None else (self.target * 1000).quantize(PENNY),
            "distance_from_target_percent": self.distance_from_target,
            "population_people": self.population,
            "weighted_population_people": self.weighted_population,
            "budget_per_head_gbp": per(self.budget, self.population),
            "budget_per_weighted_head_gbp": per(self.budget, self.weighted_population),
            "target_per_weighted_head_gbp": per(self.target, self.weighted_population),
        }
        if measure is not None:
            out["spend_gbp"] = (measure * 1000).quantize(PENNY)
            out["spend_per_head_gbp"] = per(measure, self.population)
            out["spend_per_weighted_head_gbp"] = per(measure, self.weighted_population)
        return out

    def settle(self, outcome: Outcome) -> SettlementResult:
        over = pence(self.plan_measure - outcome.measure)
        steps = [
            f"Budget: {gbp(self.baseline)} × (1 + {rate(self.inflation)}) × "
            f"(1 + {rate(self.growth)}) × (1 − {rate(self.efficiency)}) + shifts "
            f"{gbp(self.shifts)} = {gbp(self.budget)}",
            f"Spend {gbp(outcome.measure)} against the planned {gbp(self.plan_measure)}: "
            f"the provider {'keeps' if over >= 0 else 'bears'} {gbp(abs(over))}",
        ]
        if self.distance_from_target is not None and self.target is not None:
            steps.append(
                f"Distance from target {gbp(self.target)}: ({gbp(self.budget)} − "
                f"{gbp(self.target)}) ÷ {gbp(self.target)} = "
                + numbers.figure(self.distance_from_target, numbers.PERCENT, places=2)
            )
        figures = self.figures(outcome.measure)
        for people, heads, key in (
            (self.population, "head", "per_head"),
            (self.weighted_population, "weighted head", "per_weighted_head"),
        ):
            if people:
                steps.append(
                    f"Per {heads} ({units(people)} people): budget "
                    f"{money_gbp(figures['budget_' + key + '_gbp'])}, spend "
                    f"{money_gbp(figures['spend_' + key + '_gbp'])}"
                    + (
                        f", target {money_gbp(figures['target_' + key + '_gbp'])}"
                        if key == "per_weighted_head" and self.target is not None
                        else ""
                    )
                )
        return SettlementResult(
            {self.provider: over, self.commissioner: ZERO}, tuple(steps), {SPEND: -over}
        )


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
        result = pence(self.plan_measure - outcome.measure)  # + underspend, − overspend
        flows = split(result, dict(self.contributions))
        steps = [f"Pool {gbp(self.plan_measure)} − spend {gbp(outcome.measure)} = {gbp(result)}"]
        host_extra = ZERO
        for partner, amount in list(flows.items()):
            limit = self.contributions[partner]
            if amount < -limit:
                host_extra += amount + limit
                flows[partner] = -limit
                steps.append(f"{partner}'s share capped at its contribution {gbp(limit)}")
        if host_extra:
            flows[self.host] = flows.get(self.host, ZERO) + host_extra
            steps.append(
                f"{self.host}, the host, carries what is beyond the caps: {gbp(host_extra)}"
            )
        steps += [f"{p}: {gbp(v)}" for p, v in flows.items()]
        return SettlementResult(flows, tuple(steps), {POOL_RESULT: -result})
