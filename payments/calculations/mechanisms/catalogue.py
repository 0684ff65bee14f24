"""The catalogue: each mechanism built from its parameters as typed, and what each asks for
(for forms and the API's documentation)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from openbook import numbers
from payments.calculations.mechanisms.base import ZERO, Mechanism, ParameterProblems, Reader
from payments.calculations.mechanisms.kinds import (
    AllOrNothing,
    BlendedPayment,
    CapAndCollar,
    Capitation,
    GainShare,
    MarginalRate,
    PooledBudget,
    RiskPool,
)


def _marginal(r: Reader, partners: set[str]) -> MarginalRate:
    provider, commissioner = r.two_parties(partners)
    return MarginalRate(
        provider=provider,
        commissioner=commissioner,
        baseline=r.number("baseline", "The baseline activity", minimum=ZERO),
        price=r.number("price", "The price a unit", positive=True, money=True),
        rate=r.percent("rate", "The marginal rate"),
    )


def _blended(r: Reader, partners: set[str]) -> BlendedPayment:
    provider, commissioner = r.two_parties(partners)
    return BlendedPayment(
        provider=provider,
        commissioner=commissioner,
        fixed=r.number("fixed", "The fixed payment", minimum=ZERO, money=True),
        plan=r.number("plan", "The planned activity", minimum=ZERO),
        price=r.number("price", "The price a unit", positive=True, money=True),
        variable_rate=r.percent("variable_rate", "The variable rate"),
        outcome_amount=r.number("outcome_amount", "The outcome element", minimum=ZERO, money=True)
        if r.params.get("outcome_amount") not in (None, "")
        else ZERO,
    )


def _cap_and_collar(r: Reader, partners: set[str]) -> CapAndCollar:
    provider, commissioner = r.two_parties(partners)
    mechanism = CapAndCollar(
        provider=provider,
        commissioner=commissioner,
        core=r.number("core", "The core payment", minimum=ZERO, money=True),
        plan=r.number("plan", "The planned activity", minimum=ZERO),
        collar=r.number("collar", "The collar", minimum=ZERO),
        cap=r.number("cap", "The cap", minimum=ZERO),
        price=r.number("price", "The price a unit", positive=True, money=True),
        rate=r.percent("rate", "The marginal rate"),
    )
    if mechanism.collar >= mechanism.cap:
        r.problems.append("The collar must be below the cap.")
    elif not mechanism.collar <= mechanism.plan <= mechanism.cap:
        r.problems.append("The planned activity must lie between the collar and the cap.")
    return mechanism


def _pool(r: Reader, partners: set[str]) -> RiskPool:
    shares = r.shares("shares", "The partners' shares", partners)
    caps = r.amounts("caps", "Caps", partners, required=False)
    for ods in caps:
        if ods not in shares:
            r.problems.append(f"{ods} has a cap but no share.")
    budget = r.number("budget", "The pool budget", positive=True, money=True)
    return RiskPool(budget=budget, shares=shares, caps=caps)


def _all_or_nothing(r: Reader, partners: set[str]) -> AllOrNothing:
    values = r.amounts("contract_values", "Contract values", partners)
    payer = r.partner("payer", "Payer", partners)
    if payer and payer in values:
        r.problems.append(f"The payer {payer} cannot also be paid: leave out its contract value.")
    return AllOrNothing(
        percent=r.percent("percent", "The percentage of contract value"),
        contract_values=values,
        payer=payer,
    )


def _gain_share(r: Reader, partners: set[str]) -> GainShare:
    provider, commissioner = r.two_parties(partners)
    return GainShare(
        provider=provider,
        commissioner=commissioner,
        baseline=r.number("baseline", "The baseline spend", positive=True, money=True),
        planned_spend=r.number("planned_spend", "The planned spend", minimum=ZERO, money=True),
        provider_share=r.percent("provider_share", "The provider's share of savings"),
    )


def _capitation(r: Reader, partners: set[str]) -> Capitation:
    optional = {
        key: r.number(key, label, positive=True, money=money)
        for key, label, money in (
            ("planned_spend", "The planned spend", True),
            ("target", "The target", True),
            ("population", "The registered population", False),
            ("weighted_population", "The weighted population", False),
        )
        if r.params.get(key) not in (None, "")
    }
    provider, commissioner = r.two_parties(partners)
    return Capitation(
        provider=provider,
        commissioner=commissioner,
        baseline=r.number("baseline", "The baseline in-scope spend", positive=True, money=True),
        inflation=r.percent("inflation", "Inflation"),
        growth=r.percent("growth", "Growth"),
        efficiency=r.percent("efficiency", "The efficiency requirement"),
        shifts=r.number("shifts", "Shifts in or out of scope", money=True)
        if r.params.get("shifts") not in (None, "")
        else ZERO,
        **optional,
    )


def _pooled_budget(r: Reader, partners: set[str]) -> PooledBudget:
    contributions = r.amounts("contributions", "Contributions", partners)
    host = r.partner("host", "Host", partners)
    if host and host not in contributions:
        r.problems.append("The host must be one of the contributing partners.")
    return PooledBudget(host=host, contributions=contributions)


BUILDERS: dict[str, tuple[type[Mechanism], Callable[[Reader, set[str]], Mechanism]]] = {
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


def money_keys(kind: str) -> set[str]:
    """The parameters of a kind that are money (typed in pounds and pence)."""
    return {key for key, _label, _type, hint in FIELDS.get(kind, []) if hint.startswith("£")}


def as_stored(kind: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """Checked parameters as stored and sent: money at one scale, pounds and pence to two
    places ("48000000.00", whatever was typed: "48,000,000"); the rest as typed."""

    def fixed(value: Any) -> Any:
        if value in (None, ""):
            return value
        parsed = numbers.parse(str(value))
        return value if parsed is None else f"{parsed:.2f}"

    money = money_keys(kind)
    return {
        key: ({o: fixed(v) for o, v in value.items()} if isinstance(value, Mapping)
              else fixed(value)) if key in money else value
        for key, value in params.items()
    }  # fmt: skip


def build(kind: str, params: Mapping[str, Any], partners: Sequence[str]) -> Mechanism:
    """A mechanism from its typed parameters, or ParameterProblems listing everything wrong."""
    if kind not in BUILDERS:
        raise ParameterProblems([f"“{kind}” is not a mechanism Openbook knows."])
    reader = Reader(params)
    mechanism = BUILDERS[kind][1](reader, set(partners))
    reader.done()
    return mechanism


# What each mechanism asks for, for forms and the API's documentation: (key, label, type,
# hint). Types: number (money in pounds and pence, hint "£…", or units), percent, partner (one
# of the agreement's partners), shares (a percentage per partner), amounts (pounds and pence
# per partner). Money is typed in pounds and pence, to the penny; the mechanisms work in £000.
# fmt: off
FIELDS: dict[str, list[tuple[str, str, str, str]]] = {
    MarginalRate.kind: [
        ("provider", "Provider", "partner", ""),
        ("commissioner", "Commissioner", "partner", ""),
        ("baseline", "Baseline activity", "number", "Units, e.g. emergency admissions"),
        ("price", "Price a unit", "number", "£ per unit"),
        ("rate", "Marginal rate", "percent", "Paid above the baseline, e.g. 30"),
    ],
    BlendedPayment.kind: [
        ("provider", "Provider", "partner", ""),
        ("commissioner", "Commissioner", "partner", ""),
        ("fixed", "Fixed payment", "number", "£"),
        ("plan", "Planned activity", "number", "Units"),
        ("price", "Price a unit", "number", "£ per unit"),
        ("variable_rate", "Variable rate", "percent",
         "Of price, for each unit away from plan, e.g. 20"),
        ("outcome_amount", "Outcome element", "number",
         "£, paid when the outcome measures are met (optional)"),
    ],
    CapAndCollar.kind: [
        ("provider", "Provider", "partner", ""),
        ("commissioner", "Commissioner", "partner", ""),
        ("core", "Core payment", "number", "£"),
        ("plan", "Planned activity", "number", "Units"),
        ("collar", "Collar", "number", "Units: below this the payment does not flex"),
        ("cap", "Cap", "number", "Units: above this the payment does not flex"),
        ("price", "Price a unit", "number", "£ per unit"),
        ("rate", "Marginal rate", "percent", "Of price, between collar and cap"),
    ],
    RiskPool.kind: [
        ("budget", "Pool budget", "number", "£"),
        ("shares", "Shares", "shares", "% of the pool's gain or loss, adding up to 100"),
        ("caps", "Caps", "amounts_optional", "£ at most per partner (optional)"),
    ],
    AllOrNothing.kind: [
        ("payer", "Payer", "partner", "Pays the providers; keeps it if the measures are missed"),
        ("percent", "Percentage of contract value", "percent", "e.g. 1.8"),
        ("contract_values", "Contract values", "amounts", "£ per provider paid"),
    ],
    GainShare.kind: [
        ("provider", "Provider", "partner", ""),
        ("commissioner", "Commissioner", "partner", ""),
        ("baseline", "Baseline spend", "number", "£"),
        ("planned_spend", "Planned spend", "number", "£"),
        ("provider_share", "Provider's share of savings", "percent", ""),
    ],
    Capitation.kind: [
        ("provider", "Provider", "partner", "Holds the budget and its risk"),
        ("commissioner", "Commissioner", "partner", ""),
        ("baseline", "Baseline in-scope spend", "number", "£"),
        ("inflation", "Inflation", "percent", ""),
        ("growth", "Growth", "percent", ""),
        ("efficiency", "Efficiency", "percent", ""),
        ("shifts", "Shifts in (+) or out (−) of scope", "number", "£ (optional)"),
        ("planned_spend", "Planned spend", "number", "£ (optional: the budget if blank)"),
        ("target", "Weighted capitation target", "number", "£ (optional)"),
        ("population", "Registered population", "number",
         "people (optional: for figures per head)"),
        ("weighted_population", "Weighted population", "number",
         "people, weighted for need (optional: for figures per weighted head)"),
    ],
    PooledBudget.kind: [
        ("host", "Host", "partner", ""),
        ("contributions", "Contributions", "amounts", "£ per contributing partner"),
    ],
}
# fmt: on


# The named figures a mechanism gives (Mechanism.figures), for pages and the API's
# documentation: name → label. The name ends in the unit: _gbp pounds and pence, _percent a
# percentage to two places, _people a count of people.
FIGURE_LABELS: dict[str, str] = {
    "budget_gbp": "Budget",
    "target_gbp": "Weighted capitation target",
    "distance_from_target_percent": "Distance from target",
    "population_people": "Registered population",
    "weighted_population_people": "Weighted population",
    "budget_per_head_gbp": "Budget per head",
    "budget_per_weighted_head_gbp": "Budget per weighted head",
    "target_per_weighted_head_gbp": "Target per weighted head",
    "spend_gbp": "Spend",
    "spend_per_head_gbp": "Spend per head",
    "spend_per_weighted_head_gbp": "Spend per weighted head",
}
