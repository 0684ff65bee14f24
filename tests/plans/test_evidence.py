"""The system lead decides with the figures in front of them: the plan page shows its surplus,
its position against the control total, its mismatches and pay flags, and what changed since
the version the lead last opened; accepting one with mismatches needs a note. The same for the
region's reviewer and a system plan version."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from openbook.models import AuditEvent
from payments.services.control_totals import control_total_set
from plans.cells import CellInput
from plans.evidence import compare_base, submission_evidence
from plans.models import Comment, Submission
from plans.services import draft_save, submission_accept, submission_return, submission_submit
from plans.services.system import system_plan_approve, system_plan_submit
from plans.system_plan import system_plan_get
from tests.plans.conftest import submit_plan

pytestmark = pytest.mark.django_db
D = Decimal


def monthly(code, value, counterparty=None):
    return [CellInput(code, m, value, counterparty=counterparty) for m in range(1, 13)]


@pytest.fixture
def mismatched(world, plan_round):
    """Alpha earns 100 a month from the ICB, which plans 110 a month with Alpha (120 apart over
    the year, over a threshold of 100); Alpha plans medical pay but no medical staff."""
    plan_round.balance_threshold = D(100)
    plan_round.save()
    alpha = monthly("F100", "100", "ZA3") + monthly("F2MEDS", "90")
    icb = monthly("F500", "300") + monthly("F510", "110", "ZA1") + monthly("F520", "150")
    submit_plan(world.org_a, alpha, world.people["approver"])
    submit_plan(world.commissioner, icb)
    control_total_set(actor=None, plan_round=plan_round, organisation=world.org_a, amount=D(-50))
    return Submission.objects.get(organisation=world.org_a)


def test_the_evidence_names_the_mismatch_the_flag_and_the_position(world, mismatched):
    evidence = submission_evidence(mismatched)
    assert [(p.provider, p.commissioner, p.difference) for p in evidence.mismatches] == [
        ("ZA1", "ZA3", D("-120.000"))
    ]
    assert [c.group for c in evidence.pay_flags] == ["Medical and dental"]
    assert evidence.surplus == D("120.000")  # 1,200 income less 1,080 pay
    assert evidence.control_total == D("-50.000")
    assert evidence.against == D("170.000")
    assert evidence.concern_summary == (
        "1 agreement-of-balances mismatch and 1 pay-per-WTE check out of range"
    )


def test_the_lead_sees_it_on_the_plan_page_and_others_do_not(client_for, world, mismatched):
    url = "/rounds/2026-27/ZA1/"
    page = client_for(world.people["lead"]).get(url).content.decode()
    evidence = page.split('id="evidence"', 1)[1].split("</section>", 1)[0]
    assert "NHS One ICB" in evidence and "(120)" in evidence
    assert "Medical and dental" in evidence
    assert "170" in evidence and "Meets it" in evidence
    for who in ("system_viewer", "partner", "approver"):
        assert 'id="evidence"' not in client_for(world.people[who]).get(url).content.decode(), who


def test_accepting_with_mismatches_needs_a_note(client_for, world, mismatched):
    lead = world.people["lead"]
    with pytest.raises(ValidationError) as refused:
        submission_accept(actor=lead, submission=mismatched, note="  ")
    assert "1 agreement-of-balances mismatch" in refused.value.message_dict["note"][0]
    assert Submission.objects.get(pk=mismatched.pk).status == "submitted"

    client = client_for(lead)
    page = client.post("/rounds/2026-27/ZA1/accept/", {"note": ""})
    assert page.status_code == 422
    assert b"Confirm you have read the 1 agreement-of-balances mismatch" in page.content
    api = client.post(
        "/api/v1/rounds/2026-27/submissions/ZA1/accept/", {}, content_type="application/json"
    )
    assert api.status_code == 400 and "note" in api.json()["error"]["fields"]
    assert Submission.objects.get(pk=mismatched.pk).status == "submitted"

    done = client.post(
        "/rounds/2026-27/ZA1/accept/",
        {"note": "The ICB confirms its figure in January.", "confirmed": "on"},
    )
    assert done.status_code == 302
    assert Submission.objects.get(pk=mismatched.pk).status == "accepted"
    note = Comment.objects.get(submission=mismatched, kind=Comment.Kind.ACCEPT_NOTE)
    assert note.body == "The ICB confirms its figure in January."
    event = AuditEvent.objects.get(action="submission.accepted")
    assert event.reason == note.body
    assert event.after["mismatches"] == 1 and event.after["pay_flags"] == 1


def test_a_plan_with_nothing_to_acknowledge_is_accepted_without_a_note(
    client_for, world, mismatched
):
    plan_round = mismatched.round
    plan_round.balance_threshold = D(1000)
    plan_round.pay_per_wte_min, plan_round.pay_per_wte_max = D(0), D(99999)
    plan_round.save()
    # Still a pay flag (pay with no staff); put staff in and resubmit.
    submission_return(actor=world.people["lead"], submission=mismatched, reason="Staff")
    approver = world.people["approver"]
    draft_save(actor=approver, submission=mismatched, cells=monthly("WMEDS", "10"))
    import datetime as dt

    submission_submit(actor=approver, submission=mismatched,
                      board_approval_date=dt.date.today(), confirmed=True)  # fmt: skip
    assert submission_evidence(mismatched).concerns == 0
    # An API client that read version 1 is told the plan moved on, and nothing happens.
    api = client_for(world.people["lead"]).post(
        "/api/v1/rounds/2026-27/submissions/ZA1/accept/",
        {"version": 1},
        content_type="application/json",
    )
    assert api.status_code == 409 and "now version 2" in api.json()["error"]["message"]
    assert Submission.objects.get(pk=mismatched.pk).status == "submitted"
    response = client_for(world.people["lead"]).post("/rounds/2026-27/ZA1/accept/")
    assert response.status_code == 302
    assert Submission.objects.get(pk=mismatched.pk).status == "accepted"


def test_what_changed_since_the_version_the_lead_last_opened(client_for, world, mismatched):
    lead = client_for(world.people["lead"])
    first = lead.get("/rounds/2026-27/ZA1/").content.decode()
    assert "first version submitted" in first
    submission_return(actor=world.people["lead"], submission=mismatched, reason="Income")
    approver = world.people["approver"]
    draft_save(actor=approver, submission=mismatched, cells=monthly("F100", "110", "ZA3"))
    import datetime as dt

    submission_submit(actor=approver, submission=mismatched,
                      board_approval_date=dt.date.today(), confirmed=True)  # fmt: skip
    second = lead.get("/rounds/2026-27/ZA1/").content.decode()
    changes = second.split('id="evidence-changes"', 1)[1].split("</p>", 1)[0]
    assert "since you last looked (version 1)" in changes
    assert "From version 1 to version 2: 12 figures changed, a net £120k" in changes
    # The lead has now seen version 2: nothing new to show.
    assert (
        "you last looked at version 2, the latest"
        in lead.get("/rounds/2026-27/ZA1/").content.decode()
    )


def test_compare_base():
    assert compare_base(1, None, [1]) is None  # a first look at the first version
    assert compare_base(3, None, [1, 2, 3]) == 2  # a first look: against the one before
    assert compare_base(3, 1, [1, 2, 3]) == 1  # since the one last seen
    assert compare_base(3, 3, [1, 2, 3]) is None  # seen already


def test_approving_a_system_plan_with_mismatches_needs_a_note(client_for, world, mismatched):
    plan = system_plan_get(world.people["lead"], mismatched.round, world.s1)
    system_plan_submit(actor=world.people["lead"], plan=plan, narrative="One mismatch left.")
    reviewer = client_for(world.people["reviewer"])
    version = reviewer.get("/rounds/2026-27/systems/s1/versions/1/").content.decode()
    evidence = version.split('id="evidence"', 1)[1].split("</section>", 1)[0]
    assert "Agreement-of-balances mismatches" in evidence and "first version sent" in evidence
    assert "Medical and dental" in evidence
    with pytest.raises(ValidationError, match="Say why you are approving"):
        system_plan_approve(actor=world.people["reviewer"], plan_round=mismatched.round,
                            system=world.s1)  # fmt: skip
    assert reviewer.post("/rounds/2026-27/systems/s1/approve/", {}).status_code == 422
    done = reviewer.post(
        "/rounds/2026-27/systems/s1/approve/", {"note": "Resolving in Q1", "confirmed": "on"}
    )
    assert done.status_code == 302
    assert AuditEvent.objects.get(action="system_plan.approved").reason == "Resolving in Q1"


def test_a_decision_on_a_page_that_has_since_moved_is_refused(client_for, world, mismatched):
    client = client_for(world.people["lead"])
    page = client.get("/rounds/2026-27/ZA1/accept/").content.decode()
    shown = page.split('name="shown" value="', 1)[1].split('"', 1)[0]
    assert shown == "1:1 agreement-of-balances mismatch and 1 pay-per-WTE check out of range"
    # Meanwhile a wider threshold makes the mismatch agreed: what the lead read is out of date.
    plan_round = mismatched.round
    plan_round.balance_threshold = D(1000)
    plan_round.save()
    refused = client.post("/rounds/2026-27/ZA1/accept/",
                          {"shown": shown, "note": "Fine", "confirmed": "on"})  # fmt: skip
    assert refused.status_code == 422
    assert b"has changed since you opened the page" in refused.content
    assert Submission.objects.get(pk=mismatched.pk).status == "submitted"
    fresh = refused.content.decode().split('name="shown" value="', 1)[1].split('"', 1)[0]
    assert fresh == "1:1 pay-per-WTE check out of range"
    done = client.post("/rounds/2026-27/ZA1/accept/",
                       {"shown": fresh, "note": "Fine", "confirmed": "on"})  # fmt: skip
    assert done.status_code == 302
