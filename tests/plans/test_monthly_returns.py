"""Monthly finance returns: reading the table, the positions, starting, saving, submitting,
uploads and the API. Real database; the files are real CSV and Excel."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from demo.synthetic import plan_cells
from openbook.errors import Conflict, ProblemList
from openbook.models import AuditEvent
from plans import monthly_returns, return_files
from plans.calculations import LineSpec, flatten
from plans.models import MonthlyReturn, PlanningRound, ReturnValue, Value
from plans.services.returns import (
    return_lines,
    return_save,
    return_start,
    return_submit,
    version_cells,
)
from tests.plans.conftest import submit_plan

D = Decimal
MONTHS = ["Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec", "Jan", "Feb", "Mar"]

# --- the pure part -----------------------------------------------------------------------------

SPECS = {
    "I": LineSpec("I", "Income", "gbp000", maximum=D(1000)),
    "C": LineSpec("C", "Costs", "gbp000"),
    "S": LineSpec("S", "Surplus", "gbp000", sign="any", formula=((1, "I"), (-1, "C"))),
}


def _rows(*lines):
    return [monthly_returns.header("2026-27", "ZA1", 3, 4)[0], ["Line", "Description", *MONTHS],
            *lines]  # fmt: skip


def _read(rows, month=3):
    return monthly_returns.read_table(
        rows, round_slug="2026-27", ods_code="ZA1", month=month, specs=SPECS,
        cell_name=lambda r, c: f"R{r}C{c}",
    )  # fmt: skip


def test_a_table_is_read_whole_with_its_revision():
    parsed = _read(_rows(["I", "Income", *[10] * 12], ["C", "Costs", *["8"] * 12],
                         ["S", "Surplus", *["ignored"] * 12]))  # fmt: skip
    assert parsed.problems == []
    assert parsed.revision == 4
    assert parsed.cells[("I", 1)] == D(10) and parsed.cells[("C", 12)] == D(8)
    assert ("S", 1) not in parsed.cells  # worked out, never read


def test_every_bad_cell_is_named():
    parsed = _read(_rows(["I", "Income", "ten", *[1] * 10, 5000], ["X", "Unknown"],
                         ["C", "Costs", -1], ["C", "Again"]))  # fmt: skip
    assert {(p["cell"], p["problem"]) for p in parsed.problems} == {
        ("R3C3", "is not a number"),
        ("R3C14", "must be at most 1,000"),
        ("R4C1", "is not a line of this return"),
        ("R5C3", "must be zero or more"),
        ("R6C1", "C appears twice (first in row 5)"),
    }


def test_a_file_for_another_return_is_refused_before_any_cell():
    parsed = _read(_rows(["I", "Income", 1]), month=4)
    assert len(parsed.problems) == 1
    assert "not the Jul return of ZA1" in parsed.problems[0]["problem"]


def test_position_worked_example():
    # Income 10 a month, costs 8 for the first quarter (actuals) then 11 (forecast):
    # year to date 3 × 2 = 6; outturn 6 + 9 × (−1) = −3.
    cells = {("I", m): D(10) for m in range(1, 13)}
    cells |= {("C", m): D(8) if m <= 3 else D(11) for m in range(1, 13)}
    pos = monthly_returns.position(cells, 3, flatten(list(SPECS.values())), surplus="S")
    assert (pos.year_to_date, pos.outturn) == (D(6), D(-3))


def test_missing_required_months_are_listed():
    assert monthly_returns.missing({("I", 1): D(1)}, ["I"]) == [
        "I (May, Jun, Jul, Aug, Sep, Oct, Nov, Dec, Jan, Feb, Mar)"
    ]


# --- services ----------------------------------------------------------------------------------


@pytest.fixture
def submitted_plan(world, plan_round):
    return submit_plan(world.org_a, plan_cells(plan_round, world.org_a), world.people["approver"])


@pytest.fixture
def april(world, submitted_plan):
    return return_start(actor=world.people["member"], plan_round=PlanningRound.objects.get(),
                        organisation=world.org_a, month=1)  # fmt: skip


def test_a_first_return_starts_from_the_plan(world, april, submitted_plan):
    plan_version = submitted_plan.versions.get(number=1)
    f100 = sum(v.value for v in Value.objects.filter(version=plan_version, line__code="F100",
                                                     month=5))  # fmt: skip
    cells = version_cells(april.versions.get(number=0))
    assert cells[("F100", 5)] == f100  # counterparties added together
    assert ("F900", 5) not in cells
    assert AuditEvent.objects.filter(action="return.started").exists()


def test_a_later_return_starts_from_the_last_submitted_one(world, april):
    cells = version_cells(april.versions.get(number=0))
    cells[("F110", 1)] = D("123.5")
    saved = return_save(actor=world.people["member"], monthly_return=april, cells=cells,
                        expected_revision=0)  # fmt: skip
    return_submit(actor=world.people["approver"], monthly_return=saved, expected_revision=1)
    may = return_start(actor=world.people["member"], plan_round=april.round,
                       organisation=world.org_a, month=2)  # fmt: skip
    assert version_cells(may.versions.get(number=0))[("F110", 1)] == D("123.5")


def test_a_save_on_an_old_revision_changes_nothing(world, april):
    cells = version_cells(april.versions.get(number=0))
    return_save(actor=world.people["member"], monthly_return=april, cells=cells,
                expected_revision=0)  # fmt: skip
    before = ReturnValue.objects.count()
    with pytest.raises(Conflict):
        return_save(actor=world.people["approver"], monthly_return=april, cells={},
                    expected_revision=0)  # fmt: skip
    assert ReturnValue.objects.count() == before


def test_submit_needs_every_month_of_required_lines(world, april):
    cells = version_cells(april.versions.get(number=0))
    del cells[("F100", 7)]
    return_save(actor=world.people["member"], monthly_return=april, cells=cells,
                expected_revision=0)  # fmt: skip
    with pytest.raises(ProblemList) as exc:
        return_submit(actor=world.people["approver"], monthly_return=april, expected_revision=1)
    assert exc.value.problems[0]["cell"] == "F100 (Oct)"
    assert not april.versions.filter(number__gt=0).exists()


def test_submitting_freezes_a_version_and_resubmission_adds_one(world, april):
    from django.core.exceptions import PermissionDenied, ValidationError

    with pytest.raises(PermissionDenied):
        return_submit(actor=world.people["member"], monthly_return=april, expected_revision=0)
    v1 = return_submit(actor=world.people["approver"], monthly_return=april, expected_revision=0)
    assert v1.number == 1
    with pytest.raises(ValidationError):
        return_submit(actor=world.people["approver"], monthly_return=april, expected_revision=0)
    cells = version_cells(april.versions.get(number=0))
    cells[("F120", 2)] = D(1)
    april = return_save(actor=world.people["member"], monthly_return=april, cells=cells,
                        expected_revision=0)  # fmt: skip
    assert april.status == MonthlyReturn.Status.DRAFT
    v2 = return_submit(actor=world.people["approver"], monthly_return=april, expected_revision=1)
    assert v2.number == 2
    assert version_cells(v1) != version_cells(v2)
    event = AuditEvent.objects.filter(action="return.submitted").last()
    assert event.payload["version"] == 2


# --- pages, files, API --------------------------------------------------------------------------


def _url(april, rest=""):
    return f"/rounds/{april.round.slug}/{april.organisation.ods_code}/returns/{april.month}/{rest}"


def test_an_excel_download_filled_in_and_uploaded_round_trips(world, april, client_for):
    client = client_for(world.people["member"])
    data = client.get(_url(april, "return.xlsx")).content
    wb = load_workbook(io.BytesIO(data))
    ws = wb.active
    row = next(r for r in range(3, ws.max_row + 1) if ws.cell(r, 1).value == "F120")
    # Excel checks each figure as it is typed, and the codes cannot be overwritten.
    assert ws.protection.sheet and ws.cell(row, 1).protection.locked
    assert not ws.cell(row, 3).protection.locked
    checked = [dv for dv in ws.data_validations.dataValidation if f"C{row}" in dv.sqref]
    assert [dv.type for dv in checked] == ["decimal"]
    ws.cell(row, 3).value = 77  # April
    out = io.BytesIO()
    wb.save(out)
    upload = io.BytesIO(out.getvalue())
    upload.name = "return.xlsx"
    response = client.post(_url(april, "upload/"), {"file": upload})
    assert response.status_code == 302
    assert version_cells(april.versions.get(number=0))[("F120", 1)] == D(77)


def test_the_csv_is_one_long_table_that_uploads_back(world, april, client_for):
    """A row per figure with named columns (csv.DictReader reads it as one table); filled
    in and uploaded, its figures are stored; mistakes are named by row."""
    import csv

    client = client_for(world.people["member"])
    text = client.get(_url(april, "return.csv")).content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    lines = [line for line in return_lines(april.round, world.org_a.kind).lines
             if not line.formula]  # fmt: skip
    assert len(rows) == 12 * len(lines)
    first = rows[0]
    assert first.keys() == {"round", "organisation", "return_month", "revision", "line",
                            "description", "unit", "month", "month_name", "value"}  # fmt: skip
    assert (first["round"], first["organisation"], first["return_month"]) == (
        april.round.slug, world.org_a.ods_code, "Apr")  # fmt: skip
    assert {r["unit"] for r in rows if r["line"] == "F120"} == {"£000"}
    assert [r["month_name"] for r in rows if r["line"] == "F120"][:2] == ["Apr", "May"]

    for row in rows:
        if row["line"] == "F120":
            row["value"] = str(row["month"])  # 1 in April … 12 in March

    def upload(these, columns=None):
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=columns or list(rows[0]))
        writer.writeheader()
        writer.writerows(these)
        data = io.BytesIO(out.getvalue().encode())
        data.name = "return.csv"
        return client.post(_url(april, "upload/"), {"file": data})

    assert upload(rows).status_code == 302
    stored = version_cells(april.versions.get(number=0))
    assert [stored[("F120", m)] for m in range(1, 13)] == [D(m) for m in range(1, 13)]

    twice = [*rows, {**rows[0], "value": "9"}]
    refused = upload(twice)
    assert refused.status_code == 422
    assert f"{rows[0]['line']} month 1 appears twice (first in row 2)" in (
        refused.content.decode())  # fmt: skip
    elsewhere = [{**row, "organisation": "ZZZ99"} for row in rows]
    assert "this is not the Apr return" in upload(elsewhere).content.decode()
    # Filtered to one line, it would empty the others: refused, saying why.
    filtered = upload([row for row in rows if row["line"] == "F120"])
    assert filtered.status_code == 422 and "Was it filtered?" in filtered.content.decode()
    formula = upload([{**row, "value": "=1+1"} if row["line"] == "F120" else row for row in rows])
    assert "is a formula; enter the figure itself" in formula.content.decode()
    assert version_cells(april.versions.get(number=0)) == stored
    # Columns in another order, the descriptive ones left out: read by name.
    rows = [{k: v for k, v in row.items() if k not in ("description", "unit", "month_name")}
            for row in rows]  # fmt: skip
    for row in rows:
        if row["line"] == "F120":
            row["value"] = str(int(row["month"]) * 2)
    reordered = upload(rows, columns=sorted(rows[0], reverse=True))
    assert reordered.status_code == 302, reordered.content.decode()[:2000]
    again = version_cells(april.versions.get(number=0))
    assert [again[("F120", m)] for m in range(1, 13)] == [D(2 * m) for m in range(1, 13)]


def test_a_bad_upload_names_the_cell_and_stores_nothing(world, april, client_for):
    client = client_for(world.people["member"])
    rows = list(__import__("csv").reader(io.StringIO(
        client.get(_url(april, "return.csv")).content.decode("utf-8-sig"))))  # fmt: skip
    target = next(i for i, r in enumerate(rows) if r[4] == "F120" and r[7] == "3")  # June
    rows[target][9] = "lots"
    before = version_cells(april.versions.get(number=0))
    upload = io.BytesIO(return_files.csv_bytes(rows))
    upload.name = "return.csv"
    response = client.post(_url(april, "upload/"), {"file": upload})
    assert response.status_code == 422
    assert f"row {target + 1}, column 10" in response.content.decode()
    assert version_cells(april.versions.get(number=0)) == before


def test_an_upload_from_before_someone_elses_save_is_refused(world, april, client_for):
    client = client_for(world.people["member"])
    data = client.get(_url(april, "return.csv")).content
    return_save(actor=world.people["approver"], monthly_return=april, cells={},
                expected_revision=0)  # fmt: skip
    upload = io.BytesIO(data)
    upload.name = "return.csv"
    response = client.post(_url(april, "upload/"), {"file": upload})
    assert response.status_code == 422
    assert version_cells(april.versions.get(number=0)) == {}
    upload.seek(0)
    response = client.post(_url(april, "upload/"), {"file": upload, "replace": "yes"})
    assert response.status_code == 302
    assert version_cells(april.versions.get(number=0)) != {}


def test_the_same_person_can_fix_and_upload_a_return_again(world, april, client_for):
    """Uploaded, then fixed and uploaded again: not stale while nobody else saved in between."""
    client = client_for(world.people["member"])
    rows = list(__import__("csv").reader(io.StringIO(
        client.get(_url(april, "return.csv")).content.decode("utf-8-sig"))))  # fmt: skip
    target = next(i for i, r in enumerate(rows) if r[4] == "F120" and r[7] == "1")  # April

    def upload(value):
        rows[target][9] = value
        data = io.BytesIO(return_files.csv_bytes(rows))
        data.name = "return.csv"
        return client.post(_url(april, "upload/"), {"file": data})

    assert upload("10").status_code == 302
    assert upload("11").status_code == 302
    assert version_cells(april.versions.get(number=0))[("F120", 1)] == D(11)
    april.refresh_from_db()
    return_save(actor=world.people["approver"], monthly_return=april,
                cells=version_cells(april.versions.get(number=0)),
                expected_revision=april.revision)  # fmt: skip
    assert upload("12").status_code == 422
    assert version_cells(april.versions.get(number=0))[("F120", 1)] == D(11)


def test_the_grid_keeps_what_was_typed_when_a_figure_is_wrong(world, april, client_for):
    client = client_for(world.people["member"])
    lines = return_lines(april.round, world.org_a.kind)
    form = {"revision": "0"}
    for line in lines.inputs:
        for m in range(1, 13):
            form[f"c-{line.code}-{m}"] = "1"
    form["c-F120-3"] = "-5"
    response = client.post(_url(april), form)
    assert response.status_code == 422
    body = response.content.decode()
    assert "F120, Jun: “-5” must be zero or more" in body
    assert 'value="-5"' in body
    form["c-F120-3"] = "5"
    assert client.post(_url(april), form).status_code == 302
    assert version_cells(april.versions.get(number=0))[("F120", 3)] == D(5)


def test_partners_see_submitted_returns_only(world, april, client_for):
    partner = client_for(world.people["partner"])
    assert partner.get(_url(april)).status_code == 404
    return_submit(actor=world.people["approver"], monthly_return=april, expected_revision=0)
    response = partner.get(_url(april))
    assert response.status_code == 200
    assert "Version 1" in response.content.decode()
    assert partner.get(_url(april) + "?version=0").status_code == 404


def test_api_put_is_all_or_nothing_and_checks_the_revision(world, april, client_for):
    client = client_for(world.people["member"])
    url = f"/api/v1/rounds/{april.round.slug}/returns/{world.org_a.ods_code}/1/"
    bad = {"revision": 0, "values": [{"line": "F110", "month": 1, "value": "4"},
                                     {"line": "F110", "month": 2, "value": "four"}]}  # fmt: skip
    response = client.put(url, bad, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["problems"][0]["cell"] == "F110, May"
    assert april.versions.get(number=0).values.filter(line__code="F110", month=1).get().value != 4
    good = {"revision": 0, "values": [{"line": "F110", "month": m, "value": "4"}
                                      for m in range(1, 13)]}  # fmt: skip
    assert client.put(url, good, content_type="application/json").json()["revision"] == 1
    assert client.put(url, good, content_type="application/json").status_code == 409
    shown = client.get(url).json()
    assert shown["revision"] == 1 and len(shown["values"]) == 12
    assert shown["values"][0]["kind"] == "actual" and shown["values"][1]["kind"] == "forecast"


def test_a_return_csv_the_csv_module_cannot_read_gets_a_message(world, april, client_for):
    """A field over the csv module's limit is refused naming the row, nothing stored; bare
    CR line endings are read like any others."""
    client = client_for(world.people["member"])
    text = client.get(_url(april, "return.csv")).content.decode("utf-8-sig")
    before = version_cells(april.versions.get(number=0))
    huge = io.BytesIO((text.rstrip("\r\n") + "," + "9" * 200_000 + "\r\n").encode())
    huge.name = "return.csv"
    response = client.post(_url(april, "upload/"), {"file": huge})
    assert response.status_code == 422
    assert "has a field longer than 131,072 characters" in response.content.decode()
    assert version_cells(april.versions.get(number=0)) == before
    old_mac = io.BytesIO(text.replace("\r\n", "\r").replace("\n", "\r").encode())
    old_mac.name = "return.csv"
    assert client.post(_url(april, "upload/"), {"file": old_mac}).status_code == 302


def test_a_reply_to_a_comment_that_is_not_a_number_is_not_found(world, client_for):
    """`parent=abc` was a server error; it names no comment, so it is 404, and nothing is
    stored."""
    from plans.models import Comment
    from tests.isolation import _plans_submitted

    _plans_submitted(world)
    client = client_for(world.people["member"])
    for parent in ("abc", "1.5", "\uff11", "-1"):
        response = client.post("/rounds/2026-27/ZA1/comments/",
                               {"body": "A reply", "parent": parent})  # fmt: skip
        assert response.status_code == 404, parent
    assert not Comment.objects.filter(body="A reply").exists()
