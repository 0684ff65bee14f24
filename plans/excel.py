"""The plan as an Excel workbook and back again, and the long CSV format.

Download: one sheet per grid section (input cells unlocked and validated, derived lines as
live formulas, everything else protected), a narratives sheet, an instructions sheet, and a
hidden sheet naming the round, organisation, template version and draft revision.

Upload: everything is checked before anything is stored; each problem names the sheet, the
cell, the value found and why it is wrong.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from accounts.models import Organisation
from openbook import numbers
from openbook.exports import neutralise
from plans import selectors
from plans.calculations import MONTH_END_SECTIONS, MONTHS
from plans.cells import CellInput
from plans.models import MONTH_LABELS, Line, PlanningRound, Section, Version

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
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def sheet_title(section: Section) -> str:
    """Excel sheet names: at most 31 characters, none of []:*?/\\."""
    title = section.name
    for ch in "[]:*?/\\":
        title = title.replace(ch, " ")
    return title[:31].strip()


@dataclass
class PlanRows:
    """Every row of every grid section an organisation completes, in template order."""

    sections: list[tuple[Section, list[tuple[Line, Organisation | None]]]]


def plan_rows(plan_round: PlanningRound, organisation: Organisation) -> PlanRows:
    lines = list(selectors.lines_for(plan_round.template_version_id, organisation.kind))
    partners: dict[str, list[Organisation]] = {}
    by_section: dict[int, list[tuple[Line, Organisation | None]]] = {}
    sections: dict[int, Section] = {}
    for line in lines:
        if line.section.kind != Section.Kind.GRID:
            continue
        sections[line.section_id] = line.section
        rows = by_section.setdefault(line.section_id, [])
        if line.counterparty and not line.is_derived:
            if line.counterparty not in partners:
                partners[line.counterparty] = selectors.counterparties_for(
                    organisation, line.counterparty
                )
            rows.extend((line, partner) for partner in partners[line.counterparty])
        else:
            rows.append((line, None))
    return PlanRows([(sections[sid], by_section[sid]) for sid in sections])


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
    for section, rows in plan_rows(plan_round, organisation).sections:
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
        if line.is_derived:
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
            validation = _validation(line, as_fraction=True)
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
        if line.unit == "count" and section.code in MONTH_END_SECTIONS:
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


def _validation(line: Line, as_fraction: bool = False) -> DataValidation:
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


# --- reading an upload ------------------------------------------------------------------------


class UploadRejected(Exception):
    """The file as a whole cannot be read or does not belong here."""


@dataclass
class ParsedPlan:
    cells: list[CellInput] = field(default_factory=list)
    narratives: dict[str, str] = field(default_factory=dict)
    problems: list[dict[str, Any]] = field(default_factory=list)
    revision: int | None = None
    replace_all: bool = True


def _check_zip(data: bytes) -> None:
    """Refuse zip bombs before any XML is parsed."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise UploadRejected("The file is not a valid Excel workbook (.xlsx).") from None
    total = 0
    with archive:
        for info in archive.infolist():
            total += info.file_size
            if info.compress_size and info.file_size / info.compress_size > 200:
                raise UploadRejected("The file is compressed suspiciously hard; it was not opened.")
        if total > settings.PLAN_UPLOAD_MAX_UNPACKED_BYTES:
            raise UploadRejected(
                "The workbook is far larger than a plan can be; it was not opened."
            )
        if "[Content_Types].xml" not in archive.namelist():
            raise UploadRejected("The file is not a valid Excel workbook (.xlsx).")


def sniff(name: str, data: bytes) -> str:
    """'xlsx' or 'csv', by content (the name only as a hint), or UploadRejected."""
    if not data:
        raise UploadRejected("The file is empty.")
    if len(data) > settings.PLAN_UPLOAD_MAX_BYTES:
        limit = settings.PLAN_UPLOAD_MAX_BYTES // (1024 * 1024)
        raise UploadRejected(f"The file is larger than {limit} MB.")
    if data[:4] == b"PK\x03\x04":
        return "xlsx"
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise UploadRejected(
            "This is an old-style .xls workbook. Save it as .xlsx and upload that."
        )
    try:
        # An incremental decoder does not mind a character cut in two at the end.
        codecs.getincrementaldecoder("utf-8-sig")().decode(data[:4096], final=False)
    except UnicodeDecodeError:
        raise UploadRejected(
            "The file is neither an Excel workbook (.xlsx) nor a CSV file."
        ) from None
    if name.lower().endswith((".xlsx", ".xlsm")):
        raise UploadRejected("The file is not a valid Excel workbook (.xlsx).")
    return "csv"


def parse_xlsx(data: bytes, plan_round: PlanningRound, organisation: Organisation) -> ParsedPlan:
    _check_zip(data)
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:  # noqa: BLE001  (openpyxl raises many kinds for a damaged file)
        raise UploadRejected(f"The workbook could not be read ({type(exc).__name__}).") from None
    try:
        return _parse_workbook(wb, plan_round, organisation)
    finally:
        wb.close()


def _meta(wb) -> dict[str, Any]:
    if META_SHEET not in wb.sheetnames:
        raise UploadRejected(
            "This workbook was not downloaded from Openbook (its identifying sheet is missing). "
            "Download the template from the plan page and fill that in."
        )
    meta = {}
    for row in wb[META_SHEET].iter_rows(min_row=1, max_row=20, max_col=2, values_only=True):
        if row and row[0]:
            meta[str(row[0])] = row[1]
    if meta.get("format") not in PERCENT_AS_FRACTION:
        raise UploadRejected("This workbook is in a format Openbook does not read.")
    return meta


def _parse_workbook(wb, plan_round: PlanningRound, organisation: Organisation) -> ParsedPlan:
    meta = _meta(wb)
    template = plan_round.template_version
    if meta.get("organisation") != organisation.ods_code:
        raise UploadRejected(
            f"This workbook is for organisation {meta.get('organisation')}, not "
            f"{organisation.ods_code}. Upload it on that organisation's page."
        )
    if meta.get("round") != plan_round.slug:
        raise UploadRejected(
            f"This workbook is for the round {meta.get('round')!r}, not {plan_round.name}."
        )
    try:
        meta_version = int(meta.get("template_version") or 0)
        revision = int(meta.get("revision") or 0)
    except (TypeError, ValueError):
        raise UploadRejected(
            "The workbook's identifying sheet has been changed; download a fresh copy."
        ) from None
    if meta.get("template") != template.template.code or meta_version != template.number:
        raise UploadRejected(
            f"This workbook uses template version {meta.get('template_version')}; the round uses "
            f"version {template.number}. Download the current template and copy your figures "
            "across."
        )
    parsed = ParsedPlan(revision=revision)
    for section, rows in plan_rows(plan_round, organisation).sections:
        title = sheet_title(section)
        if title not in wb.sheetnames:
            parsed.problems.append({"cell": title, "value": "", "problem": "this sheet is missing"})
            continue
        _parse_sheet(wb[title], title, rows, parsed, PERCENT_AS_FRACTION[meta["format"]])
    if NARRATIVES in wb.sheetnames:
        for row in wb[NARRATIVES].iter_rows(min_row=2, max_col=3, values_only=True):
            if row and row[0]:
                text = row[2]
                parsed.narratives[str(row[0])] = "" if text is None else str(text).removeprefix("'")
    return parsed


def _percentage(raw: object) -> object:
    """An Excel percentage cell's figure as the percentage stored: 0.78 → 78. Rounded to nine
    places first, so a fraction Excel keeps in binary (0.013999999999999999 for 1.4%) comes
    back as typed. Text is read as typed: "78%" is 78, "0.78" is 78 as well. Anything else is
    left for the figure's own check to name."""
    if isinstance(raw, bool) or raw is None:
        return raw
    if isinstance(raw, str):
        text = raw.strip()
        if text.endswith("%"):
            return text[:-1].strip()
        try:
            raw = Decimal(text.replace(",", ""))
        except ArithmeticError:
            return raw
    if isinstance(raw, int | float | Decimal):
        try:
            scaled = (Decimal(str(raw)) * 100).quantize(Decimal("1e-9"))
        except ArithmeticError:  # infinite, or too large to be a percentage
            return raw
        return Decimal(f"{scaled.normalize():f}")
    return raw


def _parse_sheet(ws, title: str, rows, parsed: ParsedPlan, percent_as_fraction: bool) -> None:
    expected = {(line.code, partner.ods_code if partner else None): line for line, partner in rows}
    seen: set[tuple[str, str | None]] = set()
    last_col = FIRST_MONTH_COL + 11
    for r, values in enumerate(
        ws.iter_rows(min_row=FIRST_ROW, max_col=last_col, values_only=True), start=FIRST_ROW
    ):
        if not values or all(v is None for v in values):
            continue
        code = str(values[0]).strip() if values[0] is not None else ""
        counterparty = str(values[2]).strip().upper() if len(values) > 2 and values[2] else None
        key = (code, counterparty)
        line = expected.get(key)
        if line is None:
            parsed.problems.append(
                {
                    "cell": f"{title}!A{r}",
                    "value": code,
                    "problem": "this row is not in the template "
                    "(rows must not be added or changed)",
                }
            )
            continue
        seen.add(key)
        if line.is_derived:
            continue
        for m in MONTHS:
            col = FIRST_MONTH_COL + m - 1
            raw = values[col - 1] if len(values) >= col else None
            ref = f"{title}!{get_column_letter(col)}{r}"
            if isinstance(raw, str) and raw.startswith("="):
                parsed.problems.append(
                    {"cell": ref, "value": raw, "problem": "is a formula; enter the figure itself"}
                )
                continue
            if percent_as_fraction and line.unit == "percent":
                raw = _percentage(raw)  # the cell holds 0.78 for 78%
            parsed.cells.append(
                CellInput(line=line.code, month=m, value=raw, counterparty=counterparty, where=ref)
            )
    for (code, counterparty), line in expected.items():
        if (code, counterparty) not in seen:
            who = f" for {counterparty}" if counterparty else ""
            parsed.problems.append(
                {
                    "cell": title,
                    "value": "",
                    "problem": f"the row for {code} {line.label}{who} is missing",
                }
            )


# What an upload needs, in any order; the download adds columns that say what each figure is
# (read past on upload), so it filters and pivots as one table.
CSV_HEADER = ["round", "organisation", "line", "counterparty", "month", "value"]
CSV_DOWNLOAD = ["round", "organisation", "section", "line", "description", "counterparty",
                "unit", "month", "month_name", "value"]  # fmt: skip


def parse_csv(data: bytes, plan_round: PlanningRound, organisation: Organisation) -> ParsedPlan:
    """The long format: one figure a row, with at least the columns `round, organisation,
    line, counterparty, month, value` (the download's section, description, unit and
    month_name are read past). Only the figures listed are changed; a blank value removes a
    figure."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UploadRejected(
            "The CSV file is not UTF-8 text. Save it as “CSV UTF-8” and try again."
        ) from None
    reader = csv.reader(io.StringIO(text))
    header = [h.strip().lower() for h in next(reader, [])]
    missing = [name for name in CSV_HEADER if name not in header]
    twice = sorted({name for name in CSV_HEADER if header.count(name) > 1})
    if missing or twice:
        raise UploadRejected(
            f"The first row of the CSV file must name the columns {', '.join(CSV_HEADER)}, "
            "once each, in any order (other columns, such as the download's "
            f"{', '.join(c for c in CSV_DOWNLOAD if c not in CSV_HEADER)}, are read past)."
            + (f" Missing: {', '.join(missing)}." if missing else "")
            + (f" Named twice: {', '.join(twice)}." if twice else "")
        )
    at = [header.index(name) for name in CSV_HEADER]
    parsed = ParsedPlan(replace_all=False)
    for number, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) <= max(at) or any(cell.strip() for cell in row[len(header) :]):
            parsed.problems.append(
                {
                    "cell": f"row {number}",
                    "value": ",".join(row),
                    "problem": f"has {len(row)} columns, not {len(header)}",
                }
            )
            continue
        round_slug, ods, line, counterparty, month, value = (row[i].strip() for i in at)
        where = f"row {number}"
        if round_slug != plan_round.slug:
            parsed.problems.append(
                {
                    "cell": where,
                    "value": round_slug,
                    "problem": f"is not this round ({plan_round.slug})",
                }
            )
            continue
        if ods.upper() != organisation.ods_code:
            parsed.problems.append(
                {
                    "cell": where,
                    "value": ods,
                    "problem": f"is not this organisation ({organisation.ods_code})",
                }
            )
            continue
        if value.startswith("="):
            parsed.problems.append(
                {"cell": where, "value": value, "problem": "is a formula; enter the figure itself"}
            )
            continue
        try:
            month_number = int(month)
        except ValueError:
            parsed.problems.append(
                {
                    "cell": where,
                    "value": month,
                    "problem": "the month must be a number from 1 (April) to 12 (March)",
                }
            )
            continue
        parsed.cells.append(
            CellInput(
                line=line,
                month=month_number,
                value=value,
                counterparty=counterparty or None,
                where=where,
            )
        )
    if len(parsed.cells) > 20000:
        raise UploadRejected("The CSV file has more rows than a plan can have.")
    return parsed


def version_csv(
    plan_round: PlanningRound, organisation: Organisation, version: Version | None
) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_DOWNLOAD)
    lines = {
        line.code: line
        for line in Line.objects.filter(
            section__template_version_id=plan_round.template_version_id
        ).select_related("section")
    }
    for row in selectors.version_rows(version) if version else []:
        value = f"{row['value'].normalize():f}"
        line = lines.get(row["line"])
        if line is None:  # not in the round's template (cannot happen for a round's plan)
            writer.writerow([plan_round.slug, organisation.ods_code, "", row["line"], "",
                             row["counterparty"] or "", "", row["month"],
                             MONTH_LABELS[row["month"] - 1], value])  # fmt: skip
            continue
        writer.writerow(
            [plan_round.slug, organisation.ods_code, neutralise(line.section.name), line.code,
             neutralise(line.label), row["counterparty"] or "", numbers.unit_for(line.unit).label,
             row["month"], MONTH_LABELS[row["month"] - 1], value]
        )  # fmt: skip
    return out.getvalue()
