"""The collated system plan and the agreement-of-balances report: pages, exports, API."""

import csv
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from demo.synthetic import plan_cells
from plans.cells import CellInput
from plans.system_plan import system_plan_get
from tests.plans.conftest import submit_plan

pytestmark = pytest.mark.django_db
D = Decimal


def submit(world, organisation, cells, approver=None):
    return submit_plan(organisation, cells, approver)


def monthly(code, value, counterparty=None):
    return [CellInput(code, m, value, counterparty=counterparty) for m in range(1, 13)]


@pytest.fixture
def two_plans(world, plan_round):
    """Alpha (acute) earns 100 a month from the ICB; the ICB plans 110 a month with Alpha."""
    alpha = monthly("F100", "100", "ZA3") + monthly("F2MEDS", "90")
    icb = (
        monthly("F500", "300")
        + monthly("F510", "110", "ZA1")
        + monthly("F510", "0", "ZA2")
        + monthly("F520", "150")
    )
    submit(world, world.org_a, alpha, approver=world.people["approver"])
    submit(world, world.commissioner, icb)
    return plan_round


def test_collation_sums_eliminates_and_flags(world, two_plans):
    plan = system_plan_get(world.people["lead"], two_plans, world.s1)
    assert plan.year("F100") == D(1200)
    # Alpha +10 a month, the ICB +40 a month: the system +600 for the year.
    assert sum(plan.surplus_by_organisation.values()) == D(600)
    assert plan.consolidated.eliminated[1] == D(100)
    assert plan.consolidated.surplus_after[1] == plan.consolidated.surplus_before[1] == D(50)
    [pair] = [p for p in plan.income_balances if p.provider == "ZA1"]
    assert (pair.provider_figure, pair.commissioner_figure, pair.difference) == (
        D(1200),
        D(1320),
        D(-120),
    )
    assert not pair.flagged  # £120k is under the £3m threshold
    states = {s.organisation.ods_code: s.state for s in plan.statuses}
    assert states == {"ZA1": "submitted", "ZA2": "missing", "ZA3": "submitted"}


def test_income_from_a_commissioner_whose_plan_is_not_in_is_not_eliminated(world, plan_round):
    """Alpha plans 100 a month from the ICB, but the ICB's plan is not in: its spending is not
    in the system's expenditure, so nothing comes off either side; the pair awaits its plan."""
    submit(world, world.org_a, monthly("F100", "100", "ZA3") + monthly("F2MEDS", "90"))
    plan = system_plan_get(world.people["lead"], plan_round, world.s1)
    assert plan.consolidated.eliminated[1] == D(0)
    assert plan.consolidated.income[1] == D(100)
    assert plan.consolidated.surplus_after[1] == plan.consolidated.surplus_before[1] == D(10)
    [pair] = plan.income_balances
    assert (pair.awaiting, pair.flagged) == ("ZA3", False)
    assert plan.flagged == []


def test_a_pair_awaiting_a_plan_shows_no_difference(client, world, plan_round):
    submit(world, world.org_a, monthly("F100", "100", "ZA3") + monthly("F2MEDS", "90"))
    client.force_login(world.people["lead"])
    page = client.get("/rounds/2026-27/systems/s1/balances/").content.decode()
    assert "Awaiting NHS One ICB's plan" in page and "-1,200" not in page
    text = client.get("/rounds/2026-27/systems/s1/balances.csv").content.decode("utf-8-sig")
    rows = [r for r in csv.DictReader(io.StringIO(text))
            if r["Table"] == "Balances" and r["Provider ODS code"] == "ZA1"]  # fmt: skip
    # Only what is known: the provider's figure; no commissioner figure, no difference.
    assert [(r["Measure"], r["Value"], r["Status"]) for r in rows] == [
        ("Provider plans", "1200.000", "Awaiting ZA3's plan")
    ]
    [pair] = client.get("/api/v1/rounds/2026-27/systems/s1/balances/").json()["pairs"]
    assert (pair["status"], pair["awaiting"], pair["provider_figure"]) == ("awaiting", "ZA3",
                                                                          "1200.000")  # fmt: skip
    assert (pair["commissioner_figure"], pair["difference"], pair["percent"]) == (None,) * 3


def test_after_the_final_deadline_a_plan_never_submitted_is_late(world, two_plans):
    import datetime as dt

    from django.utils import timezone

    def late():
        plan = system_plan_get(world.people["lead"], two_plans, world.s1)
        return {s.organisation.ods_code for s in plan.statuses if s.late}

    assert late() == set()
    # Alpha's plan goes back to it before the deadline and is not sent again.
    from plans.models import Submission
    from plans.services import submission_return

    alpha = Submission.objects.get(organisation=world.org_a)
    submission_return(actor=world.people["lead"], submission=alpha, reason="Fix the pay bill")
    two_plans.draft_deadline = timezone.now() - dt.timedelta(days=2)
    two_plans.final_deadline = timezone.now() - dt.timedelta(days=1)
    two_plans.save()
    # Beta never submitted; Alpha's plan is not in; the ICB's went in on time.
    assert late() == {"ZA1", "ZA2"}


def test_a_mismatch_over_the_threshold_is_flagged(world, two_plans):
    two_plans.balance_threshold = D(100)
    two_plans.save()
    plan = system_plan_get(world.people["lead"], two_plans, world.s1)
    assert [p.provider for p in plan.flagged if p.measure == "Income and expenditure"] == ["ZA1"]


def test_the_pages_show_the_system_plan_and_the_mismatches(client, world, two_plans):
    two_plans.balance_threshold = D(100)
    two_plans.save()
    client.force_login(world.people["lead"])
    page = client.get("/rounds/2026-27/systems/s1/").content.decode()
    assert "System One: system plan" in page
    assert "Missing" in page and 'id="bridge-chart"' in page
    report = client.get("/rounds/2026-27/systems/s1/balances/").content.decode()
    assert "1 mismatch" in report
    assert "Alpha Hospitals NHS Trust" in report


def test_exports_match_the_page_and_neutralise_formulas(client, world, two_plans):
    client.force_login(world.people["reviewer"])
    plan = system_plan_get(world.people["reviewer"], two_plans, world.s1)
    data = client.get("/rounds/2026-27/systems/s1/balances.xlsx").content
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["Balances", "Pay per WTE"]  # every table on the page
    rows = list(wb["Balances"].iter_rows(values_only=True))
    assert rows[0][0] == "Measure"
    alpha = next(r for r in rows if r[2] == "ZA1" and r[0] == "Income and expenditure")
    assert alpha[1] == "Alpha Hospitals NHS Trust"  # named as on the page
    assert (D(str(alpha[5])), D(str(alpha[6]))) == (D(1200), D(1320))
    pay = list(wb["Pay per WTE"].iter_rows(values_only=True))
    assert len(pay) == 1 + len(plan.pay_checks)
    # Typed cells with number formats, the header row frozen, percentages as percentages.
    sheet = wb["Balances"]
    assert sheet.freeze_panes == "A2"
    row = next(r for r in sheet.iter_rows(min_row=2) if r[2].value == "ZA1" and r[0].value ==
               "Income and expenditure")  # fmt: skip
    assert row[5].number_format == "#,##0_);(#,##0)"
    percent = row[8]
    assert percent.number_format == "0.00%"
    pair = next(p for p in plan.income_balances if p.provider == "ZA1")
    assert D(str(percent.value)) == pair.percent / 100
    response = client.get("/rounds/2026-27/systems/s1/system-plan.csv")
    # UTF-8 with a byte-order mark, so Excel shows "£000" rather than "Â£000".
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf")
    text = response.content.decode("utf-8-sig")
    # One table in long format: a row per figure, every column named.
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {"Table", "Measure", "Unit", "Value"} <= set(rows[0])
    f100 = next(r for r in rows if r.get("Code") == "F100" and r["Measure"] == "Year")
    assert D(f100["Value"]) == D(1200) and f100["Unit"] == "£000"
    titles = list(dict.fromkeys(r["Table"] for r in rows))
    assert titles == ["System plan", "Where each plan stands", "By kind", "Consolidated I&E"]
    icb = next(r for r in rows if r.get("ODS code") == "ZA3")
    assert D(icb["Value"]) == plan.surplus_by_organisation["ZA3"]
    eliminated = next(r for r in rows if r.get("Line, £000", "").startswith("Eliminated")
                      and r["Measure"] == "Year")  # fmt: skip
    assert D(eliminated["Value"]) == sum(plan.consolidated.eliminated.values())
    xlsx = load_workbook(
        io.BytesIO(client.get("/rounds/2026-27/systems/s1/system-plan.xlsx").content)
    )
    assert xlsx.sheetnames == titles
    assert client.get("/rounds/2026-27/systems/s1/system-plan.pdf").status_code == 404


def test_neutralise():
    from openbook.exports import neutralise

    for text in ("=1+1", "+44", "-2", "@SUM(A1)", "\tx", "\rx"):
        assert neutralise(text) == "'" + text
    assert neutralise("Plan") == "Plan"
    assert neutralise(-2) == -2


def test_the_full_demo_system_collates(world, plan_round):
    for organisation in (world.org_a, world.org_b, world.commissioner):
        submit(world, organisation, plan_cells(plan_round, organisation))
    plan = system_plan_get(world.people["lead"], plan_round, world.s1)
    assert len(plan.plans) == 3
    assert plan.income_balances and plan.activity_balances and plan.pay_checks
    assert not [c for c in plan.pay_checks if c.flagged]


def test_the_collation_matches_every_plan_added_up_cell_by_cell(world, plan_round):
    """The set-based collation (months summed by the database, each version's year read from
    the totals stored at submission) against the same figures added up here from the cells."""
    from accounts.models import Organisation
    from plans.calculations import month_totals
    from plans.selectors import version_cells

    submissions = [
        submit(world, organisation, plan_cells(plan_round, organisation))
        for organisation in (world.org_a, world.org_b, world.commissioner)
    ]
    # Alpha submits again with one figure changed: only its latest version counts.
    cells = plan_cells(plan_round, world.org_a)
    cells[0] = CellInput(
        cells[0].line, cells[0].month, D(cells[0].value) + 7, cells[0].counterparty
    )
    from plans.services import draft_save, submission_recall, submission_submit

    approver = world.people["approver"]
    submission_recall(actor=approver, submission=submissions[0])
    draft_save(actor=approver, submission=submissions[0], cells=cells)
    import datetime as dt

    submission_submit(
        actor=approver,
        submission=submissions[0],
        board_approval_date=dt.date.today(),
        confirmed=True,
    )
    ods = dict(Organisation.objects.values_list("pk", "ods_code"))
    plan = system_plan_get(world.people["lead"], plan_round, world.s1)
    system: dict = {}
    for submission in submissions:
        cells_of = version_cells(submission.versions.order_by("-number").first())
        for key, value in month_totals(cells_of).items():
            system[key] = system.get(key, D(0)) + value
        annual: dict = {}
        by_cp: dict = {}
        for (code, cp, _month), value in cells_of.items():
            annual[code] = annual.get(code, D(0)) + value
            if cp is not None:
                by_cp[(code, ods[cp])] = by_cp.get((code, ods[cp]), D(0)) + value
        [org_plan] = [p for p in plan.plans if p.ods_code == submission.organisation.ods_code]
        assert dict(org_plan.annual) == annual
        assert dict(org_plan.by_counterparty) == by_cp
    assert {k: v for k, v in plan.totals.items() if k[0] in {c for c, _ in system}} == system
    from plans.models import YearTotals

    assert YearTotals.objects.filter(version__submission=submissions[0]).count() == 2


# --- stored sums: a system's collation is added up once per set of counted plans -------------


def _aggregates_run(queries) -> int:
    return sum(1 for q in queries if "array_agg(months)" in q["sql"])


def test_collation_reads_stored_sums_until_the_counted_plans_change(world, two_plans):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from plans.services import submission_recall

    lead = world.people["lead"]
    first = system_plan_get(lead, two_plans, world.s1)
    with CaptureQueriesContext(connection) as queries:
        again = system_plan_get(lead, two_plans, world.s1)
    assert _aggregates_run(queries) == 0  # read from the stored sums
    assert again.rows == first.rows and again.year("F100") == D(1200)
    assert again.surplus_by_organisation == first.surplus_by_organisation
    assert again.consolidated == first.consolidated

    # Alpha recalls, changes its figures and submits again: new sums, never the stored ones.
    from plans.models import Submission

    alpha = Submission.objects.get(organisation=world.org_a)
    submission_recall(actor=world.people["approver"], submission=alpha)
    submit(world, world.org_a, monthly("F100", "130", "ZA3") + monthly("F2MEDS", "90"),
           approver=world.people["approver"])  # fmt: skip
    with CaptureQueriesContext(connection) as queries:
        resubmitted = system_plan_get(lead, two_plans, world.s1)
    assert _aggregates_run(queries) == 1
    assert resubmitted.year("F100") == D(1560)

    # Recalled, it counts for nothing: the ICB's figures alone.
    submission_recall(actor=world.people["approver"], submission=alpha)
    recalled = system_plan_get(lead, two_plans, world.s1)
    assert recalled.year("F100") == D(0)
    assert {p.ods_code for p in recalled.plans} == {"ZA3"}


def test_the_api_plan_is_what_its_serializer_gives(world, two_plans):
    from rest_framework.test import APIClient

    from plans.api.serializers import SystemPlanSerializer
    from plans.api.views import system_plan_data

    plan = system_plan_get(world.people["lead"], two_plans, world.s1)
    data = system_plan_data(plan)
    c = plan.consolidated
    by_serializer = SystemPlanSerializer(
        {
            "round": plan.round.slug,
            "system": plan.system.code,
            "organisations": plan.statuses,
            "surplus_by_organisation": plan.surplus_by_organisation,
            "consolidated": [
                {
                    "month": m,
                    "income": c.income[m],
                    "expenditure": c.expenditure[m],
                    "eliminated": c.eliminated[m],
                    "surplus": c.surplus_after[m],
                }
                for m in range(1, 13)
            ],  # fmt: skip
            "totals": [
                {"line": code, "month": month, "value": value}
                for (code, month), value in sorted(plan.totals.items())
            ],
        }
    ).data
    assert data == by_serializer
    client = APIClient()
    client.force_authenticate(world.people["lead"])
    response = client.get(f"/api/v1/rounds/{two_plans.slug}/systems/{world.s1.code}/plan/")
    assert response.status_code == 200
    assert response.json()["surplus_by_organisation"] == {"ZA1": "120.000", "ZA3": "480.000"}
    assert {"line": "F100", "month": 1, "value": "100.000"} in response.json()["totals"]


def test_the_regions_rows_are_stored_and_follow_plans_and_thresholds(world, two_plans):
    """The region's rows are worked out once per set of counted plans and thresholds, then
    read stored; a threshold moved or a plan recalled gives them afresh."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from plans.models import Submission
    from plans.region_overview import region_overview
    from plans.services import round_save, submission_recall

    reviewer = world.people["reviewer"]
    [first, *_] = region_overview(reviewer, two_plans, world.r1)
    assert first.system == world.s1 and first.surplus == D(600)
    assert first.mismatch_count == 0  # £120k apart, under the £3m threshold
    with CaptureQueriesContext(connection) as queries:
        [again, *_] = region_overview(reviewer, two_plans, world.r1)
    assert not any("array_agg(months)" in q["sql"] for q in queries)  # nothing added up
    assert again.summary == first.summary

    two_plans.balance_threshold = D(100)  # £100k: Alpha and the ICB are now out
    round_save(actor=None, plan_round=two_plans)
    [lowered, *_] = region_overview(reviewer, two_plans, world.r1)
    assert lowered.mismatch_count == 1 and lowered.mismatch_size == D(120)

    alpha = Submission.objects.get(organisation=world.org_a)
    submission_recall(actor=world.people["approver"], submission=alpha)
    [recalled, *_] = region_overview(reviewer, two_plans, world.r1)
    assert recalled.surplus == D(480) and recalled.missing_count == first.missing_count + 1


def test_the_api_plan_is_stored_until_a_partner_moves(world, two_plans):
    from rest_framework.test import APIClient

    from plans.models import Submission
    from plans.services import submission_recall

    client = APIClient()
    client.force_authenticate(world.people["lead"])
    url = f"/api/v1/rounds/{two_plans.slug}/systems/{world.s1.code}/plan/"
    first = client.get(url).json()
    assert client.get(url).json() == first  # read stored
    states = {o["organisation"]: o["state"] for o in first["organisations"]}
    assert states["ZA1"] == "submitted"
    alpha = Submission.objects.get(organisation=world.org_a)
    submission_recall(actor=world.people["approver"], submission=alpha)
    after = client.get(url).json()
    assert {o["organisation"]: o["state"] for o in after["organisations"]}["ZA1"] != "submitted"
    assert "ZA1" not in after["surplus_by_organisation"]
    # Stored as the JSON it answers with; asked for laid out, or as the browsable API's
    # page, the same answer is rendered so.
    stored = client.get(url)
    assert stored["Content-Type"] == "application/json" and b"\n" not in stored.content
    laid_out = client.get(url, HTTP_ACCEPT="application/json; indent=2")
    assert laid_out.content.startswith(b'{\n  "') and laid_out.json() == after
    assert b"Django REST framework" in client.get(url, HTTP_ACCEPT="text/html").content
    # An outsider is refused before anything stored is read.
    client.force_authenticate(world.people["outsider"])
    assert client.get(url).status_code == 404


def test_sums_are_stored_under_the_plans_they_are_of_even_when_one_moves_meanwhile(
    world, two_plans
):
    """Where the plans stand is read first, the sums afterwards: a plan recalled in between
    gives sums without it, stored under their own key, never under the key read before."""
    from django.core.cache import cache

    from plans.models import Submission
    from plans.services import submission_recall
    from plans.system_plan import fetch_plans, standing

    known = standing(two_plans, [world.s1.pk])
    alpha = Submission.objects.get(organisation=world.org_a)
    submission_recall(actor=world.people["approver"], submission=alpha)
    fetched = fetch_plans(two_plans, [world.s1.pk], known)
    assert {p.ods_code for p in fetched.plans[world.s1.pk]} == {"ZA3"}  # as the sums read
    assert fetched.keys[world.s1.pk] != known.keys[world.s1.pk]
    assert cache.get(known.keys[world.s1.pk]) is None  # nothing under the stale key
    assert cache.get(fetched.keys[world.s1.pk]) is not None
    # Read afresh, the key is the sums' own: they are found stored.
    assert standing(two_plans, [world.s1.pk]).keys[world.s1.pk] == fetched.keys[world.s1.pk]


def test_stored_sums_are_keyed_by_the_code_that_added_them_up(world, two_plans, monkeypatch):
    """Another release's collation code never reads what this one stored (nor the reverse)."""
    from plans import system_plan
    from plans.system_plan import source_digest, standing

    assert (
        source_digest(
            system_plan.__file__, system_plan.collation.__file__, system_plan.calculations.__file__
        )
        == system_plan.SUMS_CODE
    )
    ours = standing(two_plans, [world.s1.pk]).keys[world.s1.pk]
    monkeypatch.setattr(system_plan, "SUMS_CODE", "another release")
    assert standing(two_plans, [world.s1.pk]).keys[world.s1.pk] != ours


def test_a_sections_figures_are_stored_and_follow_plans_and_places(
    client, world, two_plans, monkeypatch
):
    """The system page's rows of totals are written once for each collation and way of
    showing figures, stored beside the sums: read stored while nothing moves, written again
    when a partner's plan moves or the person asks for more places."""
    import re

    from plans.models import Submission
    from plans.services import submission_recall
    from plans.views import system as views

    def figures(page):
        return re.search(r'system totals">(.*?)</table>', page, re.S).group(1)

    lead = world.people["lead"]
    client.force_login(lead)
    url = "/rounds/2026-27/systems/s1/"
    stored = figures(client.get(url).content.decode())
    assert '<span class="ob-code">F2MEDS</span>' in stored and ">1,080</td>" in stored

    def not_stored(*args):
        raise AssertionError("written again")

    monkeypatch.setattr(views, "_collated_row", not_stored)
    assert figures(client.get(url).content.decode()) == stored  # read stored
    lead.more_places = True
    lead.save(update_fields=["more_places"])
    with pytest.raises(AssertionError, match="written again"):
        client.get(url)  # another way of showing figures: not what was stored
    monkeypatch.undo()
    assert ">1,080.000</td>" in figures(client.get(url).content.decode())
    lead.more_places = False
    lead.save(update_fields=["more_places"])
    alpha = Submission.objects.get(organisation=world.org_a)
    submission_recall(actor=world.people["approver"], submission=alpha)
    after = figures(client.get(url).content.decode())
    assert after != stored and ">1,080</td>" not in after  # Alpha's medicines no longer count
