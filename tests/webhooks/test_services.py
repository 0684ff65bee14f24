"""Webhooks: what an address may be, the signature as Standard Webhooks defines it, and the
events each workflow raises (as delivery rows, in the change's own transaction)."""

import base64
import datetime as dt
import hashlib
import hmac
import json
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from accounts.models import Role
from accounts.services import membership_create
from openbook.errors import Conflict
from openbook.models import AuditEvent
from payments.models import Agreement, Settlement, Transfer
from payments.services import recalculation, settlements, transfers
from plans.models import PlanningRound, Submission
from plans.services import submission_accept
from tests.factories import UserFactory
from tests.isolation import _with_settlement
from webhooks import services
from webhooks.models import SUBSCRIBABLE, Delivery, Endpoint, Event

pytestmark = pytest.mark.django_db


def _every_event(world) -> Endpoint:
    return services.endpoint_create(actor=world.people["lead"], system=world.s1,
                                    url="https://ledger.example.nhs.uk/in",
                                    events=[e.value for e in SUBSCRIBABLE])  # fmt: skip


def _sent(event: str) -> list[dict]:
    return [json.loads(d.body) for d in Delivery.objects.filter(event=event).order_by("pk")]


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("", "Give the address"),
        ("ledger.example.nhs.uk/in", "Give the full address"),
        ("ftp://ledger.example.nhs.uk/in", "Give the full address"),
        ("http://ledger.example.nhs.uk/in", "Use an https:// address"),
        ("https://user:pw@ledger.example.nhs.uk/in", "Leave the user name and password out"),
        ("https://ledger.example.nhs.uk/in#x", "Leave out the part after #"),
        ("https://[::1", "This is not a web address"),
        ("https://ledger.example.nhs.uk:99999/in", "This is not a web address"),
        ("https://ledger.example.nhs.uk:0/in", "The port after the colon"),
        ("https://.example.nhs.uk/in", "is not a host name that can be looked up"),
    ],
)
def test_an_address_that_cannot_be_used_is_refused_with_why(url, problem):
    with pytest.raises(ValidationError) as refused:
        services.check_url(url)
    assert problem in refused.value.message_dict["url"][0]


def test_private_addresses_are_refused_unless_allowed(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_HOSTS = False
    for url in ("https://127.0.0.1/in", "https://10.1.2.3/in", "https://localhost:8443/in",
                "https://[::1]/in", "https://169.254.169.254/latest", "http://127.0.0.1:9/in",
                "https://[::ffff:10.0.0.1]/in", "https://[64:ff9b::a00:1]/in"):  # fmt: skip
        with pytest.raises(ValidationError):
            services.check_url(url)
    assert services.check_url(" https://ledger.example.nhs.uk/in?key=1 ") == (
        "https://ledger.example.nhs.uk/in?key=1"
    )
    settings.WEBHOOKS_ALLOW_PRIVATE_HOSTS = True
    assert services.check_url("http://127.0.0.1:9/in") == "http://127.0.0.1:9/in"
    with pytest.raises(ValidationError):  # plain http only to this machine, even then
        services.check_url("http://ledger.example.nhs.uk/in")


def test_the_signature_is_the_standard_one():
    """HMAC-SHA256 of "id.timestamp.body" under the base64-decoded secret, worked out here by
    hand, and checked by the Standard Webhooks library as a receiver would."""
    key = bytes(range(32))
    secret = "whsec_" + base64.b64encode(key).decode()
    at = dt.datetime(2026, 12, 3, 9, 30, tzinfo=dt.UTC)
    body = '{"id": "msg_1", "type": "webhook.ping"}'
    headers = services.signed_headers(secret, "msg_1", body, at, "webhook.ping")
    expected = hmac.new(key, f"msg_1.{int(at.timestamp())}.{body}".encode(), hashlib.sha256)
    assert headers["webhook-signature"] == "v1," + base64.b64encode(expected.digest()).decode()
    assert headers["webhook-timestamp"] == "1796290200"
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    fresh = services.signed_headers(secret, "msg_1", body, now, "webhook.ping")
    assert Webhook(secret).verify(body, fresh) == json.loads(body)


def test_only_the_lead_registers_and_each_change_is_audited(world):
    with pytest.raises(PermissionDenied):
        services.endpoint_create(actor=world.people["approver"], system=world.s1,
                                 url="https://a.example/in", events=["plan.submitted"])  # fmt: skip
    with pytest.raises(ValidationError) as refused:
        services.endpoint_create(actor=world.people["lead"], system=world.s1,
                                 url="https://a.example/in", events=["plan.eaten"])  # fmt: skip
    assert "Unknown event plan.eaten" in refused.value.message_dict["events"][0]
    endpoint = _every_event(world)
    assert endpoint.secret.startswith("whsec_") and len(base64.b64decode(endpoint.secret[6:])) == 32
    old = endpoint.secret
    services.endpoint_rotate_secret(actor=world.people["lead"], endpoint=endpoint)
    endpoint.refresh_from_db()
    assert endpoint.secret != old
    services.endpoint_update(actor=world.people["lead"], endpoint=endpoint, is_active=False)
    services.endpoint_remove(actor=world.people["lead"], endpoint=endpoint)
    actions = list(AuditEvent.objects.filter(action__startswith="webhook.")
                   .order_by("seq").values_list("action", flat=True))  # fmt: skip
    assert actions == ["webhook.registered", "webhook.secret_rotated", "webhook.changed",
                       "webhook.removed"]  # fmt: skip
    assert not any(old in json.dumps(e.payload or {}) for e in AuditEvent.objects.all())
    assert services.shown("https://a.example/in?token=s3cret") == "https://a.example/in?…"


def test_a_change_rolled_back_raises_nothing_and_an_endpoint_off_keeps_its_events(world):
    endpoint = _every_event(world)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.emit(Event.PLAN_SUBMITTED, world.s1, {"round": "x"})
        raise RuntimeError("refused")
    assert not Delivery.objects.exists()
    assert services.emit(Event.PLAN_SUBMITTED, world.s2, {"round": "x"}) == 0  # not S1's
    services.endpoint_update(actor=world.people["lead"], endpoint=endpoint, is_active=False)
    assert services.emit(Event.PLAN_SUBMITTED, world.s1, {"round": "x"}) == 1
    delivery = Delivery.objects.get()
    assert services.deliver(delivery.pk) == ("paused", None)  # waits, no attempt counted
    assert services.due(grace_seconds=-3600) == []  # nor does the sweep take it while off
    with pytest.raises(ValidationError, match="Turn the webhook on"):
        services.endpoint_ping(actor=world.people["lead"], endpoint=endpoint)
    services.endpoint_update(actor=world.people["lead"], endpoint=endpoint, is_active=True)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("pending", 0)
    assert services.due(grace_seconds=-3600) == [delivery.pk]


def test_a_change_made_to_an_older_reading_is_refused(world):
    endpoint = _every_event(world)
    read = endpoint.revision
    services.endpoint_update(actor=world.people["lead"], endpoint=endpoint, is_active=False,
                             expected_revision=read)  # fmt: skip
    with pytest.raises(Conflict):
        services.endpoint_update(actor=world.people["lead"], endpoint=endpoint,
                                 description="Ledger", expected_revision=read)  # fmt: skip
    endpoint.refresh_from_db()
    assert (endpoint.is_active, endpoint.description) == (False, "")


def test_an_attempt_that_fails_before_an_answer_is_recorded_and_retried(world, settings):
    """A host that cannot be looked up, and one that turns out private, are attempts with a
    reason; an attempt lost half way (the worker killed) is taken again by the sweep once
    its lease has passed."""
    settings.WEBHOOKS_ALLOW_PRIVATE_HOSTS = False
    endpoint = services.endpoint_create(actor=world.people["lead"], system=world.s1,
                                        url="https://receiver.invalid/in",
                                        events=["plan.submitted"])  # fmt: skip
    delivery = services.endpoint_ping(actor=world.people["lead"], endpoint=endpoint)
    status, wait = services.deliver(delivery.pk)
    assert (status, wait) == ("pending", 1)  # WEBHOOKS_RETRY_SECONDS in the tests: 1,1,1
    [first] = delivery.tries.all()
    assert first.error == "Not sent: receiver.invalid could not be looked up."
    Endpoint.objects.filter(pk=endpoint.pk).update(url="https://127.0.0.1:9/in")
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    services.deliver(delivery.pk)
    assert delivery.tries.last().error == "Not sent: 127.0.0.1 points to a private address."

    claimed, _ = services._claim(delivery.pk)  # the third attempt starts, and is lost
    assert claimed.attempts == 3 and services.due() == []  # held for its lease
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now()
                                                   - dt.timedelta(minutes=5))  # fmt: skip
    assert services.due() == [delivery.pk]
    services.deliver(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.attempts == 4 and [t.number for t in delivery.tries.all()] == [1, 2, 4]
    assert delivery.status == "failed"  # four attempts: the first and three retries


def test_each_workflow_raises_its_event_with_what_happened(world):
    """Plan submitted and accepted, agreement agreed, settlement agreed, transfer applied,
    results worked out again: each raises its event, with its figures and links."""
    endpoint = _every_event(world)
    only_transfers = services.endpoint_create(actor=world.people["lead"], system=world.s1,
                                              url="https://b.example/in",
                                              events=["transfer.applied"])  # fmt: skip
    _with_settlement(world)  # a plan submitted, the pool agreed, a settlement proposed
    [submitted] = _sent("plan.submitted")
    assert submitted["type"] == "plan.submitted" and submitted["system"] == "s1"
    assert submitted["data"] | {"late": False} == {
        "round": "2026-27", "organisation": "ZA1", "organisation_name": "Alpha Hospitals NHS Trust",
        "status": "submitted", "version": 1, "late": False}  # fmt: skip
    assert submitted["links"]["api"].endswith("/api/v1/rounds/2026-27/submissions/ZA1/")
    assert submitted["id"] == Delivery.objects.get(event="plan.submitted").webhook_id
    submission_accept(actor=world.people["lead"], submission=Submission.objects.get(),
                      note="Agreed with the trust")  # fmt: skip
    assert _sent("plan.accepted")[0]["data"]["version"] == 1
    agreement = Agreement.objects.get()
    [agreed] = _sent("agreement.agreed")
    assert agreed["data"]["agreement"] == agreement.pk
    assert agreed["data"]["partners"] == ["ZA1", "ZA2"] and agreed["data"]["version"] == 1

    settlement = Settlement.objects.get()
    beta = agreement.versions.get().signatures.get(organisation=world.org_b).signed_by
    for person, organisation in ((world.people["approver"], world.org_a), (beta, world.org_b)):
        settlements.settlement_respond(actor=person, settlement=settlement,
                                       organisation=organisation, accepted=True)  # fmt: skip
    [settled] = _sent("settlement.agreed")
    settlement.refresh_from_db()
    assert settled["data"]["flows"] == settlement.flows and settled["data"]["unit"] == "£"
    assert settled["data"]["external"] == settlement.external
    whole = [*settled["data"]["flows"].values(), *settled["data"]["external"].values()]
    assert sum(Decimal(v) for v in whole) == 0  # partners and the named outside party net

    transfers.transfer_propose(actor=world.people["lead"], plan_round=PlanningRound.objects.get(),
                               system=world.s1, moves=[("ZA1", Decimal(1)), ("ZA2", Decimal(-1))],
                               reason="Rebalance")  # fmt: skip
    transfer = Transfer.objects.get()
    for person, organisation in ((world.people["approver"], world.org_a), (beta, world.org_b)):
        transfers.transfer_decide(actor=person, transfer=transfer, agreed=True,
                                  organisation=organisation)  # fmt: skip
    assert Delivery.objects.filter(event="transfer.applied").count() == 2  # both addresses
    applied = _sent("transfer.applied")[0]["data"]
    assert applied["lines"] == [
        {"organisation": "ZA1", "amount": "1.000", "control_total_before": "2.000",
         "control_total_after": "3.000"},
        {"organisation": "ZA2", "amount": "-1.000", "control_total_before": "-10.000",
         "control_total_after": "-11.000"},
    ]  # fmt: skip
    assert applied["system_control_total"] == "-8.000"
    assert not only_transfers.deliveries.exclude(event="transfer.applied").exists()

    recalculation.recalculate(system_id=world.s1.pk, round_id=PlanningRound.objects.get().pk,
                              trigger="transfer.applied")  # fmt: skip
    [worked_out] = _sent("results.recalculated")
    assert worked_out["data"]["system_control_total"] == "-8.000"
    assert worked_out["data"]["reason"] == "first run"
    recalculation.recalculate(system_id=world.s1.pk, round_id=PlanningRound.objects.get().pk,
                              trigger="again")  # fmt: skip
    assert len(_sent("results.recalculated")) == 1  # unchanged inputs: nothing to tell
    assert endpoint.deliveries.count() == 6


def test_a_decided_dispute_raises_settlement_decided(world):
    _every_event(world)
    _with_settlement(world)
    settlement = Settlement.objects.get()
    settlements.settlement_respond(actor=world.people["approver"], settlement=settlement,
                                   organisation=world.org_a, accepted=False,
                                   reason="The budget is wrong")  # fmt: skip
    assert not _sent("settlement.decided")
    settlements.settlement_decide(actor=world.people["reviewer"], settlement=settlement,
                                  uphold=False, reason="Work it out on the revised budget")  # fmt: skip
    [decided] = _sent("settlement.decided")
    assert decided["data"]["decision"] == "set aside"
    assert decided["data"]["status"] == "set_aside"
    assert decided["data"]["reason"] == "Work it out on the revised budget"


def test_a_submitted_plan_returned_raises_plan_returned(world):
    from plans.services import submission_return
    from tests.isolation import _plans_submitted

    _every_event(world)
    _plans_submitted(world)
    submission_return(actor=world.people["lead"], submission=Submission.objects.get(),
                      reason="The pay bill does not match the workforce")  # fmt: skip
    [returned] = _sent("plan.returned")
    assert returned["data"]["reason"] == "The pay bill does not match the workforce"
    assert returned["data"]["status"] == "returned"


def test_the_lead_may_send_again_what_is_no_longer_being_tried(world):
    endpoint = _every_event(world)
    delivery = services.endpoint_ping(actor=world.people["lead"], endpoint=endpoint)
    with pytest.raises(ValidationError, match="on its way"):
        services.delivery_resend(actor=world.people["lead"], delivery=delivery)
    Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.DELIVERED, attempts=9,
                                                   delivered_at=timezone.now())  # fmt: skip
    with pytest.raises(PermissionDenied):
        services.delivery_resend(actor=world.people["approver"], delivery=delivery)
    again = services.delivery_resend(actor=world.people["lead"], delivery=delivery)
    assert again.status == Delivery.Status.PENDING and again.uid == delivery.uid
    assert again.delivered_at is None and again.budget == 10  # one more attempt


def test_the_sweep_finds_only_overdue_pending_deliveries(world):
    endpoint = _every_event(world)
    late = services.endpoint_ping(actor=world.people["lead"], endpoint=endpoint)
    services.endpoint_ping(actor=world.people["lead"], endpoint=endpoint)  # just made
    hour_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    Delivery.objects.filter(pk=late.pk).update(next_attempt_at=hour_ago)
    assert services.due() == [late.pk]
    Delivery.objects.filter(pk=late.pk).update(status=Delivery.Status.DELIVERED)
    assert services.due() == []


def test_an_approver_cannot_become_a_lead_by_the_back_door(world):
    """Membership of another role in the system gives no access to its webhooks."""
    person = UserFactory(email="both@example.nhs.uk")
    membership_create(actor=None, user=person, role=Role.SYSTEM_VIEWER, system=world.s1)
    with pytest.raises(PermissionDenied):
        services.endpoint_create(actor=person, system=world.s1, url="https://a.example/in",
                                 events=["plan.submitted"])  # fmt: skip
