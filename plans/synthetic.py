"""Plausible made-up plan figures, for the demo, the benchmarks and national-scale tests.

Deterministic: the same organisation always gets the same figures.
"""

from __future__ import annotations

import random
from decimal import Decimal

from accounts.models import Organisation
from plans import selectors
from plans.models import PlanningRound, Section
from plans.services import CellInput

# Rough annual scale (£000 of income) by kind, so a mental health trust is not an acute.
SCALE = {
    "acute": 450_000,
    "community": 150_000,
    "mental_health": 200_000,
    "ambulance": 250_000,
    "commissioner": 1_800_000,
    "local_authority": 300_000,
    "pcn": 8_000,
    "voluntary": 5_000,
}
SHARE = {  # of income, by line prefix
    "F2": Decimal("0.62") / 18,
    "F3": Decimal("0.30") / 5,
    "F400": Decimal("0.03"),
    "F410": Decimal("0.015"),
    "F110": Decimal("0.04"),
    "F120": Decimal("0.06"),
    "E1": Decimal("0.006"),
    "C1": Decimal("0.01"),
    "F520": Decimal("0.25"),
    "F530": Decimal("0.01"),
    "F610": Decimal("0.97"),
}


def _money(rng: random.Random, annual: Decimal) -> Decimal:
    monthly = annual / 12 * Decimal(str(rng.uniform(0.96, 1.04)))
    return monthly.quantize(Decimal("0.001"))


def plan_cells(
    plan_round: PlanningRound, organisation: Organisation, *, complete: bool = True
) -> list[CellInput]:
    """Every input cell of the organisation's template, filled with plausible figures."""
    rng = random.Random(f"{organisation.ods_code}:{plan_round.slug}")  # noqa: S311  (not security)
    income = Decimal(SCALE.get(organisation.kind, 10_000)) * Decimal(str(rng.uniform(0.7, 1.3)))
    cells: list[CellInput] = []
    lines = [
        line
        for line in selectors.lines_for(plan_round.template_version_id, organisation.kind)
        if line.section.kind == Section.Kind.GRID and not line.is_derived
    ]
    counterparties = {
        kind: selectors.counterparties_for(organisation, kind)
        for kind in ("commissioner", "provider")
    }
    for line in lines:
        partners = counterparties.get(line.counterparty) if line.counterparty else [None]
        if not partners:
            continue
        for partner in partners:
            for month in range(1, 13):
                value = _value(rng, line.code, line.unit, income, len(partners))
                if line.maximum is not None:
                    value = min(value, line.maximum)
                cells.append(
                    CellInput(
                        line=line.code,
                        month=month,
                        value=value,
                        counterparty=partner.ods_code if partner else None,
                    )
                )
    if not complete:
        cells = cells[: len(cells) // 3]
    return cells


def _value(rng: random.Random, code: str, unit: str, income: Decimal, partners: int) -> Decimal:
    if unit == "percent":
        return Decimal(str(round(rng.uniform(70, 95), 1)))
    if unit == "wte":
        return Decimal(str(round(float(income) / 55 / 18 * rng.uniform(0.5, 1.5), 1)))
    if unit == "count":
        return Decimal(int(float(income) / 40 / max(partners, 1) * rng.uniform(0.2, 1.0)))
    if code in ("F100", "F510"):
        return _money(rng, income * Decimal("0.88") / max(partners, 1))
    if code == "F500":
        return _money(rng, income)
    if code == "F600":
        return _money(rng, income)
    if code == "K100":
        return _money(rng, income * Decimal("0.6"))
    for prefix, share in SHARE.items():
        if code.startswith(prefix):
            return _money(rng, income * share)
    return _money(rng, income * Decimal("0.01"))
