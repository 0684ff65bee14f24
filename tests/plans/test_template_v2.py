"""Version 2 of the built-in template: the finer returns (activity by specialty and point of
delivery, staff by group and contract, income by source, a balance sheet and a cash flow),
written compactly as matrices, through the grid, the Excel round trip, the API and collation."""

import io
import re

import pytest
import yaml
from openpyxl import load_workbook
from rest_framework.test import APIClient

from demo.synthetic import plan_cells
from plans import selectors
from plans.models import Line, Version
from plans.services import BUILTIN_TEMPLATES, draft_save, submission_start, template_load
from plans.system_plan import system_plan_get
from plans.template_definition import DefinitionError, normalise
from tests.plans.conftest import make_round, submit_plan

V2 = BUILTIN_TEMPLATES[1]  # version 3 is version 2 with scheme lists (tests/plans/test_tables.py)


def _definition():
    return yaml.safe_load(V2.read_text())


def _lines(definition=None):
    definition = normalise(definition or _definition())
    return [line for section in definition["sections"] for line in section["lines"]]


def _inputs_for(kind, commissioners=1, providers=None):
    """How many figures an organisation of `kind` plans, with this many partners."""
    providers = providers or {"acute": 3, "community": 1, "mental_health": 1, "ambulance": 1}
    total = 0
    for line in _lines():
        if kind not in line["kinds"] or line["formula"]:
            continue
        rows = 1
        if line["counterparty"] == "commissioner":
            rows = commissioners
        elif line["counterparty"] == "provider":
            rows = sum(n for k, n in providers.items()
                       if k in (line.get("counterparty_kinds") or providers))  # fmt: skip
        total += 12 * rows
    return total


def test_an_acute_trust_plans_three_to_five_thousand_figures():
    assert 3000 <= _inputs_for("acute") <= 5000
    lines = _lines()
    codes = {line["code"] for line in lines}
    # Elective activity: at least 15 specialties × the five elective points of delivery.
    elective = [c for c in codes if re.fullmatch(r"AP[0-9X]{3}(EL|DC|OF|OU|OP)", c)]
    assert len(elective) >= 15 * 5
    # Workforce: at least 10 staff groups × substantive, bank and agency, pay and WTE alike.
    groups = {line["staff_group"] for line in lines if "staff_group" in line}
    assert len(groups) >= 10
    for group in groups:
        units = sorted(line["unit"] for line in lines if line.get("staff_group") == group)
        assert units == ["gbp000"] * 3 + ["wte"] * 3, group
    # A balance sheet and a cash flow, positions at the month's end.
    sections = {s["code"] for s in normalise(_definition())["sections"]}
    assert {"balance_sheet", "cash_flow", "activity_urgent", "activity_other"} <= sections
    assert all(line.get("role") == "month_end" for line in lines if line["code"].startswith("BS"))


def test_a_matrix_is_written_out_one_line_a_cell():
    lines = {line["code"]: line for line in _lines()}
    line = lines["AP110DC"]
    assert line["label"] == "Trauma and orthopaedics – day cases (provided)"
    assert line["balances_with"] == "AC110DC" and line["counterparty"] == "commissioner"
    assert line["kinds"] == ["acute"]
    assert lines["PAYRNUA"]["staff_group"] == "Registered nurses"
    assert lines["WTERNUA"]["staff_group"] == "Registered nurses"
    assert lines["AC110DC"]["counterparty_kinds"] == ["acute"]


@pytest.mark.parametrize(
    ("matrix", "problem"),
    [
        ({"code": "X{row}", "label": "{row_label}"}, "a matrix needs a list of rows"),
        ({"code": "X{row}{nope}", "label": "L", "rows": [{"code": "1", "label": "One"}]},
         "use only {row}, {row_label}, {column} and {column_label}"),
        ({"code": "X{row}", "label": "L", "rows": [{"code": "1"}]},
         "each have a code and a label"),
    ],
)  # fmt: skip
def test_a_bad_matrix_is_named(matrix, problem):
    definition = _definition()
    definition["sections"][0]["lines"].append({"matrix": matrix, "unit": "count"})
    with pytest.raises(DefinitionError, match=re.escape(problem)):
        normalise(definition)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"counterparty_kinds": ["commissioner"]}, "counterparty_kinds must be kinds of provider"),
        ({"counterparty_kinds": "[acute]", "counterparty": ""}, "counterparty_kinds needs a"),
        ({"role": "month_end", "unit": "percent"}, "a month_end line is in count or gbp000"),
    ],
)
def test_counterparty_kinds_and_month_end_money_are_checked(change, problem):
    definition = _definition()
    line = next(
        line for section in definition["sections"] for line in section.get("lines") or []
        if line.get("code") == "CSPSYS"
    )  # fmt: skip
    line.update(change)
    if change.get("counterparty_kinds") == "[acute]":
        line["counterparty_kinds"] = ["acute"]
        line.pop("role")
    with pytest.raises(DefinitionError, match=re.escape(problem)):
        normalise(definition)


@pytest.fixture
def round_v2(world):
    version, _ = template_load(path=V2)
    return make_round(template_version=version)


@pytest.mark.django_db
def test_an_icb_plans_elective_activity_with_its_acute_trusts_only(world, round_v2):
    line = Line.objects.get(section__template_version=round_v2.template_version, code="AC110DC")
    partners = selectors.partners_of(world.commissioner, line)
    assert [o.ods_code for o in partners] == ["ZA1"]  # not Beta, a community trust
    everyone = Line.objects.get(section__template_version=round_v2.template_version, code="CSPSYS")
    assert {o.ods_code for o in selectors.partners_of(world.commissioner, everyone)} == {
        "ZA1",
        "ZA2",
    }
    # A figure for Beta on an acute-only line is refused, naming why.
    from demo.synthetic import board_approver
    from openbook.errors import ProblemList
    from plans.cells import CellInput

    approver = board_approver(world.commissioner)
    submission = submission_start(actor=approver, plan_round=round_v2,
                                  organisation=world.commissioner)  # fmt: skip
    with pytest.raises(ProblemList) as refused:
        draft_save(actor=approver, submission=submission,
                   cells=[CellInput("AC110DC", 1, "10", counterparty="ZA2")])  # fmt: skip
    assert "needs one of the system's acute trusts as counterparty, not ZA2" in str(
        refused.value.problems
    )


@pytest.mark.django_db
def test_an_acute_plan_round_trips_through_excel_and_the_api(world, round_v2, client):
    member = world.people["member"]
    submission = submission_start(actor=member, plan_round=round_v2, organisation=world.org_a)
    cells = plan_cells(round_v2, world.org_a)
    assert 3000 <= len(cells) <= 5000
    draft_save(actor=member, submission=submission, cells=cells)
    draft = submission.versions.get(number=0)
    before = selectors.version_cells(draft)
    client.force_login(member)
    data = client.get("/rounds/2026-27/ZA1/download.xlsx").content
    sheets = load_workbook(io.BytesIO(data)).sheetnames
    # Sheet names are cut to Excel's 31 characters.
    assert "Balance sheet" in sheets and "Activity – elective, by special" in sheets
    f = io.BytesIO(data)
    f.name = "plan.xlsx"
    assert client.post("/rounds/2026-27/ZA1/upload/", {"file": f}).status_code == 302
    assert selectors.version_cells(Version.objects.get(pk=draft.pk)) == before
    api = APIClient()
    api.force_authenticate(member)
    values = api.get("/api/v1/rounds/2026-27/submissions/ZA1/").json()
    assert values["organisation"] == "ZA1"
    put = api.put("/api/v1/rounds/2026-27/submissions/ZA1/draft/values/",
                  {"values": [{"line": "AP110DC", "counterparty": "ZA3", "month": 4,
                               "value": "512"}]}, format="json")  # fmt: skip
    assert put.status_code == 200, put.json()


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["org_a", "org_b", "commissioner"])
def test_made_up_figures_keep_the_template_s_rules_and_balance(world, round_v2, who):
    """The demo's figures for each kind: within every line's sign and bounds, a balance sheet
    that balances each month, a cash flow that ends at the balance sheet's cash, and pay per
    WTE in the round's plausible range for every staff group."""
    from decimal import Decimal

    from plans.calculations import derive

    organisation = getattr(world, who)
    lines = {
        line.code: line
        for line in selectors.lines_for(round_v2.template_version_id, organisation.kind)
    }
    cells = plan_cells(round_v2, organisation)
    for cell in cells:
        line = lines[cell.line]
        value = Decimal(cell.value)
        assert line.sign != "positive" or value >= 0, cell
        assert line.sign != "negative" or value <= 0, cell
        assert line.maximum is None or value <= line.maximum, cell
        assert line.minimum is None or value >= line.minimum, cell
    figures = {(c.line, None, c.month): Decimal(c.value) for c in cells if not c.counterparty}
    specs = [selectors.line_spec(line) for line in lines.values()]
    derived = derive(specs, figures)
    if "BSNET" in lines:
        for month in range(1, 13):
            assert derived[("BSNET", month)] == derived[("BSEQ", month)], month
        assert [figures[("CFCLOSE", None, m)] for m in range(1, 13)] == [
            figures[("BSCASH", None, m)] for m in range(1, 13)
        ]
    groups: dict[str, list[Decimal]] = {}
    for (code, _, _), value in figures.items():
        group = lines[code].staff_group
        if group:
            pay_wte = groups.setdefault(group, [Decimal(0), Decimal(0)])
            pay_wte[lines[code].unit == "wte"] += value
    for group, (pay, wte) in groups.items():
        if pay:
            assert 20 <= pay / (wte / 12) <= 150, (who, group, pay, wte)


@pytest.mark.django_db
def test_a_system_on_version_2_collates_balances_and_checks_pay(world, round_v2):
    for organisation in (world.org_a, world.commissioner):
        submit_plan(organisation, plan_cells(round_v2, organisation))
    plan = system_plan_get(world.people["lead"], round_v2, world.s1)
    measures = {b.measure for b in plan.activity_balances}
    assert "Trauma and orthopaedics – day cases" in measures
    assert len(plan.pay_checks) >= 10 and not any(c.flagged for c in plan.pay_checks)
    assert plan.income_balances
    # Most pairs agree (the demo's figures are made to look like a real year).
    flagged = sum(b.flagged for b in plan.activity_balances)
    assert flagged <= len(plan.activity_balances) / 4


def test_mismatches_are_a_small_share_of_partner_pairs():
    from demo.realistic import _off

    lines = [f"AP{n:03d}DC" for n in range(112)]
    pairs = [(f"P{p}", f"C{c}") for p in range(40) for c in range(5)]
    out = {pair: [line for line in lines if abs(_off(*pair, line) - 1) > 0.05] for pair in pairs}
    with_any = sum(1 for found in out.values() if found)
    assert 0.1 < with_any / len(pairs) < 0.3  # about one pair of partners in five
    for found in out.values():
        assert len(found) < len(lines) / 3  # and in those, a few lines


@pytest.mark.django_db
def test_load_template_loads_every_built_in_version_once(capsys):
    from django.core.management import call_command

    call_command("load_template")
    first = capsys.readouterr().out
    assert (
        "Operational plan v1 loaded" in first and "Operational plan v2 loaded: 13 sections" in first
    )
    assert "Operational plan v3 loaded: 16 sections" in first
    call_command("load_template")
    assert capsys.readouterr().out.count("already loaded") == 3
