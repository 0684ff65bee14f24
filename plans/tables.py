"""Table sections (lists whose rows the organisation adds: efficiency schemes, capital
schemes): reading rows however they arrive, checking them, and adding them up into the lines
they feed. Pure: a table's definition and rows in, rows, problems and totals out."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from openbook import numbers
from openbook.months import MONTH_LABELS
from plans.calculations import MONTHS, ZERO, ValueProblem, parse_value


@dataclass(frozen=True)
class Column:
    code: str
    label: str
    choices: tuple[str, ...] = ()
    required: bool = True
    help: str = ""


@dataclass(frozen=True)
class TableSpec:
    """A table section as its definition gives it (Section.table)."""

    code: str
    name: str
    columns: tuple[Column, ...]
    amount_label: str
    maximum: Decimal
    rows_max: int
    totals: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]  # (line, ((column, choice), …))

    @classmethod
    def of(cls, code: str, name: str, table: Mapping[str, Any]) -> TableSpec:
        return cls(
            code=code,
            name=name,
            columns=tuple(
                Column(c["code"], c["label"], tuple(c["choices"]), c["required"], c["help"])
                for c in table["columns"]
            ),
            amount_label=table["amount"]["label"],
            maximum=Decimal(table["amount"]["max"]),
            rows_max=int(table["rows_max"]),
            totals=tuple((t["line"], tuple(sorted(t["where"].items()))) for t in table["totals"]),
        )

    @property
    def name_column(self) -> Column:
        return self.columns[0]


@dataclass(frozen=True)
class Row:
    """One row as stored: what its columns say, and its amount in each month (£000)."""

    fields: dict[str, str]
    amounts: tuple[Decimal, ...]

    @property
    def year(self) -> Decimal:
        return sum(self.amounts, ZERO)


@dataclass
class RowInput:
    """A row as it arrived: text for each column, each month's amount as typed, and how to
    name its cells in a message (`where(column_label)` → "Efficiency schemes!C7")."""

    fields: dict[str, object]
    amounts: dict[int, object]
    name: str = ""  # "row 3", "Efficiency schemes row 9"
    cells: dict[str, str] = field(default_factory=dict)  # column code or "m<month>" → "C7"

    def blank(self) -> bool:
        texts = [str(v).strip() for v in self.fields.values() if v is not None]
        amounts = [str(v).strip() for v in self.amounts.values() if v is not None]
        return not any(texts) and not any(amounts)

    def where(self, key: str, label: str) -> str:
        return self.cells.get(key) or f"{self.name}, {label}"


def _missing(column: Column) -> str:
    if not column.choices:
        return "give it a name" if column.code == "name" else f"fill in the {column.label.lower()}"
    if len(column.choices) <= 3:
        return f"choose {', '.join(column.choices[:-1])} or {column.choices[-1]}"
    return f"choose a {column.label.lower()}"


def check_rows(spec: TableSpec, incoming: Sequence[RowInput]) -> tuple[list[Row], list[dict]]:
    """The rows to keep (blank ones left out), and every problem with the others, each naming
    its cell: nothing is kept unless there are no problems."""
    rows: list[Row] = []
    problems: list[dict] = []

    def problem(where: str, value: object, message: str) -> None:
        problems.append(
            {"cell": where, "value": "" if value is None else str(value), "problem": message}
        )

    filled = [row for row in incoming if not row.blank()]
    if len(filled) > spec.rows_max:
        problem(spec.name, len(filled), f"has room for {spec.rows_max} rows at most")
        return [], problems
    for row in filled:
        fields: dict[str, str] = {}
        for column in spec.columns:
            raw = row.fields.get(column.code)
            text = " ".join(str(raw).split()) if raw is not None else ""
            where = row.where(column.code, column.label)
            if not text:
                if column.required:
                    problem(where, raw, _missing(column))
                continue
            if column.choices:
                match = next((c for c in column.choices if c.casefold() == text.casefold()), None)
                if match is None:
                    problem(where, raw, f"choose one of: {', '.join(column.choices)}")
                    continue
                text = match
            elif len(text) > 200:
                problem(where, raw, "is longer than 200 characters")
                continue
            fields[column.code] = text
        amounts = []
        for month in MONTHS:
            raw = row.amounts.get(month)
            where = row.where(f"m{month}", MONTH_LABELS[month - 1])
            try:
                value = parse_value(raw)
            except ValueProblem as exc:
                problem(where, raw, str(exc))
                continue
            value = ZERO if value is None else value
            if value < 0:
                problem(where, raw, "must be zero or more")
            elif value > spec.maximum:
                problem(where, raw, f"must be at most {numbers.exact(spec.maximum)}")
            amounts.append(value)
        if len(amounts) == 12:
            rows.append(Row(fields, tuple(amounts)))
    if problems:
        return [], problems
    return rows, []


def totals(spec: TableSpec, rows: Iterable[Row]) -> dict[str, tuple[Decimal, ...]]:
    """Each fed line's twelve months: the rows whose columns match its choices, added up.
    A line no row matches is all zeros (the schemes say there is nothing there)."""
    sums = {line: [ZERO] * 12 for line, _ in spec.totals}
    for row in rows:
        for line, match in spec.totals:
            if all(row.fields.get(column) == choice for column, choice in match):
                for i, amount in enumerate(row.amounts):
                    sums[line][i] += amount
    return {line: tuple(months) for line, months in sums.items()}


def by_column(spec: TableSpec, rows: Iterable[Row], column: str) -> list[tuple[str, int, Decimal]]:
    """Rows grouped by one column's choice, in the column's order: (choice, rows, year £000)."""
    found = next(c for c in spec.columns if c.code == column)
    groups = {choice: [0, ZERO] for choice in found.choices}
    for row in rows:
        group = groups.get(row.fields.get(column, ""))
        if group is not None:
            group[0] += 1
            group[1] += row.year
    return [(choice, int(n), total) for choice, (n, total) in groups.items() if n]


def fingerprint(rows: Iterable[Row]) -> str:
    """What a table held when someone started editing it: sent back with their change, so a
    change made by someone else in between is found rather than overwritten."""
    data = [[sorted(r.fields.items()), [str(a) for a in r.amounts]] for r in rows]
    return hashlib.sha256(json.dumps(data).encode()).hexdigest()[:32]
