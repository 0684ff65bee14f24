"""Helpers every export the platform produces uses."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from openbook import numbers

# A spreadsheet treats a cell starting with one of these as a formula (or a command, via DDE).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """Make text safe to put in a spreadsheet cell: a leading formula character gets an
    apostrophe in front, so the text is shown, never run. Numbers pass through."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


CSV_TYPE = "text/csv; charset=utf-8"


def csv_content(text: str | bytes) -> bytes:
    """CSV as UTF-8 with a byte-order mark: Excel then reads "£" and "–" as written (without
    it, it guesses a Windows code page and shows "Â£")."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    return data if data.startswith(b"\xef\xbb\xbf") else b"\xef\xbb\xbf" + data


@dataclass(frozen=True)
class Figure:
    """A number in an export with its unit: raw in a CSV (machine-readable), and in a
    workbook the number itself with the unit's number format, so Excel shows it the way the
    pages do and still adds it up."""

    value: Decimal | int | None
    unit: str = "gbp000"

    def __str__(self) -> str:
        return "" if self.value is None else f"{self.value}"


def raw(value: object) -> object:
    """What a CSV cell holds: the figure as it is, text neutralised, nothing for none."""
    if isinstance(value, Figure):
        value = value.value
    if value is None:
        return ""
    return neutralise(value)


PERCENT_FORMAT = "0.00%"


def _cell(value: object) -> object:
    if not isinstance(value, Figure):
        return neutralise(value)
    if value.value is not None and numbers.unit_for(value.unit).in_cell:
        return Decimal(value.value) / 100  # a percentage cell holds the fraction: 12.5% → 0.125
    return value.value


def put_row(ws, row: list[object]) -> None:
    """Append a row to a worksheet: figures as numbers with their unit's number format
    (percentages as Excel percentages), text neutralised."""
    ws.append([_cell(v) for v in row])
    for cell, value in zip(ws[ws.max_row], row, strict=False):
        if isinstance(value, Figure) and value.value is not None:
            in_cell = numbers.unit_for(value.unit).in_cell
            cell.number_format = PERCENT_FORMAT if in_cell else numbers.excel_format(value.unit)


def long_rows(blocks: list[tuple[str, list[list[object]]]]) -> tuple[list[str], list[dict]]:
    """Several tables as one, in long format: a row per figure, with the table's name, every
    text column of its row by its heading, the figure's column as "Measure", its unit, and
    the figure. What a CSV holds, so it filters and pivots as one table."""
    columns: list[str] = ["Table"]
    out: list[dict] = []
    for title, rows in blocks:
        header, *body = rows
        for row in body:
            # A table's own unit column gives way to each figure's unit.
            labels = {str(h): v for h, v in zip(header, row, strict=False)
                      if not isinstance(v, Figure) and str(h) != "Unit"}  # fmt: skip
            for name in labels:
                if name not in columns:
                    columns.append(name)
            for heading, value in zip(header, row, strict=False):
                if isinstance(value, Figure) and value.value is not None:
                    out.append(labels | {"Table": title, "Measure": str(heading),
                                         "Unit": numbers.unit_for(value.unit).label,
                                         "Value": value.value})  # fmt: skip
    return [*columns, "Measure", "Unit", "Value"], out
