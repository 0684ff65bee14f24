"""An agreement's mechanisms together: the what-if across activity or spend from −20% to
+20% of plan, and a period's settlement."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from payments.calculations.mechanisms.base import ONE, ZERO, Mechanism, Outcome, rate

VARIANCES = tuple(Decimal(v) / 100 for v in range(-20, 21, 5))  # −20% … +20% of plan


@dataclass(frozen=True)
class WhatIfRow:
    variance: Decimal  # fraction of plan
    met: bool
    measure: Decimal
    flows: dict[str, Decimal]
    external: dict[str, Decimal] = field(default_factory=dict)  # partners + these sum to zero
    # Each mechanism's named figures at this row's measure (Mechanism.figures), in order.
    figures: list[dict[str, Decimal | None]] = field(default_factory=list)


def _add(into: dict[str, Decimal], amounts: dict[str, Decimal]) -> None:
    for name, amount in amounts.items():
        into[name] = into.get(name, ZERO) + amount


def what_if(
    mechanisms: Sequence[Mechanism], variances: Sequence[Decimal] = VARIANCES
) -> list[WhatIfRow]:
    """What every partner pays or receives across the agreement's mechanisms, for activity or
    spend from −20% to +20% of plan, with the outcome measures met and not met."""
    rows = []
    for met in (True, False):
        for variance in variances:
            flows: dict[str, Decimal] = {}
            external: dict[str, Decimal] = {}
            figures = []
            measure = ZERO
            for mechanism in mechanisms:
                measure = mechanism.plan_measure * (ONE + variance)
                result = mechanism.settle(Outcome(measure, met))
                _add(flows, result.flows)
                _add(external, result.external)
                figures.append(mechanism.figures(measure))
            rows.append(WhatIfRow(variance, met, measure, flows, external, figures))
    return rows


PERIOD_FRACTIONS = {"Q1": Decimal("0.25"), "Q2": Decimal("0.25"), "Q3": Decimal("0.25"),
                    "Q4": Decimal("0.25"), "year": ONE}  # fmt: skip


class Settled(NamedTuple):
    flows: dict[str, Decimal]  # partner → + receives / − pays, £000
    workings: list[list[str]]  # each mechanism's steps
    external: dict[str, Decimal]  # named parties outside the agreement: with flows, sum zero


def outcomes_for(
    mechanisms: Sequence[Mechanism], met: bool | Sequence[bool | None]
) -> list[bool | None]:
    """Whether each mechanism's outcome measures were met: None for one that does not depend
    on them. `met` is one answer for all, or each mechanism's own (None, for an
    outcome-linked mechanism, is refused: nobody said)."""
    answers = [met] * len(mechanisms) if isinstance(met, bool) else list(met)
    if len(answers) != len(mechanisms):
        raise ValueError(f"Say for each of the {len(mechanisms)} mechanisms, in order.")
    out: list[bool | None] = []
    for n, (mechanism, answer) in enumerate(zip(mechanisms, answers, strict=True), start=1):
        if not mechanism.outcome_linked:
            out.append(None)
        elif answer is None:
            raise ValueError(
                f"Mechanism {n} ({mechanism.label}): say whether its outcome measures were met."
            )
        else:
            out.append(bool(answer))
    return out


def settle_all(
    mechanisms: Sequence[Mechanism],
    measures: Sequence[Decimal | None],
    met: bool | Sequence[bool | None],
    fraction: Decimal = ONE,
) -> Settled:
    """Every mechanism of an agreement settled for a period: the partners' totals, each
    mechanism's workings and what falls to parties outside the agreement. A mechanism that
    follows outcomes only needs no measure; one linked to outcomes settles on its own answer
    (see outcomes_for)."""
    totals: dict[str, Decimal] = {}
    external: dict[str, Decimal] = {}
    workings: list[list[str]] = []
    answers = outcomes_for(mechanisms, met)
    for mechanism, measure, answer in zip(mechanisms, measures, answers, strict=True):
        period = mechanism.for_period(fraction)
        steps = (
            []
            if fraction == ONE
            else [f"For the period: amounts and volumes × {rate(fraction)} of the year"]
        )
        if measure is None and period.follows != "outcomes":
            raise ValueError(f"{period.label} needs the actual {period.follows}.")
        result = period.settle(
            Outcome(measure if measure is not None else ZERO, answer is not False)
        )
        _add(totals, result.flows)
        _add(external, result.external)
        workings.append(steps + list(result.workings))
    return Settled(totals, workings, external)
