"""The plan as an Excel workbook and back again, and the long CSV format.

Download (writing.py): one sheet per grid section (input cells unlocked and validated, derived
lines as live formulas, everything else protected), a narratives sheet, an instructions sheet,
and a hidden sheet naming the round, organisation, template version and draft revision.

Upload (reading.py): everything is checked before anything is stored; each problem names the
sheet, the cell, the value found and why it is wrong.
"""

from plans.excel.layout import FIRST_MONTH_COL, FORMAT, META_SHEET, XLSX_TYPE
from plans.excel.reading import (
    CSV_DOWNLOAD,
    CSV_HEADER,
    SPARE_COLUMNS,
    SPARE_ROWS,
    ParsedPlan,
    UploadRejected,
    bounded_rows,
    check_zip,
    parse_csv,
    parse_xlsx,
    sniff,
    unpacked_size,
    version_csv,
)
from plans.excel.writing import (
    PlanRows,
    build_workbook,
    line_validation,
    plan_rows,
    set_up_printing,
    sheet_title,
    workbook_bytes,
)

__all__ = [
    "CSV_DOWNLOAD",
    "CSV_HEADER",
    "FIRST_MONTH_COL",
    "FORMAT",
    "META_SHEET",
    "ParsedPlan",
    "SPARE_COLUMNS",
    "SPARE_ROWS",
    "PlanRows",
    "UploadRejected",
    "XLSX_TYPE",
    "bounded_rows",
    "check_zip",
    "line_validation",
    "build_workbook",
    "parse_csv",
    "parse_xlsx",
    "plan_rows",
    "set_up_printing",
    "sheet_title",
    "sniff",
    "unpacked_size",
    "version_csv",
    "workbook_bytes",
]
