"""The control totals page: set, import, propose, agree; the region sees plan against SCT."""

from decimal import Decimal

import pytest

from payments.models import Transfer
from payments.selectors import current_control_totals

pytestmark = pytest.mark.django_db
SYS = "/rounds/2026-27/systems/s1/"
PAGE = SYS + "control-totals/"


def test_set_control_totals_and_see_the_system_control_total(client, world, plan_round):
    client.force_login(world.people["reviewer"])
    response = client.post(PAGE + "save/", {"ct:ZA1": "2", "ct:ZA2": "-10", "ct:ZA3": "0"})
    assert response.status_code == 302
    page = client.get(PAGE).content.decode()
    assert 'id="sct">(8)<' in page


def test_a_bad_amount_saves_nothing(client, world, plan_round):
    client.force_login(world.people["reviewer"])
    client.post(PAGE + "save/", {"ct:ZA1": "2", "ct:ZA2": "lots"})
    assert current_control_totals(plan_round, world.s1)["ZA1"] is None


def test_propose_and_agree_through_the_page(client, world, plan_round):
    client.force_login(world.people["reviewer"])
    client.post(PAGE + "save/", {"ct:ZA1": "2", "ct:ZA2": "-10"})
    from accounts.models import Role
    from accounts.services import membership_create

    membership_create(
        actor=None, user=world.people["partner"], role=Role.ORG_APPROVER, organisation=world.org_b
    )
    client.force_login(world.people["lead"])
    response = client.post(
        SYS + "transfers/",
        {"organisation": ["ZA1", "ZA2"], "amount": ["2", "-2"], "reason": "Stroke service"},
        follow=True,
    )
    assert "Transfer proposed" in response.content.decode()
    transfer = Transfer.objects.get()
    for who in ("approver", "partner"):
        client.force_login(world.people[who])
        client.post(SYS + f"transfers/{transfer.pk}/decide/", {"decision": "agree"})
    assert Transfer.objects.get().status == "agreed"
    assert current_control_totals(plan_round, world.s1)["ZA1"] == Decimal(4)
    client.force_login(world.people["reviewer"])
    region = client.get("/rounds/2026-27/regions/r1/").content.decode()
    assert "SCT (8)" in region


def test_an_unbalanced_proposal_is_explained(client, world, plan_round):
    client.force_login(world.people["reviewer"])
    client.post(PAGE + "save/", {"ct:ZA1": "2", "ct:ZA2": "-10"})
    client.force_login(world.people["lead"])
    response = client.post(
        SYS + "transfers/",
        {"organisation": ["ZA1", "ZA2"], "amount": ["2", "-1"], "reason": "Stroke service"},
    )
    body = response.content.decode()
    assert response.status_code == 422 and "not zero" in body
    assert not Transfer.objects.exists()
    # What was typed comes back, ready to correct.
    assert '<option value="ZA2" selected>' in body and 'value="-1"' in body
    assert ">Stroke service</textarea>" in body


def test_an_unreadable_amount_names_its_organisation_and_comes_back(client, world, plan_round):
    client.force_login(world.people["lead"])
    response = client.post(
        SYS + "transfers/",
        {"organisation": ["ZA1", "ZA2", ""], "amount": ["2", "two", ""], "reason": "Stroke"},
    )
    body = response.content.decode()
    assert response.status_code == 422 and not Transfer.objects.exists()
    assert "Amount 2 (Beta Community NHS Trust): “two” is not a number." in body
    assert "Nothing was proposed." in body
    assert 'value="two"' in body


def test_only_a_party_still_to_decide_is_offered_agree_and_refuse(client, world, plan_round):
    client.force_login(world.people["reviewer"])
    client.post(PAGE + "save/", {"ct:ZA1": "2", "ct:ZA2": "-10"})
    client.force_login(world.people["lead"])
    client.post(SYS + "transfers/", {"organisation": ["ZA1", "ZA2"], "amount": ["2", "-2"],
                                     "reason": "Stroke service"})  # fmt: skip
    buttons = 'value="agree"'
    assert buttons not in client.get(PAGE).content.decode()  # the lead agreed by proposing
    for who, offered in (("approver", True), ("reviewer", False), ("viewer", False)):
        client.force_login(world.people[who])
        assert (buttons in client.get(PAGE).content.decode()) is offered, who


def test_the_page_costs_the_same_queries_however_many_transfers_are_open(world, plan_round):
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from payments.services.control_totals import control_total_set
    from payments.services.transfers import transfer_propose

    for organisation, amount in ((world.org_a, 2), (world.org_b, -10)):
        control_total_set(actor=None, plan_round=plan_round, organisation=organisation,
                          amount=Decimal(amount))  # fmt: skip
    client = Client()
    client.force_login(world.people["approver"])

    def propose():
        transfer_propose(actor=world.people["lead"], plan_round=plan_round, system=world.s1,
                         moves=[("ZA1", Decimal(1)), ("ZA2", Decimal(-1))], reason="x")  # fmt: skip

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(PAGE).status_code == 200
        return len(captured)

    propose()
    queries()  # once first: a process reads a template version's lines on first use only
    one = queries()
    for _ in range(4):
        propose()
    assert queries() == one


def test_after_the_final_deadline_open_transfers_are_not_offered(client, world, plan_round):
    import datetime as dt

    from django.utils import timezone

    from payments.services.control_totals import control_total_set
    from payments.services.transfers import transfer_propose

    for organisation, amount in ((world.org_a, 2), (world.org_b, -10)):
        control_total_set(actor=None, plan_round=plan_round, organisation=organisation,
                          amount=Decimal(amount))  # fmt: skip
    transfer_propose(actor=world.people["lead"], plan_round=plan_round, system=world.s1,
                     moves=[("ZA1", Decimal(1)), ("ZA2", Decimal(-1))], reason="x")  # fmt: skip
    client.force_login(world.people["approver"])
    assert 'value="agree"' in client.get(PAGE).content.decode()
    assert "waiting for your agreement" in client.get("/").content.decode()
    plan_round.draft_deadline = timezone.now() - dt.timedelta(days=2)
    plan_round.final_deadline = timezone.now() - dt.timedelta(days=1)
    plan_round.save()
    assert 'value="agree"' not in client.get(PAGE).content.decode()
    assert "waiting for your agreement" not in client.get("/").content.decode()


def test_a_dispute_without_a_reason_is_an_error_on_the_field(client_for, world):
    from payments.models import Settlement
    from tests import isolation

    isolation._with_settlement(world)
    settlement = Settlement.objects.get()
    url = (f"/rounds/2026-27/systems/s1/agreements/{settlement.agreement_id}/settlements/"
           f"{settlement.pk}/respond/")  # fmt: skip
    page = client_for(world.people["approver"]).post(
        url, {"organisation": "ZA1", "answer": "dispute", "reason": " "}
    )
    assert page.status_code == 422
    html = page.content.decode()
    summary = html.split('class="nhsuk-error-summary"', 1)[1].split("</div></div>", 1)[0]
    assert '<a href="#reason-ZA1">Say why you dispute the settlement' in summary
    assert 'id="reason-ZA1-error"' in html and "nhsuk-form-group--error" in html
    assert Settlement.objects.get().status == "proposed"


def test_the_results_poll_does_not_collate_the_system_plan(client, world, plan_round):
    """The page polls its results part every two seconds while the worker runs: that answer
    reads the stored results, never the partners' plan figures."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.isolation.plans import _plans_submitted

    plan_round.delete()
    _plans_submitted(world)
    client.force_login(world.people["lead"])
    with CaptureQueriesContext(connection) as page:
        assert client.get(PAGE).status_code == 200
    assert any("plans_value" in q["sql"] for q in page.captured_queries)  # the page does
    with CaptureQueriesContext(connection) as poll:
        response = client.get(PAGE + "?part=results", HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and 'id="results"' in response.content.decode()
    assert not [q["sql"] for q in poll.captured_queries if "plans_value" in q["sql"]]
    assert len(poll.captured_queries) < len(page.captured_queries)
