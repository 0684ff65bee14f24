"""The planning pages: the grid (as a form and cell by cell with htmx), narratives,
workflow pages and what each person sees."""

import pytest

from plans.models import Submission, Value
from plans.services import CellInput, draft_save, submission_start

pytestmark = pytest.mark.django_db
GRID = "/rounds/2026-27/ZA1/sections/finance/"


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
    assert 'id="derived-F900-1">-1,250.5<' not in page and 'id="derived-F900-1">1,250.5<' in page


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
    assert "someone else changed this to 7.000 after you started; yours was 9.000" in html
    assert Value.objects.get().value == 7
    # The page now carries their value as the starting point: saving again keeps yours.
    assert 'name="e:F110::1" value="7"' in html
    assert member_client.post(GRID, {"v:F110::1": "9", "e:F110::1": "7"}).status_code == 302
    assert Value.objects.get().value == 9


def test_htmx_cell_save_returns_the_cell_and_updated_totals(member_client, world):
    response = member_client.post(
        GRID,
        {"v:F110::1": "100", "e:F110::1": "", "cell": "cell-F110-x-1"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<td class="nhsuk-table__cell ob-num" id="cell-F110-x-1">')
    assert 'id="derived-F900-1" hx-swap-oob="true">100<' in html
    assert 'id="total-F110-x" hx-swap-oob="true">100<' in html


def test_htmx_cell_with_a_problem_answers_422_with_the_message(member_client, world):
    response = member_client.post(
        GRID, {"v:F110::1": "-3", "e:F110::1": "", "cell": "cell-F110-x-1"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422
    assert "must be zero or more" in response.content.decode()


def test_partners_see_submitted_figures_read_only(client, world, plan_round):
    from tests.isolation import _plans_submitted

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


def test_start_then_submit_page_explains_missing_figures(client, world, plan_round):
    submission_start(actor=world.people["member"], plan_round=plan_round, organisation=world.org_a)
    client.force_login(world.people["approver"])
    response = client.post(
        "/rounds/2026-27/ZA1/submit/", {"board_approval_date": "2026-11-01", "confirmed": "on"}
    )
    assert response.status_code == 422
    assert "The plan is not complete" in response.content.decode()
    response = client.post("/rounds/2026-27/ZA1/submit/", {"board_approval_date": "2026-11-01"})
    assert "Confirm that the board has approved this plan." in response.content.decode()


def test_home_page_lists_plans_needing_attention(client, world, plan_round):
    from tests.isolation import _plans_submitted

    plan_round.delete()
    _plans_submitted(world)
    client.force_login(world.people["lead"])
    assert (
        "Alpha Hospitals NHS Trust: plan waiting for your decision"
        in client.get("/").content.decode()
    )
    client.force_login(world.people["partner"])
    assert "Beta Community NHS Trust: plan due by" in client.get("/").content.decode()
    from plans.models import Submission
    from plans.services import submission_return

    submission_return(
        actor=world.people["lead"], submission=Submission.objects.get(), reason="Check"
    )
    client.force_login(world.people["member"])
    assert "plan returned by the system lead" in client.get("/").content.decode()
