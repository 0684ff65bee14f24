"""Monthly finance returns, the pure part: reading a return's table (typed, CSV or Excel) into
figures with every problem named by its cell, and the positions a return gives.

A return is one table: a row per finance line, a column per month. Months up to the return's
month hold actuals, the rest the forecast; the row's year total is the forecast outturn.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from openbook import numbers
from plans.calculations import (
    MONTHS,
    ZERO,
    LineSpec,
    ValueProblem,
    check_value,
    derive_from_totals,
    parse_value,
)
from plans.models import MONTH_LABELS

Cells = dict[tuple[str, int], Decimal]  # (line code, month) → value

TITLE = "Openbook monthly return"


@dataclass
class Parsed:
    cells: Cells = field(default_factory=dict)
    problems: list[dict[str, str]] = field(default_factory=list)
    revision: int | None = None  # the draft's revision when the file was downloaded

    def problem(self, cell: str, value: object, why: str) -> None:
        self.problems.append({"cell": cell, "value": "" if value is None else str(value)[:60],
                              "problem": why})  # fmt: skip


def header(round_slug: str, ods_code: str, month: int, revision: int = 0) -> list[list[str]]:
    """The first two rows of a return's file: what it is for (and the draft's revision when
    downloaded, so an upload can tell if someone saved since), then the column headings."""
    return [
        [TITLE, round_slug, ods_code, MONTH_LABELS[month - 1], f"revision {revision}"],
        ["Line", "Description", *MONTH_LABELS],
    ]


# The CSV download: one table, a row per figure (blank where none is entered yet), so it can
# be filtered and pivoted, and filled in and uploaded back. `month` counts from April (1).
LONG_HEADER = ["round", "organisation", "return_month", "revision", "line", "description",
               "unit", "month", "month_name", "value"]  # fmt: skip
# What an upload must have; the rest describe each figure and are read past.
LONG_REQUIRED = ("round", "organisation", "return_month", "revision", "line", "month", "value")


def check_cells(
    raw: Mapping[tuple[str, int], object],
    specs: Mapping[str, LineSpec],
    cell_name: Callable[[str, int], str],
) -> Parsed:
    """Typed or uploaded figures checked against their lines: blank means no figure."""
    parsed = Parsed()
    for (code, month), value in raw.items():
        spec = specs.get(code)
        where = cell_name(code, month)
        if spec is None:
            parsed.problem(where, value, f"{code} is not a line of this return")
            continue
        if month not in MONTHS:
            parsed.problem(where, value, "is not a month of the year")
            continue
        try:
            number = parse_value(value)
        except ValueProblem as exc:
            parsed.problem(where, value, str(exc))
            continue
        if number is None:
            continue
        why = check_value(spec, number)
        if why:
            parsed.problem(where, value, why)
            continue
        parsed.cells[(code, month)] = number
    return parsed


def read_table(
    rows: Iterable[Sequence[object]],
    *,
    round_slug: str,
    ods_code: str,
    month: int,
    specs: Mapping[str, LineSpec],
    cell_name: Callable[[int, int], str],
) -> Parsed:
    """A return's file (rows of cells, from CSV or the first sheet of a workbook) read whole.

    `cell_name(row, column)` names a cell for the person (1-based, "C7" or "row 7, Jun").
    Derived lines may be present (downloads show them) but are not read.
    """
    rows = [list(r) for r in rows]
    if rows and is_long(rows[0]):
        return read_long(rows, round_slug=round_slug, ods_code=ods_code, month=month,
                         specs=specs, cell_name=cell_name)  # fmt: skip
    parsed = Parsed()
    expected_title = header(round_slug, ods_code, month)[0][:4]
    if not rows or [_text(c) for c in rows[0][:4]] != expected_title:
        found = " / ".join(_text(c) for c in (rows[0][:4] if rows else []))
        parsed.problem(
            cell_name(1, 1),
            found,
            f"this is not the {MONTH_LABELS[month - 1]} return of {ods_code} for {round_slug}: "
            "download the return from its page and fill that in",
        )
        return parsed
    stamp = _text(rows[0][4]) if len(rows[0]) > 4 else ""
    if stamp.startswith("revision ") and numbers.whole(stamp[9:]) is not None:
        parsed.revision = numbers.whole(stamp[9:])
    headings = [_text(c) for c in (rows[1] if len(rows) > 1 else [])]
    if headings[: 2 + len(MONTH_LABELS)] != ["Line", "Description", *MONTH_LABELS]:
        parsed.problem(cell_name(2, 1), " / ".join(headings), "the column headings were changed")
        return parsed
    raw: dict[tuple[str, int], object] = {}
    where: dict[tuple[str, int], str] = {}
    seen: dict[str, int] = {}
    for r, row in enumerate(rows[2:], start=3):
        code = _text(row[0] if row else "")
        if not code and all(_text(c) == "" for c in row):
            continue
        if code in seen:
            first = seen[code]
            parsed.problem(cell_name(r, 1), code, f"{code} appears twice (first in row {first})")
            continue
        seen[code] = r
        spec = specs.get(code)
        if spec is None:
            parsed.problem(cell_name(r, 1), code, "is not a line of this return")
            continue
        for m in MONTHS:
            value = row[1 + m] if len(row) > 1 + m else None
            if spec.is_derived or value is None or _text(value) == "":
                continue
            raw[(code, m)] = value
            where[(code, m)] = cell_name(r, 2 + m)
    checked = check_cells(raw, specs, lambda code, m: where[(code, m)])
    parsed.cells = checked.cells
    parsed.problems += checked.problems
    return parsed


def missing(cells: Mapping[tuple[str, int], Decimal], required: Iterable[str]) -> list[str]:
    """Required lines with any month left blank, as "F100 (Apr, May)"."""
    out = []
    for code in required:
        gaps = [MONTH_LABELS[m - 1] for m in MONTHS if (code, m) not in cells]
        if gaps:
            out.append(f"{code} ({', '.join(gaps)})")
    return out


@dataclass(frozen=True)
class ReturnPosition:
    """What a return says about the year, £000 (surplus +, deficit −)."""

    month: int
    year_to_date: Decimal  # actual surplus for months up to `month`
    outturn: Decimal  # actuals plus forecast: the year's surplus
    by_month: tuple[Decimal, ...]  # the surplus month by month, actual then forecast


def position(
    cells: Mapping[tuple[str, int], Decimal],
    month: int,
    flat: Mapping[str, Mapping[str, int]],
    surplus: str,
) -> ReturnPosition:
    """`surplus`: the code of the template's surplus line (its role)."""
    derived = derive_from_totals({surplus: flat.get(surplus, {})}, cells)
    by_month = tuple(derived.get((surplus, m), ZERO) for m in MONTHS)
    return ReturnPosition(
        month=month,
        year_to_date=sum(by_month[:month], ZERO),
        outturn=sum(by_month, ZERO),
        by_month=by_month,
    )


def is_long(header: Sequence[object]) -> bool:
    """The first row of a long return CSV: it names at least the columns read back."""
    names = {_text(c).lower() for c in header}
    return set(LONG_REQUIRED) <= names


def read_long(
    rows: Sequence[Sequence[object]],
    *,
    round_slug: str,
    ods_code: str,
    month: int,
    specs: Mapping[str, LineSpec],
    cell_name: Callable[[int, int], str],
) -> Parsed:
    """The long CSV (a row per figure, columns found by name, in any order; others read
    past) read whole, with the wide table's checks: the file is this return's, each line is
    the return's, each figure appears once. The file replaces the whole draft, so every
    figure's row must be there (a blank value for none): a file filtered to some lines is
    refused rather than taken to empty the others."""
    parsed = Parsed()
    header = [_text(c).lower() for c in rows[0]]
    at = {name: header.index(name) for name in LONG_REQUIRED}
    value_col = at["value"] + 1
    expected = (round_slug, ods_code, MONTH_LABELS[month - 1])
    raw: dict[tuple[str, int], object] = {}
    where: dict[tuple[str, int], str] = {}
    seen: dict[tuple[str, int], int] = {}
    revisions: set[str] = set()
    for r, row in enumerate(rows[1:], start=2):
        cells = [_text(c) for c in row]
        if not any(cells):
            continue
        if len(cells) <= max(at.values()) or any(cells[len(header) :]):
            parsed.problem(cell_name(r, 1), ",".join(cells),
                           f"has {len(cells)} columns, not {len(header)}")  # fmt: skip
            continue
        found = {name: cells[i] for name, i in at.items()}
        if (found["round"], found["organisation"].upper(), found["return_month"]) != expected:
            parsed.problem(
                cell_name(r, 1),
                " / ".join((found["round"], found["organisation"], found["return_month"])),
                f"this is not the {expected[2]} return of {ods_code} for {round_slug}: "
                "download the return from its page and fill that in",
            )
            return parsed
        revisions.add(found["revision"])
        code = found["line"]
        spec = specs.get(code)
        if spec is None:
            parsed.problem(cell_name(r, at["line"] + 1), code, "is not a line of this return")
            continue
        m = numbers.whole(found["month"], digits=2) or 0
        if m not in MONTHS:
            parsed.problem(cell_name(r, at["month"] + 1), found["month"],
                           "is not a month (1 is April)")  # fmt: skip
            continue
        if (code, m) in seen:
            first = seen[code, m]
            parsed.problem(cell_name(r, at["line"] + 1), f"{code} {found['month']}",
                           f"{code} month {m} appears twice (first in row {first})")  # fmt: skip
            continue
        seen[code, m] = r
        value = found["value"]
        if spec.is_derived or value == "":
            continue
        if value.startswith("="):
            parsed.problem(cell_name(r, value_col), value, "is a formula; enter the figure itself")
            continue
        raw[(code, m)] = value
        where[(code, m)] = cell_name(r, value_col)
    missing = sorted(
        code for code, spec in specs.items()
        if not spec.is_derived and any((code, m) not in seen for m in MONTHS)
    )  # fmt: skip
    if missing and not parsed.problems:
        more = f" and {len(missing) - 8} more" if len(missing) > 8 else ""
        shown = ", ".join(missing[:8]) + more
        parsed.problem(
            "the file",
            shown,
            "rows are missing for these lines: the file replaces the whole return, so it needs "
            "a row for every line and month (leave the value blank for none). Was it filtered?",
        )
    if len(revisions) == 1 and numbers.whole(stamp := revisions.pop()) is not None:
        parsed.revision = numbers.whole(stamp)
    checked = check_cells(raw, specs, lambda code, m: where[(code, m)])
    parsed.cells = checked.cells
    parsed.problems += checked.problems
    return parsed


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()
