"""The system plan goes to the region: submitted with a narrative, approved or returned with
reasons, resubmitted; the region sees its systems side by side. Every step audited."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from openbook.models import AuditEvent
from plans.models import SystemComment, SystemSubmission
from plans.region_overview import region_overview
from plans.services.system import (
    system_comment_add,
    system_plan_approve,
    system_plan_return,
    system_plan_submit,
)
from plans.system_plan import system_plan_get

pytestmark = pytest.mark.django_db


@pytest.fixture
def collated(world):
    from plans.models import PlanningRound
    from tests.isolation.plans import _plans_submitted

    _plans_submitted(world)
    plan_round = PlanningRound.objects.get()
    return system_plan_get(world.people["lead"], plan_round, world.s1)


def test_submit_approve(world, collated):
    version = system_plan_submit(
        actor=world.people["lead"], plan=collated, narrative="Balanced overall."
    )
    assert version.number == 1
    assert version.snapshot["organisations"][0]["ods_code"] == "ZA1"
    with pytest.raises(ValidationError, match="already submitted"):
        system_plan_submit(actor=world.people["lead"], plan=collated, narrative="Again")
    system_plan_approve(
        actor=world.people["reviewer"], plan_round=collated.round, system=world.s1, note="Good"
    )
    assert SystemSubmission.objects.get().status == "approved"
    actions = list(
        AuditEvent.objects.filter(system=world.s1, action__startswith="system_plan").values_list(
            "action", flat=True
        )
    )
    assert actions == ["system_plan.submitted", "system_plan.approved"]


def test_return_with_reasons_then_resubmit(world, collated):
    system_plan_submit(actor=world.people["lead"], plan=collated, narrative="First go")
    with pytest.raises(ValidationError):
        system_plan_return(
            actor=world.people["reviewer"], plan_round=collated.round, system=world.s1, reason=" "
        )
    system_plan_return(
        actor=world.people["reviewer"],
        plan_round=collated.round,
        system=world.s1,
        reason="Resolve the ICB mismatch",
    )
    assert SystemComment.objects.get().kind == "return_reason"
    second = system_plan_submit(actor=world.people["lead"], plan=collated, narrative="Resolved")
    assert second.number == 2
    system_comment_add(
        actor=world.people["reviewer"], plan_round=collated.round, system=world.s1, body="Thanks"
    )


@pytest.mark.parametrize("who", ["member", "approver", "system_viewer", "reviewer", "other_lead"])
def test_only_the_lead_submits(world, collated, who):
    with pytest.raises(PermissionDenied):
        system_plan_submit(actor=world.people[who], plan=collated, narrative="x")


@pytest.mark.parametrize("who", ["lead", "other_reviewer", "member", "admin"])
def test_only_the_regions_reviewer_decides(world, collated, who):
    system_plan_submit(actor=world.people["lead"], plan=collated, narrative="x")
    with pytest.raises(PermissionDenied):
        system_plan_approve(actor=world.people[who], plan_round=collated.round, system=world.s1)


def test_narrative_is_required(world, collated):
    with pytest.raises(ValidationError):
        system_plan_submit(actor=world.people["lead"], plan=collated, narrative="  ")


def test_the_region_sees_its_systems_side_by_side(world, collated, client):
    system_plan_submit(actor=world.people["lead"], plan=collated, narrative="x")
    rows = region_overview(world.people["reviewer"], collated.round, world.r1)
    assert [r.system.code for r in rows] == ["s1", "s2"]
    assert rows[0].submission.status == "submitted"
    assert rows[0].missing_count == 2 and rows[1].missing_count == 1
    client.force_login(world.people["reviewer"])
    page = client.get("/rounds/2026-27/regions/r1/").content.decode()
    assert "Awaiting review" in page and "System Two" in page
    client.force_login(world.people["lead"])
    assert "System Two" not in client.get("/rounds/2026-27/regions/r1/").content.decode()


def test_pages_for_submit_and_return(world, collated, client):
    client.force_login(world.people["lead"])
    assert client.post("/rounds/2026-27/systems/s1/submit/", {"narrative": ""}).status_code == 422
    assert (
        client.post("/rounds/2026-27/systems/s1/submit/", {"narrative": "Plan"}).status_code == 302
    )
    client.force_login(world.people["reviewer"])
    assert client.post("/rounds/2026-27/systems/s1/return/", {"reason": "Fix"}).status_code == 302
    page = client.get("/rounds/2026-27/systems/s1/").content.decode()
    assert "Returned by the region" in page and "Fix" in page


def test_an_approved_plan_is_sent_again_only_when_it_has_changed(world, collated):
    from plans.models import Submission
    from plans.services import submission_return

    lead = world.people["lead"]
    system_plan_submit(actor=lead, plan=collated, narrative="Balanced overall.")
    system_plan_approve(actor=world.people["reviewer"], plan_round=collated.round,
                        system=world.s1, note="Good")  # fmt: skip
    with pytest.raises(ValidationError, match="nothing has changed since"):
        system_plan_submit(actor=lead, plan=collated, narrative="Again")
    # Alpha's plan goes back to it: the collated plan is no longer what the region approved.
    submission_return(actor=lead, submission=Submission.objects.get(), reason="Fix the pay bill")
    changed = system_plan_get(lead, collated.round, world.s1)
    version = system_plan_submit(actor=lead, plan=changed, narrative="Alpha's plan is back with it")
    assert (version.number, SystemSubmission.objects.get().status) == (2, "submitted")
    event = AuditEvent.objects.filter(action="system_plan.submitted").order_by("-id").first()
    assert event.reason == "replaces version 1, approved: the figures changed since"


def test_the_version_page_shows_what_was_sent_and_what_changed(world, collated, client_for):
    from plans.models import Submission
    from plans.services import submission_return

    lead = world.people["lead"]
    narrative = "Balanced overall. " * 60  # longer than the system page's summary shows
    system_plan_submit(actor=lead, plan=collated, narrative=narrative)
    url = f"/rounds/{collated.round.slug}/systems/s1/"
    reviewer = client_for(world.people["reviewer"])
    page = reviewer.get(url + "versions/1/").content.decode()
    assert narrative.strip() in page and "The live plan is the same as this version." in page
    assert "changed since" not in reviewer.get(url).content.decode()
    submission_return(actor=lead, submission=Submission.objects.get(), reason="Fix the pay bill")
    page = reviewer.get(url + "versions/1/").content.decode()
    assert "Alpha Hospitals NHS Trust&#x27;s plan: submitted then, returned now." in page
    assert "The plan has changed since version 1 was sent" in reviewer.get(url).content.decode()
    assert reviewer.get(url + "versions/2/").status_code == 404


def test_the_submit_page_says_what_is_being_sent(world, collated, client_for):
    page = (
        client_for(world.people["lead"])
        .get(f"/rounds/{collated.round.slug}/systems/s1/submit/")
        .content.decode()
    )
    assert "What you are sending" in page
    assert "Submitted, not yet accepted by you" in page
    assert "Not every partner's plan is in and accepted" in page


def test_a_change_that_leaves_every_surplus_alone_still_counts(world, collated):
    """Alpha's income and its pay bill both rise by £7k: no surplus moves, but the region
    approved other figures, so the plan can and should go again."""
    import datetime as dt

    from demo.synthetic import plan_cells
    from plans.models import Submission
    from plans.services import draft_save, submission_recall, submission_submit
    from plans.services.system import snapshot, snapshot_changes

    lead, approver = world.people["lead"], world.people["approver"]
    system_plan_submit(actor=lead, plan=collated, narrative="Balanced overall.")
    system_plan_approve(actor=world.people["reviewer"], plan_round=collated.round,
                        system=world.s1, note="Good")  # fmt: skip
    submission = Submission.objects.get()
    submission_recall(actor=approver, submission=submission)
    cells = plan_cells(collated.round, world.org_a)
    for i, cell in enumerate(cells):
        if cell.month == 1 and cell.line in ("F100", "F2MEDS"):
            cells[i] = type(cell)(cell.line, 1, cell.value + 7, cell.counterparty)
    draft_save(actor=approver, submission=submission, cells=cells)
    submission_submit(actor=approver, submission=submission, board_approval_date=dt.date.today(),
                      confirmed=True)  # fmt: skip
    changed = system_plan_get(lead, collated.round, world.s1)
    sent = SystemSubmission.objects.get().versions.get(number=1).snapshot
    assert sent["system_surplus"] == snapshot(changed)["system_surplus"]
    changes = snapshot_changes(sent, snapshot(changed))
    assert "Alpha Hospitals NHS Trust: its plan's figures have changed." in changes
    assert any(
        c.startswith("Patient care income from commissioners in the system (F100):")
        for c in changes
    ), changes
    assert system_plan_submit(actor=lead, plan=changed, narrative="Pay award funded").number == 2
