"""An upload's work is bounded before its cells are read: a sheet reaching far past its
template, a sheet part too large to be a plan, a CSV longer than the plan, are each refused
with one clear message, and a long list of problems is cut at 200 with the count."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from openpyxl import load_workbook

from plans.excel.layout import FIRST_MONTH_COL, FIRST_ROW
from plans.models import Value, Version
from tests.plans.api.test_api import api, put_values
from tests.plans.excel.test_excel import download, filled, member, problems_of, upload

pytestmark = pytest.mark.django_db
__all__ = ["filled", "member"]  # fixtures, used by name

FINANCE = 1  # the first grid sheet, after the instructions


@pytest.fixture(autouse=True)
def _inline(settings):
    """Checked in the web process, as small files are (tests/plans/services/test_upload_worker.py has
    the large ones, which the worker checks the same way)."""
    settings.PLAN_UPLOAD_INLINE_BYTES = settings.PLAN_UPLOAD_MAX_BYTES


def _saved(wb) -> bytes:
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def with_rows_below(data: bytes, rows: int) -> bytes:
    """The workbook with `rows` junk rows added below the first grid sheet's template."""
    wb = load_workbook(io.BytesIO(data))
    ws = wb.worksheets[FINANCE]
    for _ in range(rows):
        ws.append(["X", "junk"])
    return _saved(wb)


def _draft_state():
    draft = Version.objects.get(number=0)
    return draft.revision, Value.objects.filter(version=draft).count()


def test_a_sheet_reaching_far_below_its_template_is_refused_unread(member, filled):
    """Before the bound, each junk row was read and listed: 5,000 problems (and 380,000 junk
    rows took the web process 12 s). Now the sheet's size is refused before its cells."""
    before = _draft_state()
    response = upload(member, with_rows_below(download(member), 5000))
    assert response.status_code == 422
    text = problems_of(response)
    assert re.search(r"The sheet “Finance [^”]*” goes down to row 5,0\d\d, but its template "
                     r"ends at row \d+, so it was not read", text)  # fmt: skip
    assert "not in the template" not in text
    assert _draft_state() == before


def test_a_sheet_hiding_how_far_it_reaches_is_read_no_further(member, filled):
    """A sheet whose <dimension> claims the template's own size is read only to the spare
    rows, and refused for what it holds there."""
    data = with_rows_below(download(member), 300)
    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            body = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet2.xml":
                body = re.sub(rb'<dimension ref="[^"]+"', b'<dimension ref="A1:Q10"', body)
            target.writestr(item, body)
    response = upload(member, out.getvalue())
    assert response.status_code == 422
    text = problems_of(response)
    assert "has something in row" in text and "far below its template" in text


def test_blank_rows_inserted_between_lines_are_read_past(member, filled):
    wb = load_workbook(io.BytesIO(download(member)))
    wb.worksheets[FINANCE].insert_rows(8, amount=5)
    response = upload(member, _saved(wb))
    assert response.status_code == 302, problems_of(response)


def test_a_sheet_too_large_to_be_a_plan_is_refused_unopened(member, filled, settings):
    settings.PLAN_UPLOAD_MAX_SHEET_BYTES = 100_000  # the largest plan sheet is about 35 kB
    response = upload(member, with_rows_below(download(member), 3000))
    assert response.status_code == 422
    assert "holds far more cells than a plan or return can" in problems_of(response)


def test_a_csv_longer_than_the_plan_is_refused_unread(member, filled):
    header = "round,organisation,line,counterparty,month,value\n"
    data = (header + "2026-27,ZA1,NOPE,,1,1\n" * 20_000).encode()
    response = upload(member, data, "plan.csv")
    assert response.status_code == 422
    text = problems_of(response)
    assert re.search(r"The CSV file has more than [\d,]+ rows; this plan has [\d,]+ figures", text)
    assert "NOPE" not in text


def test_a_return_longer_than_the_return_is_refused_unread(client, world, plan_round):
    from plans.services.returns import return_start

    return_start(actor=world.people["member"], plan_round=plan_round, organisation=world.org_a,
                 month=1)  # fmt: skip
    client.force_login(world.people["member"])
    f = io.BytesIO(b"x,y\n" * 50_000)
    f.name = "return.csv"
    response = client.post("/rounds/2026-27/ZA1/returns/1/upload/", {"file": f})
    assert response.status_code == 422
    assert "The CSV file has more than " in problems_of(response)
    assert "rows; this return has at most" in problems_of(response)


def test_the_problem_list_stops_at_200_and_says_how_many(member, filled):
    """Before, every problem was listed (a 1.2 MB file made a 27.5 MB page)."""
    wb = load_workbook(io.BytesIO(download(member)))
    bad = 0
    for ws in wb.worksheets[1:]:
        for row in ws.iter_rows(min_row=FIRST_ROW, min_col=FIRST_MONTH_COL,
                                max_col=FIRST_MONTH_COL + 11):  # fmt: skip
            for cell in row:
                if cell.protection.locked is False:
                    cell.value = "lots"
                    bad += 1
    assert bad > 200
    response = upload(member, _saved(wb))
    assert response.status_code == 422
    text = problems_of(response)
    assert f"The first 200 of the {bad} problems are listed" in text
    table = text[text.index('id="upload-problems"') :]
    assert table.count('<tr class="nhsuk-table__row">') == 200


def test_the_api_lists_the_first_200_problems_and_counts_them_all(world, plan_round):
    values = [{"line": "F110", "month": 1 + i % 12, "value": "lots"} for i in range(240)]
    response = put_values(api(world.people["member"]), values)
    assert response.status_code == 400
    error = response.json()["error"]
    assert len(error["problems"]) == 200 and error["problem_count"] == 240


def test_a_sheet_reaching_far_across_is_refused_unread(member, filled):
    wb = load_workbook(io.BytesIO(download(member)))
    wb.worksheets[FINANCE]["BZ6"] = "notes"
    response = upload(member, _saved(wb))
    assert response.status_code == 422
    assert "goes across to column BZ, but its template ends at column Q" in problems_of(response)


def _with_part(data: bytes, name: str, body: bytes) -> bytes:
    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            target.writestr(item, source.read(item.filename))
        target.writestr(name, body)
    return out.getvalue()


def test_a_large_part_under_any_name_is_refused_unopened(member, filled, settings):
    """A workbook names its parts as it likes (openpyxl finds the shared text through the
    content types): every part is bounded, not only those at the usual names."""
    settings.PLAN_UPLOAD_MAX_SHEET_BYTES = 100_000
    strings = ("<sst>" + "".join(f"<si><t>{i * 7919 % 100003} cell {i}</t></si>"
                                 for i in range(8000)) + "</sst>").encode()  # fmt: skip
    response = upload(member, _with_part(download(member), "xl/strings.xml", strings))
    assert response.status_code == 422
    assert "holds far more cells than a plan or return can" in problems_of(response)


def test_a_small_workbook_that_unpacks_large_is_left_to_the_worker(member, filled, settings):
    from plans.models import Upload

    data = download(member)
    settings.PLAN_UPLOAD_INLINE_BYTES = len(data) + 1  # small, but unpacks to far more
    response = upload(member, data)
    assert response.status_code == 302 and "/upload/" in response["Location"]
    assert Upload.objects.get().state == Upload.State.WAITING


def test_a_problem_quotes_only_the_start_of_what_was_found(member, filled):
    data = "round,organisation,line,counterparty,month,value\n2026-27,ZA1," + "L" * 5000 + ",,1,1\n"
    response = upload(member, data.encode(), "plan.csv")
    assert response.status_code == 422
    text = problems_of(response)
    assert "there is no line LLLL" in text and "L…" in text and "L" * 240 not in text


def test_a_control_totals_file_longer_than_the_system_is_refused_unread(world):
    from tests.plans.conftest import make_round

    plan_round = make_round()
    url = f"/api/v1/rounds/{plan_round.slug}/systems/s1/control-totals/import/"
    reviewer = api(world.people["reviewer"])
    refused = reviewer.post(url, {"csv": "organisation,control_total\n" + "ZA1,3\n" * 500},
                            format="json")  # fmt: skip
    assert refused.status_code == 400
    assert "The file has more than 104 rows" in refused.json()["error"]["message"]
    too_big = reviewer.post(url, {"csv": "organisation,control_total\nZA1," + "9" * 1_000_001},
                            format="json")  # fmt: skip
    assert too_big.status_code == 400  # by the service's limit, or the field's
