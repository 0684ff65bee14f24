"""Writing the plan workbook: one sheet per grid section (input cells unlocked and validated,
derived lines as live formulas, everything else protected), a narratives sheet, an
instructions sheet, and a hidden sheet naming the round, organisation, template version and
draft revision."""

from __future__ import annotations

import io
from dataclasses import dataclass
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from accounts.models import Organisation
from openbook import numbers
from openbook.exports import neutralise
from plans import selectors
from plans.calculations import MONTH_END, MONTHS
from plans.excel.layout import (
    DERIVED_FILL,
    FIRST_MONTH_COL,
    FIRST_ROW,
    FORMAT,
    HEADER_ROW,
    INPUT_FILL,
    INSTRUCTIONS,
    META_SHEET,
    NARRATIVES,
    PROVIDED_FILL,
)
from plans.excel.tables import write_table_sheet
from plans.models import MONTH_LABELS, Line, PlanningRound, Section, Version
from plans.table_selectors import spec_of, table_sections, version_tables


def sheet_title(section: Section) -> str:
    """Excel sheet names: at most 31 characters, none of []:*?/\\."""
    title = section.name
    for ch in "[]:*?/\\":
        title = title.replace(ch, " ")
    return title[:31].strip()


@dataclass
class PlanRows:
    """Every row of every grid section an organisation completes, and its table sections
    (with no rows of the template's), in template order."""

    sections: list[tuple[Section, list[tuple[Line, Organisation | None]]]]


def plan_rows(plan_round: PlanningRound, organisation: Organisation) -> PlanRows:
    lines = list(selectors.lines_for(plan_round.template_version_id, organisation.kind))
    partners: dict[tuple, list[Organisation]] = {}
    by_section: dict[int, list[tuple[Line, Organisation | None]]] = {}
    sections: dict[int, Section] = {}
    for section in table_sections(plan_round.template_version_id, organisation.kind):
        sections[section.pk] = section
        by_section[section.pk] = []  # its rows are the organisation's, not the template's
    for line in lines:
        if line.section.kind != Section.Kind.GRID:
            continue
        sections[line.section_id] = line.section
        rows = by_section.setdefault(line.section_id, [])
        if line.counterparty and not line.is_derived:
            targets = selectors.partners_of(organisation, line, partners)
            rows.extend((line, partner) for partner in targets)
        else:
            rows.append((line, None))
    order = sorted(sections.values(), key=lambda section: section.position)
    return PlanRows([(section, by_section[section.pk]) for section in order])


def build_workbook(
    plan_round: PlanningRound, organisation: Organisation, version: Version | None
) -> Workbook:
    cells = selectors.version_cells(version) if version else {}
    narratives = selectors.version_narratives(version) if version else {}
    template = plan_round.template_version
    wb = Workbook()
    info = wb.active
    info.title = INSTRUCTIONS
    _instructions(info, plan_round, organisation, version)
    tables = version_tables(version)
    for section, rows in plan_rows(plan_round, organisation).sections:
        if section.kind == Section.Kind.TABLE:
            write_table_sheet(wb.create_sheet(sheet_title(section)), spec_of(section),
                              section.guidance, tables.get(section.code, []))  # fmt: skip
        else:
            _grid_sheet(wb.create_sheet(sheet_title(section)), section, rows, cells)
    _narrative_sheet(wb, plan_round, organisation, narratives)
    meta = wb.create_sheet(META_SHEET)
    for key, value in [
        ("format", FORMAT),
        ("round", plan_round.slug),
        ("organisation", organisation.ods_code),
        ("template", template.template.code),
        ("template_version", template.number),
        ("template_checksum", template.checksum),
        ("version", version.number if version else 0),
        ("revision", version.revision if version else 0),
    ]:
        meta.append([key, value])
    meta.sheet_state = "veryHidden"
    meta.protection.sheet = True
    wb.security = None
    return wb


def _instructions(ws, plan_round, organisation, version) -> None:
    ws["A1"] = "Openbook operational plan"
    ws["A1"].font = Font(bold=True, size=14)
    facts = [
        ("Round", plan_round.name),
        ("Organisation", f"{organisation.name} ({organisation.ods_code})"),
        ("Template", str(plan_round.template_version)),
        ("Figures from", str(version) if version else "an empty plan"),
    ]
    for offset, (key, value) in enumerate(facts, start=3):
        ws.cell(row=offset, column=1, value=key).font = Font(bold=True)
        ws.cell(row=offset, column=2, value=neutralise(value))
    notes = [
        "Enter figures in the yellow cells only. Grey rows are worked out for you.",
        "Money is in £ thousands (£000). Enter income and costs as positive numbers.",
        "Percentages are Excel percentages: type 78 (or 78%) for 78%.",
        "Leave a cell blank for no figure. Do not add, remove or reorder rows or sheets.",
        "Upload the file on the organisation's plan page in Openbook. Every figure is checked "
        "before anything is saved; if anything is wrong, nothing is saved and each problem is "
        "listed by sheet and cell.",
        "This file belongs to this organisation, round and template version only.",
    ]
    for offset, note in enumerate(notes, start=9):
        ws.cell(row=offset, column=1, value=note)
    ws.column_dimensions["A"].width = 18
    ws.column_dimensions["B"].width = 80
    ws.protection.sheet = True
    set_up_printing(ws, f"A1:B{ws.max_row}", landscape=False)


def _grid_sheet(ws, section: Section, rows, cells) -> None:
    ws["A1"] = section.name
    ws["A1"].font = Font(bold=True, size=13)
    ws["A2"] = neutralise(section.guidance)
    headers = ["Code", "Line", "Counterparty", "Unit", *MONTH_LABELS, "Year"]
    for col, header in enumerate(headers, start=1):
        cell = ws.cell(row=HEADER_ROW, column=col, value=header)
        cell.font = Font(bold=True)
        if col >= FIRST_MONTH_COL:
            cell.alignment = Alignment(horizontal="right")  # over figures, which are
    row_of: dict[str, list[int]] = {}
    for index, (line, _partner) in enumerate(rows):
        row_of.setdefault(line.code, []).append(FIRST_ROW + index)
    for index, (line, partner) in enumerate(rows):
        r = FIRST_ROW + index
        number_format = numbers.excel_format(line.unit)
        # An input cell shows every place a figure is kept to, as the grid's inputs do (and
        # what Excel copies from it is what is stored); worked-out ones the unit's usual places.
        input_format = numbers.excel_format(line.unit, numbers.unit_for(line.unit).detailed)
        ws.cell(row=r, column=1, value=line.code)
        ws.cell(row=r, column=2, value=neutralise(line.label))
        ws.cell(row=r, column=3, value=partner.ods_code if partner else None)
        ws.cell(row=r, column=4, value=line.get_unit_display())
        first, last = get_column_letter(FIRST_MONTH_COL), get_column_letter(FIRST_MONTH_COL + 11)
        if line.fed_by or line.provided:  # the schemes added up, or the round owner's
            for m in MONTHS:
                cell = ws.cell(row=r, column=FIRST_MONTH_COL + m - 1,
                               value=cells.get((line.code, None, m)))  # fmt: skip
                cell.fill = PROVIDED_FILL if line.provided else DERIVED_FILL
                cell.number_format = number_format
        elif line.is_derived:
            for m in MONTHS:
                col = get_column_letter(FIRST_MONTH_COL + m - 1)
                terms = [
                    f"{'+' if int(coefficient) > 0 else '-'}SUM({col}{rr})"
                    for coefficient, ref in line.formula
                    for rr in row_of.get(ref, [])
                ]
                cell = ws.cell(
                    row=r, column=FIRST_MONTH_COL + m - 1, value="=" + ("".join(terms) or "0")
                )
                cell.fill = DERIVED_FILL
                cell.number_format = number_format
            for c in range(1, 18):
                ws.cell(row=r, column=c).font = Font(bold=True)
        else:
            validation = line_validation(line, as_fraction=True)
            ws.add_data_validation(validation)
            cp_id = partner.pk if partner else None
            percent = line.unit == "percent"
            if percent:
                input_format = _percent_format(numbers.unit_for(line.unit).detailed)
            for m in MONTHS:
                value = cells.get((line.code, cp_id, m))
                if percent and value is not None:
                    value = value / 100  # an Excel percentage: 78% is 0.78
                cell = ws.cell(row=r, column=FIRST_MONTH_COL + m - 1, value=value)
                cell.protection = Protection(locked=False)
                cell.fill = INPUT_FILL
                cell.number_format = input_format
                validation.add(cell)
        total = {"gbp000": f"=SUM({first}{r}:{last}{r})", "count": f"=SUM({first}{r}:{last}{r})",
                 "wte": f"={last}{r}"}.get(line.unit)  # fmt: skip
        if line.role == MONTH_END:
            total = f"={last}{r}"  # a stock: the year's figure is March's position
        if total:
            year = ws.cell(row=r, column=FIRST_MONTH_COL + 12, value=total)
            year.font = Font(bold=True)
            year.number_format = number_format
    ws.column_dimensions["A"].width = 9
    ws.column_dimensions["B"].width = 48
    ws.column_dimensions["C"].width = 13
    ws.column_dimensions["D"].width = 7
    for c in range(FIRST_MONTH_COL, FIRST_MONTH_COL + 13):
        ws.column_dimensions[get_column_letter(c)].width = 11
    ws.freeze_panes = ws.cell(row=FIRST_ROW, column=FIRST_MONTH_COL)
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    last = get_column_letter(FIRST_MONTH_COL + 12)
    set_up_printing(ws, f"A1:{last}{max(FIRST_ROW, FIRST_ROW + len(rows) - 1)}", HEADER_ROW)


def _percent_format(places: int) -> str:
    """An Excel percentage format showing `places` decimals (typed 78 in it is 78%, 0.78)."""
    return f"0.{'0' * places}%" if places else "0%"


def set_up_printing(ws, area: str, title_row: int | None = None, landscape: bool = True) -> None:
    """Print a sheet the way a finance team files it: A4, landscape for figures, every column
    on one page wide (as many pages down as it takes), the heading row repeated on each page,
    the sheet's name and page numbers in the footer."""
    ws.print_area = area
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    if title_row is not None:
        ws.print_title_rows = f"{title_row}:{title_row}"
    ws.oddFooter.left.text = "&A"
    ws.oddFooter.right.text = "Page &P of &N"


def line_validation(line: Line, as_fraction: bool = False) -> DataValidation:
    """Excel's own check of a figure as it is typed, against the line's limits (the upload
    checks again). `as_fraction`: the cell is an Excel percentage, 0.78 for 78%."""
    low = (
        line.minimum
        if line.minimum is not None
        else (Decimal(0) if line.sign == "positive" else Decimal("-1e12"))
    )
    high = (
        line.maximum
        if line.maximum is not None
        else (Decimal(0) if line.sign == "negative" else Decimal("1e12"))
    )
    error = f"{line.code}: enter a number from {numbers.exact(low)} to {numbers.exact(high)}."
    if line.unit == "percent":
        low, high = max(low, Decimal(0)), min(high, Decimal(100))
        error = (f"{line.code}: enter a percentage from {numbers.exact(low)}% to "
                 f"{numbers.exact(high)}%.")  # fmt: skip
        if as_fraction:
            low, high = low / 100, high / 100
    return DataValidation(
        type="decimal",
        operator="between",
        formula1=str(low),
        formula2=str(high),
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="Not allowed",
        error=error,
    )


def _narrative_sheet(wb, plan_round, organisation, narratives) -> None:
    sections = [
        s for s in selectors.sections_for(plan_round.template_version_id, organisation.kind)
        if s.kind == Section.Kind.NARRATIVE
    ]  # fmt: skip
    if not sections:
        return
    ws = wb.create_sheet(NARRATIVES)
    ws.append(["Code", "Section", "Text"])
    for c in range(1, 4):
        ws.cell(row=1, column=c).font = Font(bold=True)
    for index, section in enumerate(sections, start=2):
        ws.cell(row=index, column=1, value=section.code)
        ws.cell(row=index, column=2, value=neutralise(section.name))
        text = ws.cell(
            row=index, column=3, value=neutralise(narratives.get(section.code, "")) or None
        )
        text.protection = Protection(locked=False)
        text.fill = INPUT_FILL
        text.alignment = Alignment(wrap_text=True, vertical="top")
        ws.row_dimensions[index].height = 120
    ws.column_dimensions["A"].width = 20
    ws.column_dimensions["B"].width = 28
    ws.column_dimensions["C"].width = 100
    ws.freeze_panes = "A2"  # the headings stay in view over long text
    ws.protection.sheet = True
    set_up_printing(ws, f"A1:C{ws.max_row}", title_row=1)


def workbook_bytes(wb: Workbook) -> bytes:
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
