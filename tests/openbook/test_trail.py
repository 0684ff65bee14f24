"""A system's audit trail shown: the timeline and its filters, the exports checked
independently of our own code, and a broken chain reported on the page and through the API."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from decimal import Decimal

import pytest
from django.db import connection

from openbook import registry
from openbook.audit import audit_record
from openbook.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def events(world):
    audit_record(action="agreement.drafted", actor=world.people["lead"], system=world.s1,
                 object_type="payments.agreement", object_id=1, after={"name": "Pool"})  # fmt: skip
    audit_record(action="settlement.disputed", actor=world.people["approver"],
                 organisation=world.org_a, object_type="payments.settlement", object_id=2,
                 reason="=HYPERLINK(\"http://x\") the figures are wrong")  # fmt: skip
    audit_record(action="transfer.proposed", actor=world.people["lead"], system=world.s1,
                 payload={"moves": [["ZA1", "2"]]})  # fmt: skip
    audit_record(action="agreement.drafted", actor=world.people["other_lead"], system=world.s2)


def _recompute(rows):
    """The published algorithm, written out here from its description."""
    prev = "0" * 64
    for row in rows:
        fields = {k: v for k, v in row.items() if k not in ("prev_hash", "hash")}
        canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert row["prev_hash"] == prev
        assert hashlib.sha256((prev + canonical).encode()).hexdigest() == row["hash"]
        prev = row["hash"]


def test_the_json_export_checks_out_independently(world, events, client_for):
    data = client_for(world.people["partner"]).get("/systems/s1/audit.json").json()
    assert [e["action"] for e in data["events"]][-3:] == [
        "agreement.drafted", "settlement.disputed", "transfer.proposed"]  # fmt: skip
    assert all(e["system_id"] == world.s1.pk for e in data["events"])  # not S2's event
    _recompute(data["events"])


def test_the_csv_export_has_the_same_hashes_and_no_live_formulas(world, events, client_for):
    data = client_for(world.people["partner"]).get("/systems/s1/audit.csv").content
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 that Excel reads as such
    text = data.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["hash"] for r in rows] == list(
        AuditEvent.objects.filter(system=world.s1).order_by("seq").values_list("hash", flat=True)
    )
    assert rows[-2]["reason"].startswith("'=HYPERLINK")


def test_the_timeline_filters_by_kind_organisation_person_and_date(world, events, client_for):
    client = client_for(world.people["system_viewer"])
    total = AuditEvent.objects.filter(system=world.s1).count()  # memberships made, and ours
    page = client.get("/systems/s1/audit/").content.decode()
    assert "Verified" in page and f"All {total} events check out" in page
    assert page.count('class="ob-timeline__event"') == total
    # Written for people: event names, not codes; people by name, the e-mail on hover.
    assert "Settlement disputed" in page and "settlement.disputed" not in page
    assert 'title="approver@example.nhs.uk">Approver</span>' in page
    only = client.get("/systems/s1/audit/?kind=settlement").content.decode()
    assert only.count('class="ob-timeline__event"') == 1 and "Settlement disputed" in only
    by_org = client.get("/systems/s1/audit/?organisation=ZA1").content.decode()
    assert (
        by_org.count('class="ob-timeline__event"')
        == AuditEvent.objects.filter(system=world.s1, organisation=world.org_a).count()
    )
    assert "Settlement disputed" in by_org and "Transfer proposed" not in by_org
    by_person = client.get("/systems/s1/audit/?person=lead@").content.decode()
    assert by_person.count('class="ob-timeline__event"') == 2  # not other_lead's: not in S1
    paged = client.get("/systems/s1/audit/?page=1").content.decode()
    assert paged.count('class="nhsuk-pagination"') == 2  # above the events and below
    # The dates in the NHS.UK date input: day, month and year.
    future = client.get("/systems/s1/audit/?since_0=1&since_1=1&since_2=2999").content.decode()
    assert "No events match" in future
    bad = client.get("/systems/s1/audit/?since_0=31&since_1=2&since_2=2026").content.decode()
    assert "The from date must be a real date" in bad
    assert 'class="nhsuk-date-input"' in bad and 'name="until_2"' in bad


def test_a_broken_chain_is_shown_and_reported_by_the_api(world, events, client_for):
    event = AuditEvent.objects.get(action="settlement.disputed")
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        cursor.execute("UPDATE openbook_auditevent SET reason = 'fine' WHERE id = %s", [event.pk])
        cursor.execute("SET session_replication_role = origin")
    client = client_for(world.people["lead"])
    page = client.get("/systems/s1/audit/").content.decode()
    assert "The chain does not verify" in page and f"Event {event.seq}" in page
    report = client.get("/api/v1/systems/s1/audit/verify/").json()
    assert report["ok"] is False and report["broken_seq"] == event.seq


def test_the_api_lists_events_with_filters(world, events, client_for):
    data = client_for(world.people["reviewer"]).get("/api/v1/systems/s1/audit/?kind=agreement")
    body = data.json()
    assert [e["action"] for e in body["results"]] == ["agreement.drafted"]
    _recompute(client_for(world.people["reviewer"]).get("/api/v1/systems/s1/audit/")
               .json()["results"])  # fmt: skip


def test_draft_figures_stay_in_the_organisations_own_chain(world, client_for):
    from openbook.audit import audit_verify_chain
    from openbook.models import organisation_chain
    from plans.cells import CellInput
    from plans.services import draft_save, submission_start
    from tests.plans.conftest import make_round

    plan_round = make_round()
    submission = submission_start(actor=world.people["member"], plan_round=plan_round,
                                  organisation=world.org_a)  # fmt: skip
    draft_save(actor=world.people["member"], submission=submission,
               cells=[CellInput(line="F110", month=1, value=Decimal("4242.5"))])  # fmt: skip
    export = client_for(world.people["partner"]).get("/systems/s1/audit.json").content.decode()
    assert "draft.saved" not in export and "4242.5" not in export
    private = AuditEvent.objects.get(action="draft.saved")
    assert private.chain == organisation_chain(world.org_a.pk)
    assert audit_verify_chain(private.chain).ok


def test_each_event_links_to_its_object(world, client_for):
    from payments.services.agreements import agreement_create
    from tests.plans.conftest import make_round

    plan_round = make_round()
    pool = {
        "kind": "risk_pool",
        "params": {"budget": "10000", "shares": {"ZA1": "50", "ZA2": "50"}},
    }
    agreement = agreement_create(actor=world.people["lead"], plan_round=plan_round,
                                 system=world.s1, name="Pool", partners=["ZA1", "ZA2"],
                                 mechanisms=[pool])  # fmt: skip
    page = client_for(world.people["partner"]).get("/systems/s1/audit/").content.decode()
    assert f'<a href="/rounds/2026-27/systems/s1/agreements/{agreement.pk}/">Pool</a>' in page


def test_system_plan_control_total_and_fund_events_link_to_their_pages(world, client_for):
    """Approvals and returns of the system plan, control totals, the fund and its releases:
    each event on the timeline opens the page its object is on."""
    from openbook import trail
    from payments.models import ControlTotal
    from plans.models import PlanningRound, SystemSubmission
    from plans.services.system import system_plan_approve, system_plan_submit
    from plans.system_plan import system_plan_get
    from tests import isolation

    isolation._with_fund(world)  # plans in, control totals, the fund and a release
    plan_round = PlanningRound.objects.get()
    lead = world.people["lead"]
    system_plan_submit(actor=lead, plan=system_plan_get(lead, plan_round, world.s1),
                       narrative="Our plan")  # fmt: skip
    system_plan_approve(actor=world.people["reviewer"], plan_round=plan_round, system=world.s1,
                        note="Good")  # fmt: skip

    events = list(AuditEvent.objects.filter(system=world.s1))
    links = trail.object_links(events)
    by_action = {e.action: links[e.pk].url for e in events if e.pk in links}
    names = {e.action: links[e.pk].name for e in events if e.pk in links}
    slug = plan_round.slug
    assert by_action["system_plan.approved"] == f"/rounds/{slug}/systems/s1/#region"
    assert names["system_plan.approved"] == f"{world.s1.name}: system plan, {plan_round.name}"
    assert names["control_total.set"].endswith(": control total")
    assert SystemSubmission.objects.exists() and ControlTotal.objects.exists()
    fund_actions = [a for a in by_action if a.startswith(("release.", "fund."))]
    assert fund_actions and all(by_action[a] == f"/rounds/{slug}/systems/s1/fund/"
                                for a in fund_actions), by_action  # fmt: skip
    page = client_for(world.people["lead"]).get("/systems/s1/audit/").content.decode()
    assert f'href="/rounds/{slug}/systems/s1/#region"' in page


def test_event_details_read_as_words_and_paths():
    from openbook import trail

    event = AuditEvent(
        before={"amount": None},
        after={"flows": {"ZB1": "30.00", "ZB6": "-30.00"}, "outcomes_met": True},
        payload={"changes": [["A2AAE", 9, n] for n in range(40)], "partners": ["ZB1", "ZB6"]},
    )
    assert trail.event_details(event) == [
        ("Before › amount", "none"),
        ("After › flows › ZB1", "30.00"),
        ("After › flows › ZB6", "-30.00"),
        ("After › outcomes met", "Yes"),
        ("Changes", "40 entries (every one is in the JSON and CSV downloads)"),
        ("Partners", "ZB1, ZB6"),
    ]
    assert trail.event_details(AuditEvent(after=500)) == [("After", "500")]
    assert trail.event_details(AuditEvent(payload={"ZB1": "5"})) == [("ZB1", "5")]
    assert trail.event_details(AuditEvent(payload=["a", "b"])) == [("Details", "a, b")]
    assert trail.action_label("controltotal.changed_in_admin") == (
        "Changed by a platform administrator")  # fmt: skip


def test_every_action_the_code_records_has_a_name_for_people():
    """Each event code written in the services (action="…", _audit("…") and the fund's
    release_<status>) has a label, so the timeline never falls back to showing a code."""
    import re
    from pathlib import Path

    from payments.models import DiscretionaryRelease

    root = Path(__file__).resolve().parents[2]
    recorded = set()
    for app in ("accounts", "openbook", "payments", "plans", "notifications", "webhooks"):
        for path in (root / app).rglob("*.py"):
            text = path.read_text()
            recorded |= set(re.findall(r'(?:action=|_audit\()"([a-z_]+\.[a-z_]+)"', text))
            for pair in re.findall(r'"([a-z_]+\.[a-z_]+)" if \w+ else "([a-z_]+\.[a-z_]+)"', text):
                recorded |= set(pair)
    recorded |= {
        f"fund.release_{status}"
        for status in DiscretionaryRelease.Status.values
        if status != "proposed"
    } | {"fund.release_proposed"}
    assert len(recorded) > 40
    assert sorted(recorded - set(registry.ACTION_LABELS)) == []
