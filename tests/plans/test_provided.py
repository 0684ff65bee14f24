"""Figures the round's owner provides (last year's outturn, allocations), and the bridge from
last year's outturn to this year's plan."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from openpyxl import load_workbook
from rest_framework.test import APIClient

from openbook.audit import AuditEvent
from openbook.errors import ProblemList
from plans import selectors
from plans.bridge import bridge_steps, chart_items
from plans.cells import CellInput
from plans.models import DraftEdit, ProvidedFigure, Value
from plans.services import CURRENT_TEMPLATE, draft_save, submission_start, template_load
from plans.services.provided import ProvidedInput, provided_save
from plans.services.templates import _read
from plans.template_definition import DefinitionError, normalise
from tests.plans.conftest import make_round

D = Decimal


def _lyfot(ods="ZA1", value="-100", months=range(1, 13)):
    return [ProvidedInput(ods, "LYFOT", m, value, where=f"row {m + 1}") for m in months]


@pytest.fixture
def round_v3(world):
    version, _ = template_load(path=CURRENT_TEMPLATE)
    return make_round(template_version=version)


def test_the_definition_marks_provided_lines_and_checks_the_bridge():
    definition = normalise(_read(CURRENT_TEMPLATE))
    lines = {line["code"]: line for s in definition["sections"] for line in s["lines"]}
    assert [c for c, line in lines.items() if line.get("provided")] == [
        "ALLCORE", "ALLPC", "ALLSPEC", "LYFOT"]  # fmt: skip
    assert "ALLOTH" in lines and not lines["ALLOTH"].get("provided")
    bridge = next(s for s in definition["sections"] if s["code"] == "bridge")
    assert bridge["bridge"]["start"] == "LYFOT"
    data = _read(CURRENT_TEMPLATE)
    section = next(s for s in data["sections"] if s["code"] == "bridge")
    section["bridge"] = {"start": "LYFOT", "steps": ["+WTERNUS"]}
    with pytest.raises(DefinitionError, match="the bridge's WTERNUS is not a £000 line"):
        normalise(data)
    data = _read(CURRENT_TEMPLATE)
    finance = next(s for s in data["sections"] if s["code"] == "finance")
    finance["lines"][0]["provided"] = True
    finance["lines"][0]["formula"] = ["+INCSYS"]
    with pytest.raises(DefinitionError, match="a provided line has no counterparty"):
        normalise(data)


def test_the_bridge_steps_from_last_year_to_the_plan():
    layout = {"start": "LY", "steps": ["-NR", "=U", "+INF", "+OTH"]}
    years = {"LY": D("-100"), "NR": D("20"), "INF": D("-30"), "OTH": D("50"), "S": D("-100")}
    labels = {"LY": "Last year", "NR": "One-off", "U": "Underlying", "INF": "Inflation",
              "OTH": "Other"}  # fmt: skip
    steps = bridge_steps(layout, years, labels, "S")
    assert [(s.label, s.value, s.kind) for s in steps] == [
        ("Last year", D("-100"), "start"),
        ("One-off (taken out)", D("-20"), "step"),
        ("Underlying", D("-120"), "subtotal"),
        ("Inflation", D("-30"), "step"),
        ("Other", D("50"), "step"),
        ("This year's plan", D("-100"), "end"),
    ]
    # The waterfall's bars add up to the plan.
    assert sum(D(i["value"]) for i in chart_items(steps)) == D("-100")


@pytest.mark.django_db
def test_provided_figures_go_into_drafts_and_cannot_be_typed_over(world, round_v3):
    member = world.people["member"]
    started = submission_start(actor=member, plan_round=round_v3, organisation=world.org_a)
    with pytest.raises(PermissionDenied):
        provided_save(actor=member, plan_round=round_v3, rows=_lyfot())
    result = provided_save(actor=world.people["admin"], plan_round=round_v3, rows=_lyfot())
    assert (result.figures, result.organisations, result.drafts) == (12, 1, 1)
    cells = selectors.version_cells(started.versions.get(number=0))
    assert cells[("LYFOT", None, 1)] == D("-100")
    edit = DraftEdit.objects.get(source=DraftEdit.Source.PROVIDED)
    assert edit.cells.count() == 12
    assert AuditEvent.objects.filter(action="round.figures_provided").count() == 1
    # The same figures again change nothing.
    again = provided_save(actor=world.people["admin"], plan_round=round_v3, rows=_lyfot())
    assert again.figures == 0
    # The organisation cannot type over them.
    with pytest.raises(ProblemList) as refused:
        draft_save(actor=member, submission=started, cells=[CellInput("LYFOT", 1, "5")])
    assert "provided by the round's owner" in refused.value.problems[0]["problem"]
    # A plan started after its figures were given begins with them.
    from demo.synthetic import board_approver

    provided_save(actor=None, plan_round=round_v3, rows=_lyfot("ZA2", "7"))
    later = submission_start(actor=board_approver(world.org_b), plan_round=round_v3,
                             organisation=world.org_b)  # fmt: skip
    values = Value.objects.filter(version__submission=later, line__code="LYFOT")
    assert sorted(values.values_list("value", flat=True)) == [D(7)] * 12


@pytest.mark.django_db
def test_bad_provided_rows_are_named_and_nothing_is_stored(world, round_v3):
    rows = [
        ProvidedInput("ZZ9", "LYFOT", 1, "1", where="row 2"),
        ProvidedInput("ZA1", "F100", 1, "1", where="row 3"),
        ProvidedInput("ZA1", "LYFOT", 13, "1", where="row 4"),
        ProvidedInput("ZA1", "LYFOT", 2, "lots", where="row 5"),
        ProvidedInput("ZA1", "ALLCORE", 2, "5", where="row 6"),  # a commissioner's line
        ProvidedInput("ZA1", "LYFOT", 3, "1", where="row 7"),
    ]
    with pytest.raises(ProblemList) as refused:
        provided_save(actor=None, plan_round=round_v3, rows=rows)
    cells = {p["cell"] for p in refused.value.problems}
    assert cells == {"row 2", "row 3", "row 4", "row 5", "row 6"}
    assert not ProvidedFigure.objects.exists()


@pytest.mark.django_db
def test_the_round_owner_uploads_figures_and_the_plan_shows_them_green(world, round_v3, client):
    admin = world.people["admin"]
    member = world.people["member"]
    started = submission_start(actor=member, plan_round=round_v3, organisation=world.org_a)
    client.force_login(admin)
    url = "/rounds/2026-27/provided/"
    assert client.get(url).status_code == 200
    bad = io.BytesIO(b"organisation,line,month,value\nZA1,LYFOT,1,abc\n")
    bad.name = "given.csv"
    refused = client.post(url, {"file": bad})
    assert refused.status_code == 422 and "row 2" in refused.content.decode()
    text = "organisation,line,month,value\n" + "".join(
        f"ZA1,LYFOT,{m},-250\n" for m in range(1, 13)
    )
    good = io.BytesIO(text.encode())
    good.name = "given.csv"
    response = client.post(url, {"file": good}, follow=True)
    assert "copied into 1 working drafts" in response.content.decode()
    assert ProvidedFigure.objects.count() == 12
    # Into the draft started before, though an administrator cannot read drafts themselves.
    cells = selectors.version_cells(started.versions.get(number=0))
    assert cells[("LYFOT", None, 12)] == D("-250")
    client.force_login(member)
    assert client.get(url).status_code == 403  # the round owner's page
    submission_start(actor=member, plan_round=round_v3, organisation=world.org_a)
    grid = client.get("/rounds/2026-27/ZA1/sections/bridge/").content.decode()
    assert 'class="ob-row--provided"' in grid and 'name="v:LYFOT::1"' not in grid
    assert 'name="v:BRINF::1"' in grid
    draft_save(actor=member, submission=submission_start(actor=member, plan_round=round_v3,
               organisation=world.org_a), cells=[CellInput("BRINF", 1, "-40")])  # fmt: skip
    page = client.get("/rounds/2026-27/ZA1/").content.decode()
    assert 'id="bridge-chart"' in page and "(3,000)" in page  # last year's outturn
    assert "(40)" in page  # inflation
    # In the workbook: shown green, left alone on upload.
    data = client.get("/rounds/2026-27/ZA1/download.xlsx").content
    ws = load_workbook(io.BytesIO(data))["Bridge from last year"]
    assert ws["E5"].value == -250 and ws["E5"].fill.fgColor.rgb.endswith("D9EEE1")
    out = io.BytesIO(data)
    out.name = "plan.xlsx"
    assert client.post("/rounds/2026-27/ZA1/upload/", {"file": out}).status_code == 302
    # A downloaded CSV, provided figures and all, goes back unchanged.
    csv = io.BytesIO(client.get("/rounds/2026-27/ZA1/download.csv").content)
    csv.name = "plan.csv"
    assert client.post("/rounds/2026-27/ZA1/upload/", {"file": csv}).status_code == 302
    # Through the API the figure is readable and refused as a change.
    api = APIClient()
    api.force_authenticate(member)
    put = api.put("/api/v1/rounds/2026-27/submissions/ZA1/draft/values/",
                  {"values": [{"line": "LYFOT", "month": 1, "value": "1"}]}, format="json")  # fmt: skip
    assert put.status_code in (400, 422)
