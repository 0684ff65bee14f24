"""A monthly return as a file: written for download (CSV or Excel) and read back from an
upload into rows for `monthly_returns.read_table`. Uploads get the same guards as plans."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill, Protection
from openpyxl.utils import get_column_letter

from openbook import numbers
from openbook.csvtext import CsvTooLong, CsvUnreadable, csv_rows
from openbook.exports import neutralise
from plans import excel, monthly_returns
from plans.calculations import MONTHS
from plans.excel import UploadRejected
from plans.models import MONTH_LABELS, Line

ACTUAL_FILL = PatternFill("solid", fgColor="E8EDEE")
INPUT_FILL = PatternFill("solid", fgColor="FFF9C4")

Rows = list[list[object]]


def table(
    round_slug: str,
    ods_code: str,
    month: int,
    lines: Sequence[Line],
    cells: Mapping[tuple[str, int], Decimal],
    revision: int = 0,
) -> Rows:
    rows: Rows = [list(r) for r in monthly_returns.header(round_slug, ods_code, month, revision)]
    for line in lines:
        if line.formula:
            continue  # worked out on upload's page, never read back
        rows.append([line.code, line.label, *(cells.get((line.code, m)) for m in MONTHS)])
    return rows


def long_table(
    round_slug: str,
    ods_code: str,
    month: int,
    lines: Sequence[Line],
    cells: Mapping[tuple[str, int], Decimal],
    revision: int = 0,
) -> Rows:
    """The return as the CSV download: monthly_returns.LONG_HEADER, then a row per figure of
    each line people fill in (blank where none is entered yet)."""
    rows: Rows = [list(monthly_returns.LONG_HEADER)]
    return_month = MONTH_LABELS[month - 1]
    for line in lines:
        if line.formula:
            continue  # worked out on upload's page, never read back
        unit = numbers.unit_for(line.unit).label
        for m in MONTHS:
            rows.append([round_slug, ods_code, return_month, revision, line.code, line.label,
                         unit, m, MONTH_LABELS[m - 1], cells.get((line.code, m))])  # fmt: skip
    return rows


def csv_bytes(rows: Rows) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        # Text is neutralised; figures are written as they are (a deficit starts with "-").
        writer.writerow(
            ["" if c is None else neutralise(c) if isinstance(c, str) else str(c) for c in row]
        )
    return out.getvalue().encode("utf-8-sig")


def xlsx_bytes(rows: Rows, month: int, lines: Sequence[Line] = ()) -> bytes:
    """The return as a workbook: actual months shaded apart from forecast ones; each figure
    checked by Excel as it is typed against its line's limits (the upload checks again); the
    codes and headings locked, so a row cannot be moved to another line by mistake."""
    by_code = {line.code: line for line in lines}
    wb = Workbook()
    ws = wb.active
    ws.title = "Return"
    for row in rows:
        ws.append([neutralise(c) if isinstance(c, str) else c for c in row])
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for r in range(3, ws.max_row + 1):
        line = by_code.get(str(ws.cell(row=r, column=1).value))
        validation = None
        if line is not None:
            validation = excel.line_validation(line)
            ws.add_data_validation(validation)
        for m in MONTHS:
            cell = ws.cell(row=r, column=2 + m)
            cell.fill = ACTUAL_FILL if m <= month else INPUT_FILL
            cell.protection = Protection(locked=False)
            unit = numbers.unit_for(line.unit if line else "gbp000")
            cell.number_format = numbers.excel_format(unit, unit.detailed)  # what is stored
            if validation is not None:
                validation.add(cell)
    ws.column_dimensions["B"].width = 48
    ws.freeze_panes = "C3"
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    excel.set_up_printing(ws, f"A1:{get_column_letter(ws.max_column)}{ws.max_row}", 2)
    return excel.workbook_bytes(wb)


def read_upload(
    name: str, data: bytes, *, line_count: int
) -> tuple[str, Rows, Callable[[int, int], str]]:
    """(kind, rows, cell namer) for an uploaded return of `line_count` lines, or
    UploadRejected. Either layout is accepted (a row a line, or a row a figure), so no more
    rows are read than the longer one has, with spare rows for blank ones."""
    last_row = 1 + line_count * len(MONTHS)  # the long layout: a heading, then a row a figure
    kind = excel.sniff(name, data)
    if kind == "xlsx":
        excel.check_zip(data)
        try:
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
        except Exception as exc:  # noqa: BLE001  (openpyxl raises many kinds for a damaged file)
            raise UploadRejected(
                f"The workbook could not be read ({type(exc).__name__})."
            ) from None
        try:
            ws = wb.worksheets[0]
            width = max(len(monthly_returns.LONG_HEADER), 2 + len(MONTHS))  # either layout
            rows = [
                list(values)
                for _r, values in excel.bounded_rows(
                    ws, ws.title, first_row=1, last_row=last_row, last_col=width,
                    read_to_col=width + excel.SPARE_COLUMNS,
                )
            ]  # fmt: skip
        finally:
            wb.close()
        return kind, rows, lambda r, c: f"{get_column_letter(c)}{r}"
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UploadRejected(
            "The CSV file is not UTF-8 text. Save it as “CSV UTF-8” and try again."
        ) from None
    try:
        rows = csv_rows(text, max_rows=last_row + excel.SPARE_ROWS)
    except CsvTooLong as exc:
        raise UploadRejected(
            f"The CSV file has more than {exc.limit:,} rows; this return has at most "
            f"{last_row:,} (a heading, then a row for each figure), so it was not read."
        ) from None
    except CsvUnreadable as exc:
        raise UploadRejected(str(exc)) from None
    return kind, rows, lambda r, c: f"row {r}, column {c}"
