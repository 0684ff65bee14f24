"""Table sections: efficiency and capital schemes listed one by one, adding up to the lines
they feed, through the page, the Excel round trip, the API and submission."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from rest_framework.test import APIClient

from openbook.audit import AuditEvent
from openbook.errors import Conflict, ProblemList
from plans import selectors
from plans.cells import CellInput
from plans.models import TableRow, Value, Version
from plans.services import (
    CURRENT_TEMPLATE,
    draft_save,
    submission_start,
    table_save,
    template_load,
)
from plans.services.templates import _read
from plans.table_selectors import spec_of, table_sections, version_rows
from plans.tables import RowInput, TableSpec, check_rows, fingerprint, totals
from plans.template_definition import DefinitionError, based_on, normalise
from tests.plans.conftest import make_round

D = Decimal


def scheme(name="Theatre lists", category="Clinical productivity", recurrence="Recurrent",
           cost_type="Pay", risk="Medium", amount="100"):  # fmt: skip
    return RowInput(
        {"name": name, "category": category, "recurrence": recurrence, "cost_type": cost_type,
         "risk": risk},
        dict.fromkeys(range(1, 13), amount),
    )  # fmt: skip


def _spec() -> TableSpec:
    definition = normalise(_read(CURRENT_TEMPLATE))
    section = next(s for s in definition["sections"] if s["code"] == "efficiency_schemes")
    return TableSpec.of(section["code"], section["name"], section["table"])


# --- the definition -----------------------------------------------------------------------------


def test_version_3_is_version_2_with_scheme_lists_feeding_its_efficiency_and_capital():
    """…and a bridge from last year, with figures the round's owner provides
    (tests/plans/test_provided.py)."""
    definition = normalise(_read(CURRENT_TEMPLATE))
    assert definition["version"] == 3
    codes = [s["code"] for s in definition["sections"]]
    assert codes[:6] == ["finance", "bridge", "efficiency", "efficiency_schemes", "capital",
                         "capital_schemes"]  # fmt: skip
    fed = {
        line["code"]: line["fed_by"]
        for s in definition["sections"]
        for line in s["lines"]
        if line.get("fed_by")
    }
    assert fed == {"EFRP": "efficiency_schemes", "EFRN": "efficiency_schemes",
                   "EFNP": "efficiency_schemes", "EFNN": "efficiency_schemes",
                   "CAPEST": "capital_schemes", "CAPMED": "capital_schemes",
                   "CAPIT": "capital_schemes", "CAPLEA": "capital_schemes",
                   "CAPOTH": "capital_schemes"}  # fmt: skip
    efficiency = definition["sections"][2]
    assert "efficiency schemes added up" in efficiency["guidance"]
    assert [line["code"] for line in efficiency["lines"]][-1] == "EFTOT"  # lines kept


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"totals": [{"line": "NOPE", "where": {"recurrence": "Recurrent"}}]}, "no line NOPE"),
        ({"totals": [{"line": "EFRP", "where": {"recurrence": "Sometimes"}}]},
         "recurrence has no choice 'Sometimes'"),
        ({"totals": [{"line": "EFTOT", "where": {}}]}, "an entered £000 line"),
        ({"columns": [{"code": "kind", "label": "Kind", "choices": ["A"]}]},
         "first column is the row's name"),
        ({"rows_max": 0}, "rows_max is 1 to 500"),
        ({"lines": [{"code": "X", "label": "X", "unit": "gbp000"}]}, "not lines"),
    ],
)  # fmt: skip
def test_a_table_s_definition_is_checked(change, problem):
    data = _read(CURRENT_TEMPLATE)
    section = next(s for s in data["sections"] if s["code"] == "efficiency_schemes")
    section.update(change)
    with pytest.raises(DefinitionError, match=problem):
        normalise(data)


def test_based_on_changes_only_what_it_names():
    base = {"code": "t", "name": "T", "version": 1,
            "sections": [{"code": "a", "name": "A", "guidance": "old", "lines": [1]},
                         {"code": "b", "name": "B"}]}  # fmt: skip
    new = based_on({"version": 2, "drop": ["b"],
                    "sections": [{"code": "a", "guidance": "new"},
                                 {"code": "c", "name": "C", "after": "a"}]}, base)  # fmt: skip
    assert new["version"] == 2 and new["name"] == "T"
    assert new["sections"] == [{"code": "a", "name": "A", "guidance": "new", "lines": [1]},
                               {"code": "c", "name": "C"}]  # fmt: skip
    with pytest.raises(DefinitionError, match="no section z to follow"):
        based_on({"sections": [{"code": "d", "after": "z"}]}, base)


# --- the rows, pure -----------------------------------------------------------------------------


def test_rows_are_checked_and_each_problem_names_its_cell():
    spec = _spec()
    rows, problems = check_rows(
        spec,
        [
            scheme(),
            RowInput({}, {}, name="Row 2"),  # blank: left out
            RowInput({"name": "Drugs", "category": "medicines", "recurrence": "Recurrent",
                      "cost_type": "Pay", "risk": "Low"}, {1: "-5", 2: "1,2,3"},
                     name="Row 3"),
            RowInput({"name": "", "category": "Magic"}, {}, name="Row 4"),
        ],
    )  # fmt: skip
    assert rows == []
    named = {(p["cell"], p["problem"]) for p in problems}
    assert ("Row 3, Apr", "must be zero or more") in named
    assert any(cell == "Row 3, May" for cell, _ in named)
    assert ("Row 4, Scheme", "give it a name") in named
    assert ("Row 4, Category", "choose one of: " + ", ".join(spec.columns[1].choices)) in named
    assert ("Row 4, Recurrence", "choose Recurrent or Non-recurrent") in named
    assert not any(cell.startswith("Row 2") for cell, _ in named)
    # A choice is matched whatever its case, and kept as the template spells it.
    ok, none = check_rows(spec, [scheme(category="MEDICINES", cost_type="non-pay")])
    assert none == [] and ok[0].fields["category"] == "Medicines"
    assert ok[0].fields["cost_type"] == "Non-pay"


def test_too_many_rows_are_refused_whole():
    spec = _spec()
    _, problems = check_rows(spec, [scheme(name=f"S{i}") for i in range(spec.rows_max + 1)])
    assert problems[0]["problem"] == f"has room for {spec.rows_max} rows at most"


_amount = st.decimals(min_value=0, max_value=50000, places=3, allow_nan=False)
_row = st.tuples(
    st.sampled_from(["Recurrent", "Non-recurrent"]),
    st.sampled_from(["Pay", "Non-pay"]),
    st.lists(_amount, min_size=12, max_size=12),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(_row, max_size=12))
def test_every_scheme_lands_in_exactly_one_efficiency_line(drawn):
    """Recurrence × pay or non-pay covers every scheme once: the four lines add up to the
    schemes to the penny, month by month."""
    spec = _spec()
    incoming = [
        scheme(recurrence=r, cost_type=c) for r, c, _ in drawn
    ]  # fmt: skip
    for row, (_, _, amounts) in zip(incoming, drawn, strict=True):
        row.amounts = dict(enumerate(amounts, start=1))
    rows, problems = check_rows(spec, incoming)
    assert problems == []
    sums = totals(spec, rows)
    for month in range(12):
        assert sum(line[month] for line in sums.values()) == sum(
            (amounts[month] for _, _, amounts in drawn), D(0)
        )
    assert fingerprint(rows) == fingerprint(list(rows))


# --- saving -------------------------------------------------------------------------------------


@pytest.fixture
def round_v3(world):
    version, _ = template_load(path=CURRENT_TEMPLATE)
    return make_round(template_version=version)


@pytest.fixture
def draft(world, round_v3):
    return submission_start(
        actor=world.people["member"], plan_round=round_v3, organisation=world.org_a
    )


def _fed(submission, code):
    draft = submission.versions.get(number=0)
    return [
        v
        for _, v in sorted(
            Value.objects.filter(version=draft, line__code=code).values_list("month", "value")
        )
    ]


@pytest.mark.django_db
def test_saving_schemes_writes_the_lines_they_feed_in_one_audited_edit(world, draft):
    member = world.people["member"]
    result = table_save(actor=member, submission=draft, section_code="efficiency_schemes",
                        rows=[scheme(amount="100"), scheme(name="Agency", cost_type="Non-pay",
                                                           amount="20.5")],
                        started=fingerprint([]))  # fmt: skip
    assert result.changed == 2 and result.revision == 1
    assert _fed(draft, "EFRP") == [D("100")] * 12
    assert _fed(draft, "EFRN") == [D("20.5")] * 12
    assert _fed(draft, "EFNP") == [D(0)] * 12  # the schemes say there is none
    event = AuditEvent.objects.filter(action="draft.table_saved").get()
    assert event.payload["rows"] == 2 and event.payload["year_total"] == "1446"
    # The draft's history has the fed lines' changes, as any edit's.
    history = selectors.draft_changes(member, draft).filter(line__code="EFRP")
    assert history.count() == 12
    # Typing into a fed line is refused, naming where it comes from.
    with pytest.raises(ProblemList) as refused:
        draft_save(actor=member, submission=draft, cells=[CellInput("EFRP", 1, "5")])
    assert "efficiency schemes added up" in refused.value.problems[0]["problem"]
    # Emptying the table empties its lines.
    table_save(actor=member, submission=draft, section_code="efficiency_schemes", rows=[],
               started=None)  # fmt: skip
    assert _fed(draft, "EFRP") == [] and not TableRow.objects.exists()


@pytest.mark.django_db
def test_a_stale_or_bad_table_is_refused_and_nothing_is_saved(world, draft):
    member = world.people["member"]
    table_save(actor=member, submission=draft, section_code="efficiency_schemes",
               rows=[scheme()], started=None)  # fmt: skip
    stale = fingerprint([])
    with pytest.raises(Conflict, match="Someone else changed the efficiency schemes"):
        table_save(actor=member, submission=draft, section_code="efficiency_schemes",
                   rows=[scheme(amount="5")], started=stale)  # fmt: skip
    with pytest.raises(ProblemList):
        table_save(actor=member, submission=draft, section_code="efficiency_schemes",
                   rows=[scheme(amount="5"), scheme(risk="Huge")], started=None)  # fmt: skip
    assert _fed(draft, "EFRP") == [D("100")] * 12
    assert Version.objects.get(submission=draft, number=0).revision == 1


@pytest.mark.django_db
def test_submitting_keeps_the_schemes_with_the_version(world, draft):
    from demo.synthetic import plan_cells
    from plans.services import narrative_save, submission_submit

    approver = world.people["approver"]
    draft_save(actor=approver, submission=draft, cells=plan_cells(draft.round, world.org_a))
    table_save(actor=approver, submission=draft, section_code="capital_schemes",
               rows=[RowInput({"name": "CT scanner", "asset_type": "Medical equipment",
                               "funding": "Operational capital"}, {6: "1200"})],
               started=None)  # fmt: skip
    narrative_save(actor=approver, submission=draft, section_code="summary", text="Plan")
    import datetime as dt

    submission_submit(actor=approver, submission=draft, board_approval_date=dt.date.today(),
                      confirmed=True)  # fmt: skip
    first = draft.versions.get(number=1)
    section = table_sections(draft.round.template_version_id, "acute")[1]
    assert version_rows(first, section)[0].fields["name"] == "CT scanner"
    assert first.year_totals.totals  # the fed capital line is in the year totals
    cells = selectors.version_cells(first)
    assert cells[("CAPMED", None, 6)] == D("1200")


# --- the page -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_page_adds_changes_and_removes_schemes(world, draft, client):
    client.force_login(world.people["member"])
    url = "/rounds/2026-27/ZA1/tables/efficiency_schemes/"
    page = client.get(url)
    assert page.status_code == 200 and b"No schemes are listed" not in page.content
    form = {"rows": "2", "started": fingerprint([]),
            "r1-name": "Theatre lists", "r1-category": "Clinical productivity",
            "r1-recurrence": "Recurrent", "r1-cost_type": "Pay", "r1-risk": "Low",
            **{f"r1-m{m}": "10" for m in range(1, 13)},
            "r2-name": "Biosimilars", "r2-category": "Medicines", "r2-m1": "abc"}  # fmt: skip
    refused = client.post(url, form)
    assert refused.status_code == 422
    text = refused.content.decode()
    assert "Row 2, Apr: “abc” is not a number" in text
    assert 'href="#r2-m1"' in text and 'value="Theatre lists"' in text  # typed, kept
    assert not TableRow.objects.exists()
    form |= {"r2-m1": "5", "r2-recurrence": "Non-recurrent", "r2-cost_type": "Non-pay",
             "r2-risk": "High"}  # fmt: skip
    assert client.post(url, form).status_code == 302
    assert _fed(draft, "EFNN")[0] == D(5) and _fed(draft, "EFRP")[0] == D(10)
    shown = client.get(url).content.decode()
    assert "Biosimilars" in shown and 'id="by-risk"' in shown
    rows = version_rows(draft.versions.get(number=0), table_sections(
        draft.round.template_version_id, "acute")[0])  # fmt: skip
    removed = {**form, "started": fingerprint(rows), "r2-remove": "1"}
    assert client.post(url, removed).status_code == 302
    assert TableRow.objects.count() == 1 and _fed(draft, "EFNN")[0] == D(0)
    # Someone else's change in between: refused, and the typed rows stay in the form.
    again = client.post(url, {**removed, "r1-m1": "99"})
    assert again.status_code == 422
    assert "Someone else changed the efficiency schemes" in again.content.decode()
    # The efficiency grid shows the fed lines as worked out, linked to the schemes.
    grid = client.get("/rounds/2026-27/ZA1/sections/efficiency/").content.decode()
    assert 'href="/rounds/2026-27/ZA1/tables/efficiency_schemes/"' in grid
    assert 'name="v:EFRP::1"' not in grid


# --- Excel and the API --------------------------------------------------------------------------


@pytest.mark.django_db
def test_schemes_round_trip_through_excel(world, draft, client):
    member = world.people["member"]
    table_save(actor=member, submission=draft, section_code="efficiency_schemes",
               rows=[scheme(), scheme(name="=cmd|' /C calc'!A0", amount="7.125")],
               started=None)  # fmt: skip
    client.force_login(member)
    data = client.get("/rounds/2026-27/ZA1/download.xlsx").content
    wb = load_workbook(io.BytesIO(data))
    ws = wb["Efficiency schemes"]
    assert ws["A5"].value == "Theatre lists" and ws["A6"].value.startswith("'=")  # neutralised
    assert ws["F5"].value == D(100) or ws["F5"].value == 100
    before = selectors.version_cells(draft.versions.get(number=0))

    def upload(book):
        out = io.BytesIO()
        book.save(out)
        out.seek(0)
        out.name = "plan.xlsx"
        return client.post("/rounds/2026-27/ZA1/upload/", {"file": out})

    assert upload(wb).status_code == 302  # unchanged: stored as it was
    draft_now = draft.versions.get(number=0)
    assert selectors.version_cells(draft_now) == before
    assert [r.fields["name"] for r in version_rows(draft_now, _section(draft))] == [
        "Theatre lists", "=cmd|' /C calc'!A0"]  # fmt: skip
    # A scheme added in Excel, with a choice that is not one: refused, naming the cell.
    ws["A7"], ws["B7"], ws["C7"], ws["D7"], ws["E7"] = (
        "Procurement hub",
        "Procurement",
        "Recurrent",
        "Non-pay",
        "Certain",
    )
    ws["F7"] = 12
    refused = upload(wb)
    assert "Efficiency schemes!E7" in refused.content.decode()
    ws["E7"], ws["A7"] = "Low", '=B8&" phase 2"'
    formula = upload(wb).content.decode()
    assert "Efficiency schemes!A7" in formula and "is a formula" in formula
    ws["A7"] = "Procurement hub"
    assert upload(wb).status_code == 302
    assert _fed(draft, "EFRN")[0] == D(12)


def _section(submission):
    return table_sections(submission.round.template_version_id, "acute")[0]


@pytest.mark.django_db
def test_schemes_through_the_api(world, draft):
    api = APIClient()
    api.force_authenticate(world.people["member"])
    url = "/api/v1/rounds/2026-27/submissions/ZA1/draft/tables/efficiency_schemes/"
    empty = api.get(url).json()
    assert empty["rows"] == []
    row = {"fields": {"name": "Lists", "category": "Other", "recurrence": "Recurrent",
                      "cost_type": "Pay", "risk": "Low"}, "amounts": [1] * 11 + ["2.5"]}  # fmt: skip
    put = api.put(url, {"rows": [row], "started": empty["fingerprint"]}, format="json")
    assert put.status_code == 200 and put.json()["changed"] == 1
    read = api.get(url).json()
    assert read["rows"][0]["amounts"][-1] == "2.500"
    stale = api.put(url, {"rows": [], "started": empty["fingerprint"]}, format="json")
    assert stale.status_code == 409
    bad = api.put(url, {"rows": [{**row, "amounts": ["x"] * 12}]}, format="json")
    assert bad.status_code in (400, 422)
    assert "Row 1, Apr" in str(bad.json())
    version = api.get("/api/v1/rounds/2026-27/submissions/ZA1/versions/0/").json()
    assert version["tables"]["efficiency_schemes"][0]["fields"]["name"] == "Lists"
    assert api.get(url.replace("efficiency_schemes", "nope")).status_code == 404
    assert spec_of(_section(draft)).rows_max == 200


@pytest.mark.django_db
def test_a_long_list_saves_and_a_form_not_sent_whole_removes_nothing(world, draft, client):
    """Two hundred schemes are 3,400 fields in one form; a form without its row count is
    refused rather than read as no rows (which would remove every scheme)."""
    client.force_login(world.people["member"])
    url = "/rounds/2026-27/ZA1/tables/efficiency_schemes/"
    form = {"rows": "200", "started": fingerprint([])}
    for n in range(1, 201):
        form |= {f"r{n}-name": f"Scheme {n}", f"r{n}-category": "Procurement",
                 f"r{n}-recurrence": "Recurrent", f"r{n}-cost_type": "Non-pay",
                 f"r{n}-risk": "Low", **{f"r{n}-m{m}": "1" for m in range(1, 13)}}  # fmt: skip
    assert client.post(url, form).status_code == 302
    assert TableRow.objects.count() == 200 and _fed(draft, "EFRN")[0] == D(200)
    rows = version_rows(draft.versions.get(number=0), _section(draft))
    cut = {k: v for k, v in form.items() if k != "rows"} | {"started": fingerprint(rows)}
    assert client.post(url, cut).status_code == 422
    assert TableRow.objects.count() == 200


@pytest.mark.django_db
def test_schemes_adding_up_past_their_line_s_limit_are_refused(world, draft):
    big = [scheme(name=f"S{i}", amount="40000") for i in range(3)]  # EFRP's most is 100,000
    with pytest.raises(ProblemList) as refused:
        table_save(actor=world.people["member"], submission=draft,
                   section_code="efficiency_schemes", rows=big, started=None)  # fmt: skip
    problem = refused.value.problems[0]
    assert problem["cell"] == "EFRP Recurrent efficiency – pay, Apr"
    assert "must be at most 100,000" in problem["problem"]
    assert not TableRow.objects.exists()
