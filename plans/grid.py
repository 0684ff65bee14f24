"""The grid a section is shown and edited in: rows (lines × counterparties), months, totals, and
beside them the last submitted version's year and the change against it."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from accounts.models import Organisation
from openbook import numbers
from plans import calculations, frozen, selectors
from plans.models import MONTH_LABELS, Line, Section, Value, Version

ADDITIVE = {"gbp000", "count", "wte"}


@dataclass
class Cell:
    id: str
    month: int
    value: Decimal | None
    problem: str = ""
    typed: str | None = None  # what the person typed, kept when it was refused
    changed: bool = False  # differs from the version compared with

    @property
    def css(self) -> str:
        """The cell's classes: refused, typed but not saved, or changed since the version
        compared with."""
        classes = [
            name
            for name, on in (
                ("ob-cell--error", bool(self.problem)),
                ("ob-unsaved", self.typed is not None and not self.problem),
                ("ob-changed", self.changed),
            )
            if on
        ]
        return " ".join(classes)

    @property
    def month_label(self) -> str:
        return MONTH_LABELS[self.month - 1]

    @property
    def shown(self) -> str:
        """What the input shows: what was typed if it was refused, else exactly what is
        stored."""
        if self.typed is not None:
            return self.typed
        return numbers.exact(self.value)

    @property
    def stored(self) -> str | None:
        """What is stored, as the input would show it, when the input shows something else (a
        refused or unsaved figure): the grid script compares with it. None otherwise."""
        if self.typed is None:
            return None
        return numbers.exact(self.value)

    @property
    def started(self) -> str:
        """The value the editor starts from, sent back so a save never overwrites someone
        else's change (after a conflict: theirs, now stored, so saving again keeps yours)."""
        return "" if self.value is None else f"{self.value.normalize():f}"


@dataclass
class Row:
    line: Line
    counterparty: Organisation | None
    cells: list[Cell]
    total: Decimal | None
    derived: bool = False
    previous_total: Decimal | None = None  # the same row's year in the version compared with

    @property
    def key(self) -> str:
        return f"{self.line.code}-{self.counterparty.ods_code if self.counterparty else 'x'}"

    @property
    def label(self) -> str:
        if self.counterparty:
            return f"{self.line.label}: {self.counterparty.name}"
        return self.line.label

    @property
    def change(self) -> Decimal | None:
        if self.total is None and self.previous_total is None:
            return None
        if self.line.unit == "percent":
            return None
        return (self.total or calculations.ZERO) - (self.previous_total or calculations.ZERO)


@dataclass
class Grid:
    section: Section
    rows: list[Row]
    months: list[tuple[int, str]]
    column_totals: list[Decimal] | None
    column_total_unit: str = ""
    unit: str = ""  # the unit every line shares, if they do
    compared_with: Version | None = None
    problems: list[str] = field(default_factory=list)

    def row(self, key: str) -> Row | None:
        return next((row for row in self.rows if row.key == key), None)


def _line_rows(
    line: Line,
    cells: dict,
    derived: dict,
    partners: list[Organisation | None],
) -> list[tuple[Organisation | None, dict[int, Decimal]]]:
    """Each row of a line (one per counterparty, or one) with its figures by month."""
    if line.is_derived:
        return [
            (None, {m: derived.get((line.code, m), calculations.ZERO) for m in calculations.MONTHS})
        ]
    rows = []
    for partner in partners:
        cp_id = partner.pk if partner else None
        rows.append(
            (
                partner,
                {
                    m: cells[(line.code, cp_id, m)]
                    for m in calculations.MONTHS
                    if (line.code, cp_id, m) in cells
                },
            )
        )
    return rows


def _figures(version: Version, codes: set[str]) -> dict:
    """A version's figures on these lines, keyed as selectors.version_cells keys them (by
    line code: a version made before a revision has its own lines)."""
    rows = Value.objects.filter(version=version, line__code__in=codes).values_list(
        "line__code", "counterparty_id", "month", "value"
    )
    return {(code, cp, month): value for code, cp, month, value in rows}


def build_grid(
    section: Section,
    organisation: Organisation,
    version: Version | None,
    compare: Version | None = None,
) -> Grid:
    """The section's rows for this organisation, with the version's figures and totals, and
    (given `compare`) that version's year for each row and which cells differ from it."""
    all_lines, flat = frozen.kind_lines(section.template_version_id, organisation.kind)
    lines = [line for line in all_lines if line.section_id == section.pk]
    # Only the figures this section shows or works out from, not the whole plan's.
    worked_out = {line.code: flat[line.code] for line in lines if line.code in flat}
    codes = {line.code for line in lines} | {code for t in worked_out.values() for code in t}
    cells = _figures(version, codes) if version else {}
    derived = calculations.derive_from_totals(worked_out, calculations.month_totals(cells))
    before: dict = {}
    before_derived: dict = {}
    if compare is not None:
        before = _figures(compare, codes)
        before_derived = calculations.derive_from_totals(
            worked_out, calculations.month_totals(before)
        )
    partners: dict[tuple, list[Organisation]] = {}
    rows: list[Row] = []
    for line in lines:
        if line.counterparty and not line.is_derived:
            targets = selectors.partners_of(organisation, line, partners)
        else:
            targets = [None]
        previous = dict(_line_rows(line, before, before_derived, targets)) if compare else {}
        for partner, by_month in _line_rows(line, cells, derived, targets):
            key = f"{line.code}-{partner.ods_code if partner else 'x'}"
            # A line fed by a table is shown as worked out: its figures change with the table.
            shown_only = line.is_derived or bool(line.fed_by) or line.provided
            prefix = f"derived-{line.code}-" if shown_only else f"cell-{key}-"
            was = previous.get(partner, {})
            rows.append(
                Row(
                    line=line,
                    counterparty=partner,
                    cells=[
                        Cell(
                            f"{prefix}{m}",
                            m,
                            by_month.get(m),
                            changed=compare is not None and by_month.get(m) != was.get(m),
                        )
                        for m in calculations.MONTHS
                    ],
                    total=calculations.row_total(line.unit, by_month, line.role)
                    if by_month
                    else None,
                    derived=shown_only,
                    previous_total=calculations.row_total(line.unit, was, line.role)
                    if was
                    else None,
                )
            )
    inputs = [line for line in lines if not line.is_derived]
    units = {line.unit for line in lines}
    column_totals = None
    total_unit = ""
    if inputs and len(units) == 1 and not any(line.is_derived for line in lines):
        total_unit = next(iter(units))
        if total_unit in ADDITIVE and not any(
            line.role == calculations.MONTH_END for line in lines
        ):
            totals = calculations.column_totals(cells, [line.code for line in inputs])
            column_totals = [totals[m] for m in calculations.MONTHS]
    return Grid(
        section=section,
        rows=rows,
        months=list(zip(calculations.MONTHS, MONTH_LABELS, strict=True)),
        column_totals=column_totals,
        column_total_unit=total_unit,
        unit=next(iter(units)) if len(units) == 1 else "",
        compared_with=compare,
    )
