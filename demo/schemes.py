"""Made-up efficiency and capital schemes: the figures made up for the lines a table feeds
(demo/realistic.py's efficiency and capital by month), listed as a few named schemes each,
which add up to exactly those figures; and the figures the round's owner provides, taken
out of what the organisation types."""

from __future__ import annotations

import random
from decimal import Decimal

from accounts.models import Organisation
from payments.calculations.apportion import apportion
from plans.cells import CellInput
from plans.models import Line, PlanningRound
from plans.services.provided import ProvidedInput
from plans.table_selectors import spec_of, table_sections
from plans.tables import RowInput

# Names a finance team would give its schemes, by what the row's choices say.
NAMES = {
    "Workforce – agency and bank": ["Agency cap and rate card", "Bank rostering e-platform",
                                    "Medical locum reduction"],
    "Workforce – skill mix and productivity": ["Nursing skill mix review",
                                               "Job planning – consultants",
                                               "Admin and clerical vacancy control"],
    "Clinical productivity": ["Theatre utilisation", "Outpatient follow-up reduction",
                              "Length of stay – frailty", "Day case conversion"],
    "Medicines": ["Biosimilar switching", "Homecare medicines review"],
    "Procurement": ["Regional procurement hub savings", "Clinical consumables standardisation"],
    "Estates and facilities": ["Energy efficiency programme", "Estate rationalisation"],
    "Corporate services": ["Shared back office", "Digital mail and printing"],
    "Income generation": ["Private patient income", "Car parking review"],
    "Other": ["Contract review", "Service level agreement review"],
    "Buildings and estate": ["Backlog maintenance", "Ward refurbishment", "Fire safety works",
                             "Theatre ventilation upgrade"],
    "Medical equipment": ["CT scanner replacement", "Endoscopy equipment",
                          "Patient monitoring refresh"],
    "Digital and IT": ["Electronic patient record", "Network and cyber security",
                       "Device refresh"],
    "New leases": ["Community hub lease", "Vehicle fleet leases"],
}  # fmt: skip
# Which categories an efficiency total's schemes are drawn from: pay savings from workforce
# and productivity, non-pay from everything else.
PAY_CATEGORIES = ["Workforce – agency and bank", "Workforce – skill mix and productivity",
                  "Clinical productivity"]  # fmt: skip
NON_PAY_CATEGORIES = ["Medicines", "Procurement", "Estates and facilities", "Corporate services",
                      "Clinical productivity", "Other"]  # fmt: skip


def _choose(rng: random.Random, column, where: dict[str, str]) -> str:
    if column.code in where:
        return where[column.code]
    if column.code == "category":
        pay = where.get("cost_type") == "Pay"
        return rng.choice(PAY_CATEGORIES if pay else NON_PAY_CATEGORIES)
    if column.code == "risk":
        return rng.choices(["Low", "Medium", "High"], weights=[5, 3, 2])[0]
    if column.code == "funding":
        return rng.choices(column.choices, weights=[12, 3, 1, 1, 2][: len(column.choices)])[0]
    return rng.choice(column.choices)


def as_schemes(
    plan_round: PlanningRound, organisation: Organisation, cells: list[CellInput]
) -> tuple[list[CellInput], dict[str, list[RowInput]]]:
    """The cells a person types (every line a table feeds taken out) and each table's rows,
    two to four schemes for each line it feeds, whose months add up to the line's exactly."""
    tables: dict[str, list[RowInput]] = {}
    fed: set[str] = set()
    by_line: dict[str, dict[int, Decimal]] = {}
    for cell in cells:
        by_line.setdefault(cell.line, {})[cell.month] = Decimal(cell.value)
    for section in table_sections(plan_round.template_version_id, organisation.kind):
        spec = spec_of(section)
        rng = random.Random(f"{organisation.ods_code}:{section.code}")  # noqa: S311  (made up)
        rows = tables.setdefault(section.code, [])
        used: set[str] = set()
        for line, match in spec.totals:
            fed.add(line)
            months = by_line.get(line)
            if not months or not any(months.values()):
                continue
            where = dict(match)
            count = rng.randint(2, 4)
            weights = [Decimal(rng.randint(2, 10)) for _ in range(count)]
            parts = [apportion(months.get(m, Decimal(0)), weights) for m in range(1, 13)]
            for i in range(count):
                fields = {c.code: _choose(rng, c, where) for c in spec.columns[1:]}
                kind = fields.get("category") or fields.get("asset_type") or ""
                names = [n for n in NAMES.get(kind, ["Scheme"]) if n not in used] or ["Scheme"]
                name = rng.choice(names)
                used.add(name)
                fields["name"] = name if name != "Scheme" else f"Scheme {len(rows) + 1}"
                rows.append(
                    RowInput(fields, {m: parts[m - 1][i] for m in range(1, 13)},
                             name=f"Row {len(rows) + 1}")
                )  # fmt: skip
    return [c for c in cells if c.line not in fed], tables


def as_provided(
    plan_round: PlanningRound, organisation: Organisation, cells: list[CellInput]
) -> tuple[list[CellInput], list[ProvidedInput]]:
    """The cells a person types, and the round owner's figures (last year's outturn, the
    allocations) taken out of them, to be provided instead."""
    provided = set(
        Line.objects.filter(
            section__template_version_id=plan_round.template_version_id, provided=True
        ).values_list("code", flat=True)
    )
    given = [
        ProvidedInput(organisation.ods_code, c.line, c.month, c.value)
        for c in cells
        if c.line in provided
    ]
    return [c for c in cells if c.line not in provided], given
