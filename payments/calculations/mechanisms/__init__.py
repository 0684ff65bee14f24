"""Risk-share mechanisms (DESIGN.md, "Payment and risk-share mechanisms"): what each partner
pays (−) or receives (+) for an outcome, relative to the plan, with the workings.

Each mechanism is built from its parameters as typed (`build(kind, params)`), which checks them
all and reports every problem in plain words. Settling takes an `Outcome`: the measure the
mechanism follows (activity in units, or spend in £000: typed in pounds and pence, see
`worked_measure`) and whether the outcome measures were
met. At the planned measure with outcomes met, every mechanism settles at zero: the plan
position. Money is typed and shown in pounds and pence (`pounds_text`) and worked in £000 as
Decimal; shares of a whole are apportioned to the penny by largest
remainder, so they add up to it exactly.
"""

from payments.calculations.mechanisms.base import (
    LIMIT,
    Mechanism,
    Outcome,
    ParameterProblems,
    SettlementResult,
    pounds_text,
    worked_measure,
)
from payments.calculations.mechanisms.catalogue import (
    FIELDS,
    FIGURE_LABELS,
    KINDS,
    as_stored,
    build,
)
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
from payments.calculations.mechanisms.outcomes import (
    PERIOD_FRACTIONS,
    VARIANCES,
    Settled,
    WhatIfRow,
    outcomes_for,
    settle_all,
    what_if,
)

__all__ = [
    "FIELDS",
    "FIGURE_LABELS",
    "KINDS",
    "LIMIT",
    "PERIOD_FRACTIONS",
    "VARIANCES",
    "AllOrNothing",
    "BlendedPayment",
    "CapAndCollar",
    "Capitation",
    "GainShare",
    "MarginalRate",
    "Mechanism",
    "Outcome",
    "ParameterProblems",
    "PooledBudget",
    "RiskPool",
    "SettlementResult",
    "Settled",
    "as_stored",
    "WhatIfRow",
    "build",
    "pounds_text",
    "worked_measure",
    "outcomes_for",
    "settle_all",
    "what_if",
]
