"""Pure calculations over plan figures: derived lines, totals, checks on a value, differences.

No Django, no database, no clock: plain dataclasses and Decimal in, values out.
"""

from __future__ import annotations

import operator
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import repeat

from openbook import numbers
from openbook.numbers import THOUSANDTH
from payments.calculations.apportion import apportion

MONTHS = tuple(range(1, 13))
ZERO = Decimal("0")
MAX_ABS = Decimal("999999999999999")

# (line code, counterparty id or None, month)
CellKey = tuple[str, int | None, int]


@dataclass(frozen=True)
class LineSpec:
    code: str
    label: str
    unit: str  # gbp000 | wte | count | percent
    sign: str = "positive"  # positive | negative | any
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    formula: tuple[tuple[int, str], ...] | None = None  # ((+1, "F100"), (-1, "F200"), ...)
    role: str = ""  # what the line means to the platform (template_definition.ROLES)

    @property
    def is_derived(self) -> bool:
        return self.formula is not None


class ValueProblem(ValueError):
    """A value that cannot be accepted, with a message a finance team can act on."""


def parse_value(raw: object) -> Decimal | None:
    """Read a typed or uploaded figure. Blank means no figure. Thousands separators and
    brackets are allowed; £, exponents, other digits and misplaced commas are not."""
    if raw is None:
        return None
    if isinstance(raw, bool):
        raise ValueProblem("is not a number")
    if isinstance(raw, int | Decimal):
        number = Decimal(raw)
    elif isinstance(raw, float):
        number = Decimal(repr(raw))
    else:
        try:  # the one grammar (openbook.numbers.parse): nothing typed is guessed at
            parsed = numbers.parse(str(raw))
        except numbers.NotAFigure as exc:
            raise ValueProblem(str(exc)) from None
        if parsed is None:
            return None
        number = parsed
    if not number.is_finite():
        raise ValueProblem("is not a number")
    if abs(number) > MAX_ABS:
        raise ValueProblem("is too large")
    if number != number.quantize(THOUSANDTH):
        raise ValueProblem("has more than three decimal places")
    return number.quantize(THOUSANDTH)


def _fmt(value: Decimal) -> str:
    return numbers.exact(value)


def check_value(line: LineSpec, value: Decimal) -> str | None:
    """Why this value is not allowed on this line, or None if it is."""
    if line.is_derived:
        return "is worked out from other lines and cannot be entered"
    if line.sign == "positive" and value < 0:
        return "must be zero or more"
    if line.sign == "negative" and value > 0:
        return "must be zero or less"
    if line.minimum is not None and value < line.minimum:
        return f"must be at least {_fmt(line.minimum)}"
    if line.maximum is not None and value > line.maximum:
        return f"must be at most {_fmt(line.maximum)}"
    if line.unit == "percent" and not (ZERO <= value <= Decimal(100)):
        return "must be a percentage between 0 and 100"
    return None


def month_totals(cells: Mapping[CellKey, Decimal]) -> dict[tuple[str, int], Decimal]:
    """Each line's value per month, its counterparty rows added together."""
    totals: dict[tuple[str, int], Decimal] = defaultdict(lambda: ZERO)
    for (code, _counterparty, month), value in cells.items():
        totals[(code, month)] += value
    return dict(totals)


def flatten(lines: Sequence[LineSpec]) -> dict[str, dict[str, int]]:
    """Each derived line as a signed sum of input lines only (derived-of-derived expanded)."""
    by_code = {line.code: line for line in lines}
    flat: dict[str, dict[str, int]] = {}
    resolving: set[str] = set()

    def expand(code: str) -> dict[str, int]:
        line = by_code.get(code)
        if line is None or not line.is_derived:
            return {code: 1}
        if code in flat:
            return flat[code]
        if code in resolving:
            raise ValueError(f"derived line {code} refers to itself")
        resolving.add(code)
        terms: dict[str, int] = {}
        for coefficient, ref in line.formula or ():
            for input_code, c in expand(ref).items():
                terms[input_code] = terms.get(input_code, 0) + coefficient * c
        resolving.discard(code)
        flat[code] = terms
        return terms

    for line in lines:
        if line.is_derived:
            expand(line.code)
    return flat


def derive(
    lines: Sequence[LineSpec], cells: Mapping[CellKey, Decimal]
) -> dict[tuple[str, int], Decimal]:
    """Every derived line's value per month. Derived lines may use other derived lines."""
    return derive_from_totals(flatten(lines), month_totals(cells))


def derive_from_totals(
    flat: Mapping[str, Mapping[str, int]], totals: Mapping[tuple[str, int], Decimal]
) -> dict[tuple[str, int], Decimal]:
    """Derived lines from lines' month totals, given the formulas flattened once."""
    derived: dict[tuple[str, int], Decimal] = {}
    for code, row in derive_rows(flat, month_rows(totals)).items():
        derived.update(zip(zip(repeat(code), MONTHS), row, strict=True))
    return derived


def month_rows(totals: Mapping[tuple[str, int], Decimal]) -> dict[str, list[Decimal]]:
    """Month totals regrouped as a row of the twelve months per line (zero where none)."""
    column = {month: i for i, month in enumerate(MONTHS)}
    rows: dict[str, list[Decimal]] = {}
    for (code, month), value in totals.items():
        i = column.get(month)
        if i is not None:
            rows.setdefault(code, [ZERO] * len(MONTHS))[i] = value
    return rows


def derive_rows(
    flat: Mapping[str, Mapping[str, int]], rows: Mapping[str, Sequence[Decimal]]
) -> dict[str, list[Decimal]]:
    """Every derived line's twelve months from its input lines' rows, a whole row of each term
    at a time (a national collation does this for every system)."""
    derived: dict[str, list[Decimal]] = {}
    for code, terms in flat.items():
        sums = [ZERO] * len(MONTHS)
        for ref, coefficient in terms.items():
            row = rows.get(ref)
            if row is None:
                continue
            if coefficient == 1:
                sums = list(map(operator.add, sums, row))
            elif coefficient == -1:
                sums = list(map(operator.sub, sums, row))
            else:
                sums = [total + coefficient * value for total, value in zip(sums, row, strict=True)]
        derived[code] = sums
    return derived


MONTH_END = "month_end"  # the role of a count that is a stock, such as patients waiting


def row_total(unit: str, by_month: Mapping[int, Decimal], role: str = "") -> Decimal | None:
    """A row's year figure: money and counts add up; WTE, and a count whose template role
    says it is a position at each month's end, is the year-end (M12) position; percentages
    have no meaningful total."""
    if unit == "wte" or role == MONTH_END:
        return by_month.get(12)
    if unit in ("gbp000", "count"):
        return sum(by_month.values(), ZERO)
    return None


def spread(total: Decimal, profile: Sequence[Decimal] | None = None) -> list[Decimal]:
    """A year's total across the twelve months, evenly or in proportion to a profile (twelve
    figures, such as the same line in the last submitted version), each to the thousandth and
    adding up to exactly the total (largest remainder)."""

    weights = list(profile) if profile is not None else [Decimal(1)] * len(MONTHS)
    if len(weights) != len(MONTHS):
        raise ValueProblem("a profile needs a figure for each of the 12 months")
    if sum(weights, ZERO) == ZERO:
        raise ValueProblem("the profile adds up to zero, so there is nothing to spread it by")
    if total != total.quantize(THOUSANDTH):
        raise ValueProblem("has more than three decimal places")
    return apportion(total, weights, THOUSANDTH)


def column_totals(cells: Mapping[CellKey, Decimal], codes: Iterable[str]) -> dict[int, Decimal]:
    """Month totals across the given (input) lines, e.g. a section's money lines."""
    wanted = set(codes)
    totals = {month: ZERO for month in MONTHS}
    for (code, _counterparty, month), value in cells.items():
        if code in wanted:
            totals[month] += value
    return totals


@dataclass(frozen=True)
class Change:
    key: CellKey
    before: Decimal | None
    after: Decimal | None

    @property
    def delta(self) -> Decimal:
        return (self.after or ZERO) - (self.before or ZERO)


def diff(before: Mapping[CellKey, Decimal], after: Mapping[CellKey, Decimal]) -> list[Change]:
    """Cells that differ between two sets of figures, in a stable order."""
    changes = []
    for key in sorted(set(before) | set(after), key=lambda k: (k[0], k[1] or 0, k[2])):
        a, b = before.get(key), after.get(key)
        if a != b:
            changes.append(Change(key, a, b))
    return changes


def change_totals(changes: Iterable[Change], units: Mapping[str, str]) -> dict[str, Decimal]:
    """The net change by unit (so £000 are not added to WTE)."""
    totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for change in changes:
        totals[units.get(change.key[0], "")] += change.delta
    return dict(totals)
