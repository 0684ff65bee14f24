"""A plan's bridge from last year's outturn to this year's plan, as its template's bridge
section lays it out (plans/template_definition.py, _bridge): a starting line, steps (each
added or taken away), subtotals, and the plan's surplus at the end. Pure: the layout and each
line's year in, the steps out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from plans.calculations import ZERO


@dataclass(frozen=True)
class Step:
    label: str
    value: Decimal  # the step's amount (£000), or the running total for the start, a subtotal
    kind: str  # "start", "step", "subtotal" or "end"


def bridge_steps(
    layout: Mapping[str, Any], years: Mapping[str, Decimal], labels: Mapping[str, str],
    surplus: str,
) -> list[Step]:  # fmt: skip
    """The steps, each a line's year (a step written −LINE is taken away), ending at this
    year's surplus (`surplus`: the line with the surplus role)."""
    start = layout["start"]
    steps = [Step(labels.get(start, start), years.get(start, ZERO), "start")]
    running = steps[0].value
    for term in layout["steps"]:
        sign, code = term[0], term[1:]
        label = labels.get(code, code)
        if sign == "=":
            steps.append(Step(label, running, "subtotal"))
            continue
        value = years.get(code, ZERO) * (-1 if sign == "-" else 1)
        running += value
        steps.append(Step(label if sign == "+" else f"{label} (taken out)", value, "step"))
    steps.append(Step("This year's plan", years.get(surplus, ZERO), "end"))
    return steps


def chart_items(steps: list[Step]) -> list[dict[str, str]]:
    """The steps a waterfall draws (the start and each step; the end is their total)."""
    return [{"label": s.label, "value": str(s.value)} for s in steps if s.kind in ("start", "step")]
