"""The planning pages: the grid (as a form, and edited in place by the grid script), narratives,
workflow pages and what each person sees."""

from decimal import Decimal

import pytest

from openbook import numbers
from plans.cells import UNSET, CellInput
from plans.models import Submission, Value
from plans.services import draft_save, submission_start

pytestmark = pytest.mark.django_db
GRID = "/rounds/2026-27/ZA1/sections/finance/"
CELLS = GRID + "cells/"


@pytest.fixture
def member_client(client, world, plan_round):
    submission_start(actor=world.people["member"], plan_round=plan_round, organisation=world.org_a)
    client.force_login(world.people["member"])
    return client


def test_the_grid_shows_the_lines_an_acute_completes(member_client, world):
    html = member_client.get(GRID).content.decode()
    assert "Patient care income from commissioners in the system: NHS One ICB" in html
    assert "Surplus / (deficit)" in html
    assert "Allocation received" not in html  # a commissioner's line
    assert 'name="v:F110::1"' in html


def test_saving_the_grid_as_a_form(member_client, world):
    response = member_client.post(
        GRID, {"v:F110::1": "1,250.5", "e:F110::1": "", "v:F110::2": "", "e:F110::2": ""}
    )
    assert response.status_code == 302
    assert Value.objects.get(line__code="F110", month=1).value == 1250.5
    page = member_client.get(GRID).content.decode()
    assert "Saved 1 figure." in page
    # £000 are shown to the nearest thousand, negatives in brackets; the input holds exactly
    # what is stored.
    assert 'id="derived-F900-1">1,251<' in page and "(1,251)" not in page
    assert 'name="v:F110::1" value="1,250.5"' in page


def test_a_bad_value_is_named_and_nothing_is_saved(member_client, world):
    response = member_client.post(
        GRID, {"v:F110::1": "12", "e:F110::1": "", "v:F110::2": "lots", "e:F110::2": ""}
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "Nothing was saved" in html
    assert "F110, May: “lots” is not a number" in html
    assert 'value="lots"' in html  # what was typed is kept for correcting
    assert not Value.objects.exists()


def test_a_conflicting_save_shows_both_values(member_client, world):
    submission = Submission.objects.get()
    draft_save(
        actor=world.people["approver"], submission=submission, cells=[CellInput("F110", 1, "7")]
    )
    response = member_client.post(GRID, {"v:F110::1": "9", "e:F110::1": ""})
    assert response.status_code == 422
    html = response.content.decode()
    assert "someone else changed this to 7 after you started; yours was 9" in html
    assert Value.objects.get().value == 7
    # The page now carries their value as the starting point: saving again keeps yours.
    assert 'name="e:F110::1" value="7"' in html
    assert member_client.post(GRID, {"v:F110::1": "9", "e:F110::1": "7"}).status_code == 302
    assert Value.objects.get().value == 9


def test_an_edit_in_place_returns_the_cell_and_updated_totals(member_client, world):
    response = member_client.post(CELLS, {"source": "grid", "v:F110::1": "100", "e:F110::1": ""})
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<td id="cell-F110-x-1"><input name="v:F110::1" value="100"')
    assert 'id="derived-F900-1">100<' in html
    assert 'id="total-F110-x">100<' in html
    assert 'id="grid-status" class="ob-grid-status">Saved 1 figure.<' in html


def test_an_edit_in_place_with_a_problem_answers_422_with_the_message(member_client, world):
    response = member_client.post(CELLS, {"v:F110::1": "-3", "e:F110::1": ""})
    assert response.status_code == 422
    html = response.content.decode()
    assert "must be zero or more" in html
    assert "Nothing was saved: 1 cell could not be accepted. F110, Apr: “-3” must be zero" in html
    assert not Value.objects.exists()


def test_a_pasted_block_is_stored_whole_or_not_at_all(member_client, world):
    block = {f"v:{line}::{m}": str(10 * m) for line in ("F110", "F120") for m in (1, 2, 3)}
    block |= {k.replace("v:", "e:"): "" for k in block}
    bad = block | {"v:F120::2": "1O0"}
    response = member_client.post(CELLS, {"source": "paste", **bad})
    assert response.status_code == 422
    assert "F120, May: “1O0” is not a number" in response.content.decode()
    assert not Value.objects.exists()
    response = member_client.post(CELLS, {"source": "paste", **block})
    assert response.status_code == 200
    assert Value.objects.count() == 6
    assert "Pasted 6 figures." in response.content.decode()


def test_a_derived_line_in_a_pasted_block_is_refused(member_client, world):
    response = member_client.post(CELLS, {"source": "paste", "v:F900::1": "5", "e:F900::1": ""})
    assert response.status_code == 422
    assert "is worked out from other lines and cannot be entered" in response.content.decode()


def test_spreading_a_year_total_evenly_adds_up_exactly(member_client, world):
    empty = {f"e:F110::{m}": "" for m in range(1, 13)}
    response = member_client.post(
        CELLS, {"source": "spread", "line": "F110", "total": "1,000", "method": "even"} | empty
    )
    assert response.status_code == 200
    values = sorted(Value.objects.values_list("value", flat=True))
    assert sum(values) == 1000 and len(values) == 12
    assert values[0] == Decimal("83.333") and values[-1] == Decimal("83.334")


def test_spreading_in_the_profile_of_the_last_submitted_version(client, world, plan_round):
    from tests.isolation.plans import _plans_submitted

    plan_round.delete()
    _plans_submitted(world)
    submission = Submission.objects.get(organisation=world.org_a)
    version = submission.versions.get(number=1)
    before = {v.month: v.value for v in Value.objects.filter(version=version, line__code="F110")}
    client.force_login(world.people["member"])
    from plans.services import submission_recall

    submission_recall(actor=world.people["approver"], submission=submission)
    total = sum(before.values())
    started = {f"e:F110::{m}": f"{v.normalize():f}" for m, v in before.items()}
    response = client.post(
        CELLS,
        {"source": "spread", "line": "F110", "total": str(total * 2), "method": "profile"}
        | started,
    )
    assert response.status_code == 200, response.content.decode()[-500:]
    after = {
        v.month: v.value
        for v in Value.objects.filter(version__number=0, version__submission=submission,
                                      line__code="F110")
    }  # fmt: skip
    assert sum(after.values()) == total * 2
    assert all(abs(after[m] - 2 * before[m]) <= Decimal("0.001") for m in before)


def test_undo_puts_back_what_a_change_replaced_unless_someone_changed_it(member_client, world):
    member_client.post(CELLS, {"source": "paste", "v:F110::1": "5", "e:F110::1": ""})
    response = member_client.post(CELLS, {"source": "undo", "v:F110::1": "", "e:F110::1": "5"})
    assert response.status_code == 200
    assert not Value.objects.exists()
    member_client.post(CELLS, {"source": "paste", "v:F110::1": "5", "e:F110::1": ""})
    draft_save(
        actor=world.people["approver"],
        submission=Submission.objects.get(),
        cells=[CellInput("F110", 1, "6")],
    )
    response = member_client.post(CELLS, {"source": "undo", "v:F110::1": "", "e:F110::1": "5"})
    assert response.status_code == 409
    assert "someone else changed F110, Apr to 6" in response.content.decode()
    assert Value.objects.get().value == 6


def test_a_cells_history_names_who_changed_it(member_client, world):
    member_client.post(CELLS, {"source": "grid", "v:F110::1": "5", "e:F110::1": ""})
    member_client.post(CELLS, {"source": "fill", "v:F110::1": "7", "e:F110::1": "5"})
    html = member_client.get(GRID + "cell/?line=F110&month=1").content.decode()
    assert "Last changed by Member" in html and "filled across the year" in html
    assert "5 → 7" in html and "blank → 5" in html
    assert "Income not from patient care" in html or "F110" in html
    page = member_client.get(GRID + "history/").content.decode()
    assert page.count('<tr class="nhsuk-table__row">') == 2


def test_partners_see_submitted_figures_read_only(client, world, plan_round):
    from tests.isolation.plans import _plans_submitted

    plan_round.delete()
    _plans_submitted(world)
    client.force_login(world.people["partner"])
    html = client.get(GRID).content.decode()
    assert "Version 1" in html
    assert 'name="v:' not in html


def test_a_viewer_cannot_post_the_grid(client, world, plan_round):
    client.force_login(world.people["viewer"])
    assert client.post(GRID, {"v:F110::1": "1", "e:F110::1": ""}).status_code == 403


def test_narrative_save_and_show(member_client, world):
    url = "/rounds/2026-27/ZA1/narratives/summary/"
    assert member_client.post(url, {"text": "We will balance."}).status_code == 302
    assert "We will balance." in member_client.get(url).content.decode()


BOARD_DATE = {
    "board_approval_date_0": "1",
    "board_approval_date_1": "11",
    "board_approval_date_2": "2026",
}


def test_start_then_submit_page_explains_missing_figures(client, world, plan_round):
    submission_start(actor=world.people["member"], plan_round=plan_round, organisation=world.org_a)
    client.force_login(world.people["approver"])
    # Before anyone opens the form, the plan page says what stops it being submitted.
    page = client.get("/rounds/2026-27/ZA1/").content.decode()
    assert "Before the plan can be submitted" in page
    assert 'href="/rounds/2026-27/ZA1/sections/finance/#line-F100"' in page
    assert "Empty</strong>" in page
    response = client.post("/rounds/2026-27/ZA1/submit/", BOARD_DATE | {"confirmed": "on"})
    assert response.status_code == 422
    html = response.content.decode()
    assert html.count('class="nhsuk-error-summary"') == 1
    assert "The plan was not submitted: it is not complete." in html
    assert "F100 Patient care income from commissioners in the system has no figure" in html
    response = client.post("/rounds/2026-27/ZA1/submit/", BOARD_DATE)
    html = response.content.decode()
    assert html.count('class="nhsuk-error-summary"') == 1
    assert '<a href="#id_confirmed">Confirm that the board has approved this plan.</a>' in html


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        (("", "", ""), "Enter the date the board approved the plan"),
        (("31", "", "2026"), "The date the board approved the plan must include a month"),
        (("31", "2", "2026"), "The date the board approved the plan must be a real date"),
        (("1", "2", "26"), "The date the board approved the plan must be a real date"),
    ],
)
def test_the_board_approval_date_is_typed_in_three_boxes(client, world, plan_round, parts, message):
    submission_start(actor=world.people["member"], plan_round=plan_round, organisation=world.org_a)
    client.force_login(world.people["approver"])
    data = {f"board_approval_date_{i}": part for i, part in enumerate(parts)}
    html = client.post("/rounds/2026-27/ZA1/submit/", data | {"confirmed": "on"}).content.decode()
    assert f'<a href="#id_board_approval_date_0">{message}</a>' in html
    assert 'class="nhsuk-date-input"' in html and 'name="board_approval_date_2"' in html


def test_home_page_lists_plans_needing_attention(client, world, plan_round):
    from django.utils import timezone

    from plans.models import PlanningRound
    from tests.isolation.plans import _plans_submitted

    plan_round.delete()
    _plans_submitted(world)
    client.force_login(world.people["lead"])
    assert (
        "Alpha Hospitals NHS Trust: plan waiting for your decision"
        in client.get("/").content.decode()
    )
    client.force_login(world.people["partner"])
    home = client.get("/").content.decode()
    draft = home.index("Beta Community NHS Trust: draft plan due")
    final = home.index("Beta Community NHS Trust: final plan due")
    assert draft < final  # the sooner first
    draft_deadline = timezone.localtime(PlanningRound.objects.get().draft_deadline)
    assert f"Due {draft_deadline:%-d %B %Y}" in home[draft:final]
    from plans.models import Submission
    from plans.services import submission_return

    submission_return(
        actor=world.people["lead"], submission=Submission.objects.get(), reason="Check"
    )
    client.force_login(world.people["member"])
    assert "plan returned by the system lead" in client.get("/").content.decode()


def test_deadlines_come_most_urgent_first_with_days_left_and_past_ones_marked(
    client, world, plan_round
):
    import datetime as dt

    from django.utils import timezone

    # At noon, London time, so the days counted do not depend on the hour the test runs.
    noon = timezone.localtime().replace(hour=12, minute=0, second=0, microsecond=0)
    plan_round.draft_deadline = noon - dt.timedelta(days=3)
    plan_round.final_deadline = noon + dt.timedelta(days=10)
    plan_round.save()
    client.force_login(world.people["member"])
    items = client.get("/").content.decode().split("Needs your attention", 1)[1]
    items = items.split("</ul>", 1)[0].split("<li>")[1:]
    assert "draft plan due" in items[0] and "Past its date" in items[0]
    assert "3 days ago" in items[0]
    assert "final plan due" in items[1] and "10 days left" in items[1]
    assert "Past its date" not in items[1]


def test_the_draft_is_shown_beside_the_last_submitted_version(client, world, plan_round):
    from tests.isolation.plans import _plans_returned

    plan_round.delete()
    _plans_returned(world)
    submission = Submission.objects.get()
    year_before = sum(
        Value.objects.filter(version__number=1, line__code="F110").values_list("value", flat=True)
    )
    draft_save(
        actor=world.people["member"],
        submission=submission,
        cells=[CellInput("F110", 1, "0", expected=UNSET)],
    )
    january = Value.objects.get(version__number=1, line__code="F110", month=1).value
    client.force_login(world.people["member"])
    html = client.get(GRID).content.decode()
    assert (
        '<th scope="col" class="ob-num">Version 1</th><th scope="col" class="ob-num">Change</th>'
        in html
    )
    assert f'id="prev-F110-x">{numbers.figure(year_before)}<' in html
    assert f'id="change-F110-x">{numbers.figure(-january)}<' in html
    assert '<td class="ob-changed" id="cell-F110-x-1">' in html


def test_more_decimal_places_on_request(member_client, world):
    member_client.post(CELLS, {"v:F110::1": "1234.567", "e:F110::1": ""})
    assert 'id="total-F110-x">1,235<' in member_client.get(GRID).content.decode()
    response = member_client.post("/account/places/", {"more": "1", "next": GRID})
    assert response.status_code == 302 and response["Location"] == GRID
    html = member_client.get(GRID).content.decode()
    assert 'id="total-F110-x">1,234.567<' in html
    assert "Show the usual places" in html
    # Somewhere else entirely is not where it sends anyone.
    response = member_client.post(
        "/account/places/", {"more": "0", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_the_board_pack_holds_the_whole_plan(client, world, plan_round):
    from tests.isolation.plans import _plans_submitted

    plan_round.delete()
    _plans_submitted(world)
    client.force_login(world.people["partner"])
    html = client.get("/rounds/2026-27/ZA1/board-pack/").content.decode()
    for heading in ("Finance – income &amp; expenditure", "Workforce", "Versions", "Summary"):
        assert heading in html, heading
    assert "Board approval" in html and "Print or save as PDF" in html
    assert 'name="v:' not in html  # read-only


def test_sections_say_whether_they_are_complete(client, world, plan_round):
    from tests.isolation.plans import _plans_returned

    plan_round.delete()
    _plans_returned(world)
    client.force_login(world.people["member"])
    html = client.get("/rounds/2026-27/ZA1/").content.decode()
    assert "Every required figure and narrative is in" in html
    assert html.count("Complete</strong>") >= 2
    assert "Has problems" not in html


def test_a_spread_never_overwrites_someone_elses_change(member_client, world):
    member_client.post(CELLS, {"v:F110::1": "5", "e:F110::1": ""})
    started = {f"e:F110::{m}": ("5" if m == 1 else "") for m in range(1, 13)}
    draft_save(
        actor=world.people["approver"],
        submission=Submission.objects.get(),
        cells=[CellInput("F110", 2, "9")],
    )
    spread = {"source": "spread", "line": "F110", "total": "120", "method": "even"}
    response = member_client.post(CELLS, spread | started)
    assert response.status_code == 409
    assert Value.objects.get(line__code="F110", month=2).value == 9
    # Without the figures it started from, a spread is refused rather than trusted.
    assert member_client.post(CELLS, spread).status_code == 422
    assert Value.objects.count() == 2


def test_the_page_without_scripts_refuses_a_spread_over_someone_elses_change(member_client, world):
    page = member_client.get(GRID + "spread/").content.decode()
    assert 'name="revision" value="0"' in page
    draft_save(
        actor=world.people["approver"],
        submission=Submission.objects.get(),
        cells=[CellInput("F110", 2, "9")],
    )
    data = {"row": "F110-x", "total": "120", "method": "even", "revision": "0"}
    response = member_client.post(GRID + "spread/", data)
    assert response.status_code == 422
    assert "someone else changed it since you opened this page" in response.content.decode()
    assert Value.objects.get(line__code="F110", month=2).value == 9
    data["revision"] = str(Submission.objects.get().versions.get(number=0).revision)
    assert member_client.post(GRID + "spread/", data).status_code == 302
    assert sum(Value.objects.values_list("value", flat=True)) == 120


def test_partners_see_a_cells_line_but_not_its_draft_history(client, world, plan_round):
    from tests.isolation.plans import _plans_submitted

    plan_round.delete()
    _plans_submitted(world)
    client.force_login(world.people["partner"])
    html = client.get(GRID + "cell/?line=F110&month=1").content.decode()
    assert "Other patient care income" in html
    assert "Last changed" not in html and "No changes recorded" not in html


def test_the_finance_grid_shows_the_plan_against_the_control_total(member_client, world):
    from payments.services.control_totals import control_total_set

    plan_round = Submission.objects.get().round
    control_total_set(
        actor=None, plan_round=plan_round, organisation=world.org_a, amount=Decimal("-1500")
    )
    member_client.post(CELLS, {"v:F110::1": "1000", "e:F110::1": ""})  # income: a surplus of 1,000
    html = member_client.get(GRID).content.decode()
    assert "Control total, £000</dt><dd>(1,500)</dd>" in html
    assert '<dd id="plan-surplus">1,000</dd>' in html
    assert 'id="plan-against">2,500 <span class="ob-meta">better</span>' in html
