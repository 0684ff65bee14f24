"""Where things are in a plan workbook: its format, sheets, rows, columns and fills, shared by
writing a workbook and reading one back."""

from __future__ import annotations

from openpyxl.styles import PatternFill

# openbook-plan-2 holds percentages as Excel percentages (78% is 0.78 in the cell, so a
# formula on it works); openbook-plan-1 held the percentage figure (78). Both are read.
FORMAT = "openbook-plan-2"
PERCENT_AS_FRACTION = {"openbook-plan-1": False, "openbook-plan-2": True}
META_SHEET = "_openbook"
INSTRUCTIONS = "Instructions"
NARRATIVES = "Narratives"
HEADER_ROW = 4
FIRST_ROW = 5
FIRST_MONTH_COL = 5  # E
INPUT_FILL = PatternFill("solid", fgColor="FFF9C4")
DERIVED_FILL = PatternFill("solid", fgColor="E8EDEE")
PROVIDED_FILL = PatternFill("solid", fgColor="D9EEE1")  # provided by the round's owner: green
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
