"""The grid a section is shown and edited in: rows (lines × counterparties), months, totals."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from accounts.models import Organisation
from plans import calculations, selectors
from plans.models import MONTH_LABELS, Line, Section, Version

ADDITIVE = {"gbp000", "count", "wte"}


@dataclass
class Cell:
    id: str
    month: int
    value: Decimal | None
    problem: str = ""
    conflict_theirs: Decimal | None = None
    typed: str | None = None  # what the person typed, kept when it was refused

    @property
    def month_label(self) -> str:
        return MONTH_LABELS[self.month - 1]

    @property
    def shown(self) -> str:
        if self.typed is not None:
            return self.typed
        return "" if self.value is None else format_value(self.value)


@dataclass
class Row:
    line: Line
    counterparty: Organisation | None
    cells: list[Cell]
    total: Decimal | None
    derived: bool = False

    @property
    def key(self) -> str:
        return f"{self.line.code}-{self.counterparty.ods_code if self.counterparty else 'x'}"

    @property
    def label(self) -> str:
        if self.counterparty:
            return f"{self.line.label}: {self.counterparty.name}"
        return self.line.label


@dataclass
class Grid:
    section: Section
    rows: list[Row]
    months: list[tuple[int, str]]
    column_totals: list[Decimal] | None
    column_total_unit: str = ""
    problems: list[str] = field(default_factory=list)


def format_value(value: Decimal) -> str:
    """Figures as people write them: no trailing zeros, thousands not separated in inputs."""
    normal = value.normalize()
    text = f"{normal:f}"
    return text


def build_grid(section: Section, organisation: Organisation, version: Version | None) -> Grid:
    """The section's rows for this organisation, with the version's figures and totals."""
    all_lines = list(selectors.lines_for(section.template_version_id, organisation.kind))
    lines = [line for line in all_lines if line.section_id == section.pk]
    cells = selectors.version_cells(version) if version else {}
    specs = [selectors.line_spec(line) for line in all_lines]
    derived = calculations.derive(specs, cells)
    partners: dict[str, list[Organisation]] = {}
    rows: list[Row] = []
    for line in lines:
        if line.is_derived:
            by_month = {
                m: derived.get((line.code, m), calculations.ZERO) for m in calculations.MONTHS
            }
            rows.append(
                Row(
                    line=line,
                    counterparty=None,
                    cells=[
                        Cell(f"derived-{line.code}-{m}", m, by_month[m])
                        for m in calculations.MONTHS
                    ],
                    total=calculations.row_total(line.unit, by_month, line.section.code),
                    derived=True,
                )
            )
            continue
        if line.counterparty:
            if line.counterparty not in partners:
                partners[line.counterparty] = selectors.counterparties_for(
                    organisation, line.counterparty
                )
            targets: list[Organisation | None] = list(partners[line.counterparty])
        else:
            targets = [None]
        for partner in targets:
            cp_id = partner.pk if partner else None
            by_month = {
                m: cells[(line.code, cp_id, m)]
                for m in calculations.MONTHS
                if (line.code, cp_id, m) in cells
            }
            key = f"{line.code}-{partner.ods_code if partner else 'x'}"
            rows.append(
                Row(
                    line=line,
                    counterparty=partner,
                    cells=[
                        Cell(f"cell-{key}-{m}", m, by_month.get(m)) for m in calculations.MONTHS
                    ],
                    total=calculations.row_total(line.unit, by_month, line.section.code)
                    if by_month
                    else None,
                )
            )
    inputs = [line for line in lines if not line.is_derived]
    units = {line.unit for line in inputs}
    column_totals = None
    unit = ""
    if inputs and len(units) == 1 and not any(line.is_derived for line in lines):
        unit = units.pop()
        if unit in ADDITIVE:
            totals = calculations.column_totals(cells, [line.code for line in inputs])
            column_totals = [totals[m] for m in calculations.MONTHS]
    return Grid(
        section=section,
        rows=rows,
        months=list(zip(calculations.MONTHS, MONTH_LABELS, strict=True)),
        column_totals=column_totals,
        column_total_unit=unit,
    )
