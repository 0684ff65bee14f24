"""A table section's sheet (efficiency schemes, capital schemes): its rows, then empty rows to
add more, the choices as drop-down lists; and the same sheet read back as rows, each problem
naming its cell."""

from __future__ import annotations

from openpyxl.styles import Alignment, Font, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from openbook import numbers
from openbook.exports import FORMULA_TRIGGERS, neutralise
from plans.excel.layout import DERIVED_FILL, FIRST_ROW, HEADER_ROW, INPUT_FILL
from plans.models import MONTH_LABELS
from plans.tables import Row, RowInput, TableSpec

# Empty rows under the listed ones, to add schemes in Excel (up to the table's room).
SPARE_TABLE_ROWS = 50


def sheet_rows(spec: TableSpec, rows: list[Row]) -> int:
    return min(spec.rows_max, len(rows) + SPARE_TABLE_ROWS)


def write_table_sheet(ws, spec: TableSpec, guidance: str, rows: list[Row]) -> None:
    ws["A1"] = spec.name
    ws["A1"].font = Font(bold=True, size=13)
    ws["A2"] = neutralise(guidance)
    columns = len(spec.columns)
    first_month = columns + 1
    headers = [c.label for c in spec.columns] + [*MONTH_LABELS, "Year"]
    for col, header in enumerate(headers, start=1):
        cell = ws.cell(row=HEADER_ROW, column=col, value=header)
        cell.font = Font(bold=True)
        if col >= first_month:
            cell.alignment = Alignment(horizontal="right")
    amounts = DataValidation(
        type="decimal", operator="between", formula1="0", formula2=str(spec.maximum),
        allow_blank=True, showErrorMessage=True, errorTitle="Not allowed",
        error=f"Enter an amount in £000 from 0 to {numbers.exact(spec.maximum)}.",
    )  # fmt: skip
    ws.add_data_validation(amounts)
    choices = {}
    for index, column in enumerate(spec.columns, start=1):
        if column.choices:
            # A list typed into the rule itself: at most 255 characters, which every table
            # of the built-in templates keeps to.
            rule = DataValidation(
                type="list",
                formula1='"' + ",".join(column.choices) + '"',
                allow_blank=True,
                showErrorMessage=True,
                errorTitle="Not a choice",
                error=f"Choose one of the {column.label.lower()} listed.",
            )
            ws.add_data_validation(rule)
            choices[index] = rule
    last = FIRST_ROW + sheet_rows(spec, rows) - 1
    number_format = numbers.excel_format("gbp000", numbers.unit_for("gbp000").detailed)
    for r in range(FIRST_ROW, last + 1):
        row = rows[r - FIRST_ROW] if r - FIRST_ROW < len(rows) else None
        for index, column in enumerate(spec.columns, start=1):
            value = row.fields.get(column.code) if row else None
            cell = ws.cell(row=r, column=index, value=neutralise(value) if value else None)
            cell.protection = Protection(locked=False)
            cell.fill = INPUT_FILL
            if index in choices:
                choices[index].add(cell)
        for m in range(1, 13):
            amount = row.amounts[m - 1] if row else None
            cell = ws.cell(row=r, column=first_month + m - 1, value=amount if amount else None)
            cell.protection = Protection(locked=False)
            cell.fill = INPUT_FILL
            cell.number_format = number_format
            amounts.add(cell)
        first, end = get_column_letter(first_month), get_column_letter(first_month + 11)
        year = ws.cell(row=r, column=first_month + 12, value=f"=SUM({first}{r}:{end}{r})")
        year.font = Font(bold=True)
        year.fill = DERIVED_FILL
        year.number_format = numbers.excel_format("gbp000")
    ws.column_dimensions["A"].width = 40
    for index in range(2, first_month):
        ws.column_dimensions[get_column_letter(index)].width = 24
    for c in range(first_month, first_month + 13):
        ws.column_dimensions[get_column_letter(c)].width = 11
    ws.freeze_panes = ws.cell(row=FIRST_ROW, column=2)
    ws.protection.sheet = True
    ws.protection.formatColumns = False


def read_table_sheet(
    values_by_row, title: str, spec: TableSpec, problems: list[dict]
) -> list[RowInput]:
    """Rows as inputs from (row number, values) pairs, each cell named as "Sheet!C7"; a
    formula is a problem added to `problems` (it would be read as its text)."""
    first_month = len(spec.columns) + 1
    rows = []
    for r, values in values_by_row:
        values = list(values) + [None] * (first_month + 12 - len(values))
        refs = {c.code: f"{title}!{get_column_letter(i)}{r}"
                for i, c in enumerate(spec.columns, start=1)}  # fmt: skip
        refs |= {f"m{m}": f"{title}!{get_column_letter(first_month + m - 1)}{r}"
                 for m in range(1, 13)}  # fmt: skip
        fields = {c.code: _text(values[i]) for i, c in enumerate(spec.columns)}
        amounts = {m: values[first_month + m - 2] for m in range(1, 13)}
        for key, raw in [*((c.code, values[i]) for i, c in enumerate(spec.columns)),
                         *((f"m{m}", amounts[m]) for m in range(1, 13))]:  # fmt: skip
            if isinstance(raw, str) and raw.startswith("="):
                problems.append(
                    {"cell": refs[key], "value": raw,
                     "problem": "is a formula; enter the text or figure itself"}
                )  # fmt: skip
        rows.append(RowInput(fields, amounts, name=f"{title} row {r}", cells=refs))
    return rows


def _text(value: object) -> str | None:
    """A cell's text as typed: the apostrophe the download put before text that starts like a
    formula (neutralise) taken off again, and no other."""
    if value is None:
        return None
    text = str(value)
    if text.startswith("'") and text[1:2] and text[1] in FORMULA_TRIGGERS:
        return text[1:]
    return text
