"""Reading a plan back, from the workbook or the long CSV (and writing that CSV): everything
is checked before anything is stored; each problem names the sheet, the cell, the value found
and why it is wrong."""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from accounts.models import Organisation
from openbook import numbers
from openbook.csvtext import CsvTooLong, CsvUnreadable, csv_rows
from openbook.exports import neutralise
from plans import selectors
from plans.calculations import MONTHS
from plans.cells import CellInput
from plans.excel.layout import (
    FIRST_MONTH_COL,
    FIRST_ROW,
    META_SHEET,
    NARRATIVES,
    PERCENT_AS_FRACTION,
)
from plans.excel.tables import read_table_sheet
from plans.excel.writing import plan_rows, sheet_title
from plans.models import MONTH_LABELS, Line, PlanningRound, Section, Version
from plans.table_selectors import spec_of
from plans.tables import RowInput


class UploadRejected(Exception):
    """The file as a whole cannot be read or does not belong here."""


# How far past the template a sheet may reach and still be read. Blank rows inserted by hand
# shift the template's rows down and are still found by their codes; a sheet reaching far
# beyond is not a plan, and reading it would cost the web process far more than a plan does
# (380,000 junk rows took 12 s and listed 380,000 problems).
SPARE_ROWS = 100
SPARE_COLUMNS = 9  # to column Z of a grid sheet
# Every part of a workbook but its pictures is XML that openpyxl may parse whole (a part is
# found by what the workbook says it is, not by its name), so each is bounded.
UNPARSED_PARTS = ("xl/media/",)


@dataclass
class ParsedPlan:
    cells: list[CellInput] = field(default_factory=list)
    narratives: dict[str, str] = field(default_factory=dict)
    tables: dict[str, list[RowInput]] = field(default_factory=dict)  # section code → rows
    problems: list[dict[str, Any]] = field(default_factory=list)
    revision: int | None = None
    replace_all: bool = True


def unpacked_size(data: bytes) -> int:
    """What a file is to read: a workbook's parts unpacked (as its entries say, the same sizes
    check_zip holds it to), anything else its bytes."""
    if data[:4] != b"PK\x03\x04":
        return len(data)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        return len(data)


def check_zip(data: bytes) -> None:
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
            if (
                not info.filename.startswith(UNPARSED_PARTS)
                and info.file_size > settings.PLAN_UPLOAD_MAX_SHEET_BYTES
            ):
                raise UploadRejected(
                    "A sheet in the workbook holds far more cells than a plan or return can "
                    f"({info.file_size / 1e6:.1f} MB of them); it was not opened. Delete what is "
                    "below and beside the template's rows, or check the file is the one you "
                    "meant to upload."
                )
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


def _quiet(done: int, total: int, stage: str) -> None:
    """Nobody is watching this file being read."""


def parse_xlsx(
    data: bytes,
    plan_round: PlanningRound,
    organisation: Organisation,
    progress: Callable[[int, int, str], None] = _quiet,
) -> ParsedPlan:
    check_zip(data)
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:  # noqa: BLE001  (openpyxl raises many kinds for a damaged file)
        raise UploadRejected(f"The workbook could not be read ({type(exc).__name__}).") from None
    try:
        return _parse_workbook(wb, plan_round, organisation, progress)
    finally:
        wb.close()


def bounded_rows(
    ws, title: str, *, first_row: int, last_row: int, last_col: int, read_to_col: int
) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """(row number, values to `read_to_col`) from `first_row`, for a sheet whose template ends
    at `last_row` and `last_col`. A sheet that says it reaches further than the spare rows and
    columns allow is refused before any of its cells is read; one that reaches further without
    saying so is read no further, and refused if anything is there."""
    row_limit, col_limit = last_row + SPARE_ROWS, last_col + SPARE_COLUMNS
    # The sheet's own <dimension>, read at opening; every program that writes .xlsx sets it.
    rows, cols = ws.max_row or 0, ws.max_column or 0
    if rows > row_limit:
        raise UploadRejected(
            f"The sheet “{title}” goes down to row {rows:,}, but its template ends at row "
            f"{last_row}, so it was not read. Delete the rows below row {last_row} and upload "
            "again."
        )
    if cols > col_limit:
        raise UploadRejected(
            f"The sheet “{title}” goes across to column {get_column_letter(cols)}, but its "
            f"template ends at column {get_column_letter(last_col)}, so it was not read. "
            f"Delete the columns after {get_column_letter(last_col)} and upload again."
        )
    for r, values in enumerate(
        ws.iter_rows(
            min_row=first_row, max_row=row_limit + 1, max_col=read_to_col, values_only=True
        ),
        start=first_row,
    ):
        if r > row_limit:
            if any(v is not None for v in values):
                raise UploadRejected(
                    f"The sheet “{title}” has something in row {r:,}, far below its "
                    f"template, which ends at row {last_row}. Delete the rows below row "
                    f"{last_row} and upload again."
                )
            return
        yield r, values


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


def _parse_workbook(
    wb, plan_round: PlanningRound, organisation: Organisation, progress
) -> ParsedPlan:
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
    sections = plan_rows(plan_round, organisation).sections
    for done, (section, rows) in enumerate(sections):
        title = sheet_title(section)
        progress(done, len(sections) + 1, f"Reading the sheet {title}")
        if title not in wb.sheetnames:
            parsed.problems.append({"cell": title, "value": "", "problem": "this sheet is missing"})
            continue
        if section.kind == Section.Kind.TABLE:
            spec = spec_of(section)
            last_col = len(spec.columns) + 13  # the columns, twelve months and the year
            parsed.tables[section.code] = read_table_sheet(
                bounded_rows(wb[title], title, first_row=FIRST_ROW,
                             last_row=FIRST_ROW + spec.rows_max - 1, last_col=last_col,
                             read_to_col=last_col - 1),
                title, spec, parsed.problems,
            )  # fmt: skip
            continue
        _parse_sheet(wb[title], title, rows, parsed, PERCENT_AS_FRACTION[meta["format"]])
    if NARRATIVES in wb.sheetnames:
        sections = selectors.sections_for(template.pk, organisation.kind)
        count = sum(1 for s in sections if s.kind == Section.Kind.NARRATIVE)
        for _r, row in bounded_rows(
            wb[NARRATIVES], NARRATIVES, first_row=2, last_row=1 + count, last_col=3,
            read_to_col=3,
        ):  # fmt: skip
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
            raw = numbers.parse(text)
        except numbers.NotAFigure:
            return raw  # named by the figure's own check, as typed
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
    for r, values in bounded_rows(
        ws,
        title,
        first_row=FIRST_ROW,
        last_row=FIRST_ROW + len(rows) - 1,
        last_col=last_col + 1,  # the year's total
        read_to_col=last_col,
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
        if line.is_derived or line.fed_by or line.provided:  # worked out, or not typed here
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


def parse_csv(
    data: bytes,
    plan_round: PlanningRound,
    organisation: Organisation,
    progress: Callable[[int, int, str], None] = _quiet,
) -> ParsedPlan:
    """The long format: one figure a row, with at least the columns `round, organisation,
    line, counterparty, month, value` (the download's section, description, unit and
    month_name are read past). Only the figures listed are changed; a blank value removes a
    figure."""
    progress(0, 2, "Reading the file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UploadRejected(
            "The CSV file is not UTF-8 text. Save it as “CSV UTF-8” and try again."
        ) from None
    figures = 12 * sum(len(r) for _section, r in plan_rows(plan_round, organisation).sections)
    try:
        rows = csv_rows(text, max_rows=1 + figures + SPARE_ROWS)
    except CsvTooLong:
        raise UploadRejected(
            f"The CSV file has more than {1 + figures + SPARE_ROWS:,} rows; this plan has "
            f"{figures:,} figures (a row each, after the heading), so it was not read."
        ) from None
    except CsvUnreadable as exc:
        raise UploadRejected(str(exc)) from None
    reader = iter(rows)
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
