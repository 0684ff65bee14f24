"""The Excel and CSV round trip, and every kind of bad file: rejected clearly, nothing stored."""

import csv
import html
import io
import re
import zipfile
from decimal import Decimal as D

import pytest
from openpyxl import load_workbook

from demo.synthetic import plan_cells
from openbook.models import AuditEvent
from plans import excel, selectors
from plans.cells import CellInput
from plans.models import Submission, Value, Version
from plans.services import draft_save, submission_start

pytestmark = pytest.mark.django_db
PLAN = "/rounds/2026-27/ZA1/"


@pytest.fixture
def filled(world, plan_round):
    submission = submission_start(
        actor=world.people["member"], plan_round=plan_round, organisation=world.org_a
    )
    draft_save(
        actor=world.people["member"],
        submission=submission,
        cells=plan_cells(plan_round, world.org_a),
    )
    return submission


@pytest.fixture
def member(client, world):
    client.force_login(world.people["member"])
    return client


def download(client) -> bytes:
    response = client.get(PLAN + "download.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"] == excel.XLSX_TYPE
    return response.content


def upload(client, data: bytes, name: str = "plan.xlsx", **extra):
    return client.post(
        PLAN + "upload/", {"file": io.BytesIO(data), **extra} | {"file": _named(data, name)}
    )


def _named(data: bytes, name: str):
    f = io.BytesIO(data)
    f.name = name
    return f


def edit(data: bytes, changes: dict[tuple[str, str], object]) -> bytes:
    wb = load_workbook(io.BytesIO(data))
    for (sheet, ref), value in changes.items():
        wb[sheet][ref] = value
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def problems_of(response) -> str:
    return html.unescape(response.content.decode())


def test_the_workbook_is_marked_protected_and_validated(member, filled):
    wb = load_workbook(io.BytesIO(download(member)))
    assert wb.sheetnames[0] == "Instructions"
    finance = wb["Finance – income & expenditure"]
    assert finance["A5"].value == "F100" and finance["C5"].value == "ZA3"
    assert finance.protection.sheet
    assert finance["E5"].protection.locked is False
    assert finance["B5"].protection.locked is not False
    surplus_row = next(r for r in range(5, 60) if finance[f"A{r}"].value == "F900")
    assert str(finance[f"E{surplus_row}"].value).startswith("=")
    # The year of a month-end stock (the 52-week waiters) is March's, not the months added up.
    performance = next(wb[name] for name in wb.sheetnames if name.startswith("Performance"))
    waiters = next(r for r in range(5, 20) if performance[f"A{r}"].value == "P110")
    assert performance[f"Q{waiters}"].value == f"=P{waiters}"
    assert finance.data_validations.dataValidation
    assert wb[excel.META_SHEET].sheet_state == "veryHidden"


def test_round_trip_unchanged_keeps_the_same_numbers_and_makes_no_version(member, filled):
    before = selectors.version_cells(filled.versions.get(number=0))
    revision = filled.versions.get(number=0).revision
    response = upload(member, download(member))
    assert response.status_code == 302
    assert selectors.version_cells(filled.versions.get(number=0)) == before
    assert filled.versions.get(number=0).revision == revision
    assert Version.objects.filter(submission=filled).count() == 1


def test_an_edited_workbook_saves_its_changes(member, filled):
    data = edit(download(member), {("Finance – income & expenditure", "F6"): 321.5})
    assert upload(member, data).status_code == 302
    assert Value.objects.get(version__number=0, line__code="F110", month=2).value == 321.5
    assert AuditEvent.objects.filter(action="draft.saved", payload__source="xlsx").exists()


@pytest.mark.parametrize(
    ("value", "why"),
    [("lots", "is not a number"), (-5, "must be zero or more"), (99999999, "must be at most"),
     ("=E6*2", "is a formula"),
     # Text that only looks like a figure is refused, not guessed (it was stored as 1234).
     ("12,34", "commas go only between thousands"), ("5e2", "is not a number")],
)  # fmt: skip
def test_a_bad_cell_is_named_and_nothing_is_stored(member, filled, value, why):
    before = selectors.version_cells(filled.versions.get(number=0))
    data = edit(download(member), {("Finance – income & expenditure", "F6"): value,
                                    ("Finance – income & expenditure", "G6"): 1})  # fmt: skip
    response = upload(member, data)
    assert response.status_code == 422
    text = problems_of(response)
    assert "Finance – income & expenditure!F6" in text
    assert why in text
    assert selectors.version_cells(filled.versions.get(number=0)) == before


def test_a_missing_row_is_reported(member, filled):
    wb = load_workbook(io.BytesIO(download(member)))
    wb["Finance – income & expenditure"].delete_rows(6)
    out = io.BytesIO()
    wb.save(out)
    response = upload(member, out.getvalue())
    assert response.status_code == 422
    assert "the row for F110 Other patient care income is missing" in problems_of(response)


def test_another_organisations_file_is_refused(client, world, filled, plan_round):
    client.force_login(world.people["partner"])
    submission_start(actor=world.people["partner"], plan_round=plan_round, organisation=world.org_b)
    other = client.get("/rounds/2026-27/ZA2/download.xlsx").content
    client.force_login(world.people["member"])
    response = upload(client, other)
    assert response.status_code == 422
    assert "is for organisation ZA2, not ZA1" in problems_of(response)


def test_another_template_version_is_refused(member, filled):
    wb = load_workbook(io.BytesIO(download(member)))
    meta = wb[excel.META_SHEET]
    for row in meta.iter_rows():
        if row[0].value == "template_version":
            row[1].value = 99
    out = io.BytesIO()
    wb.save(out)
    response = upload(member, out.getvalue())
    assert "uses template version 99" in problems_of(response)


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"", "plan.xlsx", "The file is empty."),
        (b"\x89PNG\r\n\x1a\n\x00\x00binary", "plan.png", "neither an Excel workbook"),
        (b"PK\x03\x04 this is not really a zip", "plan.xlsx", "not a valid Excel workbook"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1old", "plan.xls", "old-style .xls"),
        (b"a,b,c\n1,2,3\n", "plan.csv", "The first row of the CSV file must name the columns"),
    ],
)
def test_files_that_are_not_plans_get_a_clear_message(member, filled, data, name, message):
    response = upload(member, data, name)
    assert response.status_code == 422
    assert message in problems_of(response)


def test_an_oversized_file_is_refused(member, filled, settings):
    settings.PLAN_UPLOAD_MAX_BYTES = 1000
    response = upload(member, b"x" * 2000, "big.csv")
    assert "larger than" in problems_of(response)


def test_a_zip_bomb_is_refused_unopened(member, filled):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<x/>")
        archive.writestr("xl/worksheets/sheet1.xml", "0" * 50_000_000)
    response = upload(member, out.getvalue())
    assert response.status_code == 422
    assert "compressed suspiciously" in problems_of(response)


def test_csv_upload_changes_only_the_listed_figures(member, filled):
    csv_data = "round,organisation,line,counterparty,month,value\n2026-27,ZA1,F110,,1,77\n2026-27,ZA1,F100,ZA3,2,88\n"
    before = Value.objects.filter(version__number=0).count()
    assert upload(member, csv_data.encode(), "plan.csv").status_code == 302
    assert Value.objects.get(version__number=0, line__code="F110", month=1).value == 77
    assert Value.objects.filter(version__number=0).count() == before


def test_csv_problems_name_the_row(member, filled):
    csv_data = "round,organisation,line,counterparty,month,value\n2026-27,ZA1,F110,,1,seven\n2026-27,ZX1,F110,,2,1\n"
    response = upload(member, csv_data.encode(), "plan.csv")
    text = problems_of(response)
    assert "row 2" in text and "is not a number" in text
    assert "is not this organisation" in text


def test_a_workbook_from_before_someone_elses_change_needs_confirmation(member, world, filled):
    data = download(member)
    draft_save(actor=world.people["approver"], submission=filled, cells=[CellInput("F120", 1, "5")])
    response = upload(member, data)
    assert response.status_code == 422
    assert "Someone else has changed the draft since this workbook" in problems_of(response)
    assert Value.objects.get(version__number=0, line__code="F120", month=1).value == 5
    assert upload(member, data, replace="yes").status_code == 302


def test_the_same_person_can_fix_and_upload_a_workbook_again(member, world, filled):
    """Uploaded, then fixed and uploaded again by the same person: not stale, as nobody else
    changed the draft in between; once someone else does, it is."""
    data = download(member)
    assert (
        upload(member, edit(data, {("Finance – income & expenditure", "E6"): 11})).status_code
        == 302
    )
    fixed = edit(data, {("Finance – income & expenditure", "E6"): 12})
    assert upload(member, fixed).status_code == 302
    assert Value.objects.get(version__number=0, line__code="F110", month=1).value == 12
    draft_save(actor=world.people["approver"], submission=filled, cells=[CellInput("F120", 1, "5")])
    response = upload(member, edit(data, {("Finance – income & expenditure", "E6"): 13}))
    assert response.status_code == 422
    assert "Someone else has changed the draft" in problems_of(response)
    assert Value.objects.get(version__number=0, line__code="F110", month=1).value == 12


def test_a_workbook_from_before_your_own_grid_edits_still_asks(member, world, filled):
    """Your own edits in the grid since the download would be quietly undone: it asks."""
    data = download(member)
    member.post("/rounds/2026-27/ZA1/sections/finance/cells/", {
        "v:F120::1": "77",
        "e:F120::1": str(Value.objects.get(version__number=0, line__code="F120", month=1).value),
    })  # fmt: skip
    assert upload(member, data).status_code == 422
    assert Value.objects.get(version__number=0, line__code="F120", month=1).value == 77


def test_narratives_come_back_too(member, filled):
    data = edit(download(member), {("Narratives", "C2"): '=HYPERLINK("x")'})
    upload(member, data)
    # A leading '=' in text would run as a formula in Excel: it is neutralised on the way out.
    wb = load_workbook(io.BytesIO(download(member)))
    assert wb["Narratives"]["C2"].value is None or not str(wb["Narratives"]["C2"].value).startswith(
        "="
    )


def test_csv_download_round_trips(member, filled):
    """One table, a row per figure, saying what each figure is; uploaded back unchanged it
    changes nothing."""
    data = member.get(PLAN + "download.csv").content
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert list(rows[0]) == excel.CSV_DOWNLOAD
    f110 = next(r for r in rows if r["line"] == "F110" and r["month"] == "1")
    assert (f110["section"], f110["unit"], f110["month_name"]) == (
        "Finance – income & expenditure", "£000", "Apr")  # fmt: skip
    assert f110["description"] and re.fullmatch(r"-?\d+(\.\d+)?", f110["value"])
    revision = Submission.objects.get().versions.get(number=0).revision
    assert upload(member, data, "plan.csv").status_code == 302
    assert Submission.objects.get().versions.get(number=0).revision == revision


def test_a_csv_that_is_not_utf8_further_in_is_refused_clearly(member, filled):
    data = (
        "round,organisation,line,counterparty,month,value\n" + "2026-27,ZA1,F110,,1,5\n" * 400
    ).encode() + b"\xff\xfe bad"
    response = upload(member, data, "plan.csv")
    assert response.status_code == 422
    assert "not UTF-8" in problems_of(response)


def test_a_tampered_identifying_sheet_is_refused_clearly(member, filled):
    wb = load_workbook(io.BytesIO(download(member)))
    for row in wb[excel.META_SHEET].iter_rows():
        if row[0].value == "revision":
            row[1].value = "lots"
    out = io.BytesIO()
    wb.save(out)
    assert "identifying sheet has been changed" in problems_of(upload(member, out.getvalue()))


def test_the_template_shows_figures_as_the_pages_do_and_prints_on_a_page_wide(member, filled):
    wb = load_workbook(io.BytesIO(download(member)))
    ws = wb["Finance – income & expenditure"]
    assert ws["E5"].number_format == "#,##0.000_);(#,##0.000)"  # an input: all that is kept
    year = ws.cell(row=5, column=excel.FIRST_MONTH_COL + 12)
    assert year.number_format == "#,##0_);(#,##0)"
    assert ws.page_setup.orientation == "landscape"
    assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_title_rows == "$4:$4"
    assert ws.print_area.startswith("'Finance – income & expenditure'!$A$1:$Q$")
    workforce = (
        wb["Workforce (WTE)"]
        if "Workforce (WTE)" in wb.sheetnames
        else wb[next(n for n in wb.sheetnames if n.startswith("Workforce"))]
    )
    assert workforce["E5"].number_format == "#,##0.000_);(#,##0.000)"
    total = next(r for r in range(5, ws.max_row + 1) if ws.cell(r, 1).value == "F900")
    assert ws.cell(total, 5).number_format == "#,##0_);(#,##0)"  # worked out: £000 to 0


def test_exports_carry_number_formats_and_csv_stays_raw(client, world):
    from tests.isolation.plans import _plans_submitted

    _plans_submitted(world)
    client.force_login(world.people["lead"])
    data = client.get("/rounds/2026-27/systems/s1/system-plan.xlsx").content
    ws = load_workbook(io.BytesIO(data))["System plan"]
    header = [c.value for c in ws[1]]
    row = next(r for r in ws.iter_rows(min_row=2) if r[1].value == "F110")
    apr = row[header.index("Apr")]
    assert isinstance(apr.value, int | float) and apr.number_format == "#,##0_);(#,##0)"
    csv_text = client.get("/rounds/2026-27/systems/s1/system-plan.csv").content.decode("utf-8-sig")
    reader = csv.DictReader(io.StringIO(csv_text))
    assert len(reader.fieldnames) == len(set(reader.fieldnames))  # every column named once
    figures = [r["Value"] for r in reader if r.get("Code") == "F110"]
    assert len(figures) == 13  # twelve months and the year, a row each
    assert all(re.fullmatch(r"-?\d+(\.\d+)?", f) for f in figures), figures


def test_percentages_are_excel_percentages_and_come_back_as_typed(member, filled):
    """78% is 0.78 in the cell with a percentage format (so a formula on it works); Excel's
    own check runs from 0% to 100%; uploaded, it is 78 again. A workbook downloaded before
    (openbook-plan-1, 78 in the cell) is still read as it was meant."""
    wb = load_workbook(io.BytesIO(download(member)))
    ws = next(wb[name] for name in wb.sheetnames if name.startswith("Performance"))
    row = next(r for r in range(5, 20) if ws[f"A{r}"].value == "P100")
    stored = selectors.version_cells(filled.versions.get(number=0))
    april = next(v for (code, _cp, m), v in stored.items() if code == "P100" and m == 1)
    assert 0 < ws[f"E{row}"].value <= 1
    assert ws[f"E{row}"].value * 100 == pytest.approx(float(april))
    assert ws[f"E{row}"].number_format == "0.000%"
    checked = [dv for dv in ws.data_validations.dataValidation if f"E{row}" in str(dv.sqref)]
    assert [(float(dv.formula1), float(dv.formula2)) for dv in checked] == [(0, 1)]
    assert "percentage from 0% to 100%" in checked[0].error

    title = ws.title
    # Typed as a number, as text with a % sign, and as a fraction Excel keeps in binary.
    changes = {(title, f"F{row}"): 0.805, (title, f"G{row}"): "77.5%",
               (title, f"H{row}"): 0.013999999999999999}  # fmt: skip
    assert upload(member, edit(download(member), changes)).status_code == 302
    line = "P100"

    def stored_in(month):
        return Value.objects.get(version__number=0, line__code=line, month=month).value

    assert (stored_in(1), stored_in(2), stored_in(3), stored_in(4)) == (april, D("80.5"),
                                                                        D("77.5"), D("1.4"))  # fmt: skip

    old = load_workbook(io.BytesIO(download(member)))
    meta = old[excel.META_SHEET]
    next(r for r in meta.iter_rows() if r[0].value == "format")[1].value = "openbook-plan-1"
    sheet = old[title]
    for col in range(excel.FIRST_MONTH_COL, excel.FIRST_MONTH_COL + 12):
        cell = sheet.cell(row=row, column=col)
        if cell.value is not None:  # the old workbook held the percentage figure itself
            cell.value = float(D(str(cell.value)) * 100)
    sheet[f"F{row}"] = 81.25
    out = io.BytesIO()
    old.save(out)
    assert upload(member, out.getvalue()).status_code == 302
    assert (stored_in(1), stored_in(2), stored_in(3)) == (april, D("81.25"), D("77.5"))


def test_a_csv_with_its_columns_moved_or_added_to_is_read_by_name(member, filled):
    csv_data = ("value,month,notes,line,counterparty,organisation,round,\n"
                "66,3,checked with finance,F110,,ZA1,2026-27,\n")  # fmt: skip
    assert upload(member, csv_data.encode(), "plan.csv").status_code == 302
    assert Value.objects.get(version__number=0, line__code="F110", month=3).value == 66
    twice = "round,organisation,line,line,counterparty,month,value\n"
    response = upload(member, twice.encode(), "plan.csv")
    assert response.status_code == 422 and "Named twice: line" in problems_of(response)


def test_csv_the_csv_module_cannot_read_gets_a_message_not_a_server_error(member, filled):
    """A field longer than the csv module's limit, and a file with bare CR line endings (as
    older Mac spreadsheets save), were server errors. The first is refused, naming the row;
    the second is read, whatever its line endings."""
    head = "round,organisation,line,counterparty,month,value"
    huge = f"{head}\n2026-27,ZA1,F110,,1,{'9' * 200_000}\n".encode()
    response = upload(member, huge, "plan.csv")
    assert response.status_code == 422
    assert "Row 2 has a field longer than 131,072 characters" in problems_of(response)
    before = Value.objects.get(version__number=0, line__code="F110", month=1).value
    old_mac = f"{head}\r2026-27,ZA1,F110,,1,77\r".encode()
    assert upload(member, old_mac, "plan.csv").status_code == 302
    assert Value.objects.get(version__number=0, line__code="F110", month=1).value == 77 != before
