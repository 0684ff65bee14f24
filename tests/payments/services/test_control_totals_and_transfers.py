"""Control totals and transfers: who may do what, the worked example end to end, audit."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.models import Role
from accounts.services import membership_create
from openbook.errors import ProblemList
from openbook.models import AuditEvent
from payments.calculations.control_totals import system_control_total
from payments.models import Transfer
from payments.selectors import current_control_totals
from payments.services.control_totals import control_total_set, control_totals_import
from payments.services.transfers import transfer_decide, transfer_propose, transfer_withdraw
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def cts(world, plan_round):
    """A +2, B −10, commissioner 0 (£m, here £000): the system control total is −8."""
    for organisation, amount in (
        (world.org_a, D(2)),
        (world.org_b, D(-10)),
        (world.commissioner, D(0)),
    ):
        control_total_set(
            actor=world.people["reviewer"],
            plan_round=plan_round,
            organisation=organisation,
            amount=amount,
        )
    approver_b = UserFactory(email="approver-b@example.nhs.uk")
    membership_create(actor=None, user=approver_b, role=Role.ORG_APPROVER, organisation=world.org_b)
    world.people["approver_b"] = approver_b
    return plan_round


def totals(world, plan_round):
    return current_control_totals(plan_round, world.s1)


def test_only_the_region_and_administrators_set_control_totals(world, plan_round):
    for who in ("lead", "approver", "other_reviewer"):
        with pytest.raises(PermissionDenied):
            control_total_set(
                actor=world.people[who],
                plan_round=plan_round,
                organisation=world.org_a,
                amount=D(1),
            )
    control_total_set(
        actor=world.people["admin"], plan_round=plan_round, organisation=world.org_a, amount=D(1)
    )
    event = AuditEvent.objects.get(action="control_total.set")
    assert (event.before, event.after) == ({"amount": None}, {"amount": "1"})


def test_a_transfer_applies_only_when_every_party_has_agreed(world, cts):
    transfer = transfer_propose(
        actor=world.people["lead"], plan_round=cts, system=world.s1,
        moves=[("ZA1", D(2)), ("ZA2", D(-2))], reason="Rebalance after the stroke service moves",
    )  # fmt: skip
    assert totals(world, cts)["ZA1"] == D(2)  # nothing moves yet
    transfer_decide(actor=world.people["approver"], transfer=transfer, agreed=True)
    assert Transfer.objects.get().status == "proposed"
    transfer_decide(actor=world.people["approver_b"], transfer=transfer, agreed=True)
    after = totals(world, cts)
    assert Transfer.objects.get().status == "agreed"
    assert (after["ZA1"], after["ZA2"]) == (D(4), D(-12))
    assert system_control_total(after) == D(-8)
    applied = AuditEvent.objects.get(action="transfer.applied")
    assert applied.payload["system_control_total"] == "-8.000"


def test_an_approver_proposing_agrees_for_their_organisation(world, cts):
    transfer = transfer_propose(actor=world.people["approver"], plan_round=cts, system=world.s1,
                                moves=[("ZA1", D(1)), ("ZA2", D(-1))], reason="x")  # fmt: skip
    assert list(transfer.decisions.values_list("organisation__ods_code", flat=True)) == ["ZA1"]
    transfer_decide(actor=world.people["lead"], transfer=transfer, agreed=True)
    transfer_decide(actor=world.people["approver_b"], transfer=transfer, agreed=True)
    assert Transfer.objects.get().status == "agreed"


def test_a_refusal_needs_a_reason_and_ends_the_transfer(world, cts):
    transfer = transfer_propose(actor=world.people["lead"], plan_round=cts, system=world.s1,
                                moves=[("ZA1", D(1)), ("ZA2", D(-1))], reason="x")  # fmt: skip
    with pytest.raises(ValidationError):
        transfer_decide(actor=world.people["approver_b"], transfer=transfer, agreed=False)
    transfer_decide(
        actor=world.people["approver_b"], transfer=transfer, agreed=False, reason="Cannot absorb it"
    )
    assert Transfer.objects.get().status == "refused"
    with pytest.raises(ValidationError, match="already refused"):
        transfer_decide(actor=world.people["approver"], transfer=transfer, agreed=True)
    assert totals(world, cts)["ZA2"] == D(-10)


def test_unbalanced_or_late_transfers_are_refused(world, cts):
    with pytest.raises(ValidationError, match="not zero"):
        transfer_propose(actor=world.people["lead"], plan_round=cts, system=world.s1,
                         moves=[("ZA1", D(2)), ("ZA2", D(-1))], reason="x")  # fmt: skip
    with pytest.raises(ValidationError, match="deadline"):
        transfer_propose(actor=world.people["lead"], plan_round=cts, system=world.s1,
                         moves=[("ZA1", D(1)), ("ZA2", D(-1))], reason="x",
                         now=cts.final_deadline + dt.timedelta(minutes=1))  # fmt: skip


@pytest.mark.parametrize(
    "who", ["member", "viewer", "partner", "reviewer", "outsider", "other_lead"]
)
def test_who_may_propose(world, cts, who):
    with pytest.raises(PermissionDenied):
        transfer_propose(actor=world.people[who], plan_round=cts, system=world.s1,
                         moves=[("ZA1", D(1)), ("ZA2", D(-1))], reason="x")  # fmt: skip


def test_an_approver_proposes_only_transfers_its_organisation_is_party_to(world, cts):
    """Alpha's approver may not move control total between Beta and the ICB; the lead may."""
    with pytest.raises(PermissionDenied, match="its own organisation takes part in"):
        transfer_propose(actor=world.people["approver"], plan_round=cts, system=world.s1,
                         moves=[("ZA2", D(1)), ("ZA3", D(-1))], reason="x")  # fmt: skip
    assert not Transfer.objects.exists()
    transfer_propose(actor=world.people["lead"], plan_round=cts, system=world.s1,
                     moves=[("ZA2", D(1)), ("ZA3", D(-1))], reason="x")  # fmt: skip


def test_only_involved_parties_decide_and_once_each(world, cts):
    transfer = transfer_propose(actor=world.people["lead"], plan_round=cts, system=world.s1,
                                moves=[("ZA1", D(1)), ("ZA2", D(-1))], reason="x")  # fmt: skip
    for who in ("partner", "member", "other_lead"):
        with pytest.raises(PermissionDenied):
            transfer_decide(actor=world.people[who], transfer=transfer, agreed=True)
    with pytest.raises(ValidationError, match="already decided"):
        transfer_decide(actor=world.people["lead"], transfer=transfer, agreed=True)


def test_withdraw(world, cts):
    transfer = transfer_propose(actor=world.people["lead"], plan_round=cts, system=world.s1,
                                moves=[("ZA1", D(1)), ("ZA2", D(-1))], reason="x")  # fmt: skip
    with pytest.raises(PermissionDenied):
        transfer_withdraw(actor=world.people["approver"], transfer=transfer)
    transfer_withdraw(actor=world.people["lead"], transfer=transfer)
    assert Transfer.objects.get().status == "withdrawn"


def test_csv_import_all_or_nothing(world, plan_round):
    bad = b"organisation,control_total\nZA1,5\nZX1,3\nZA2,lots\n"
    with pytest.raises(ProblemList) as excinfo:
        control_totals_import(
            actor=world.people["reviewer"], plan_round=plan_round, system=world.s1, data=bad
        )
    assert len(excinfo.value.problems) == 2
    assert totals(world, plan_round)["ZA1"] is None
    good = b"organisation,control_total\nZA1,5\nZA2,-7.5\nZA3,\n"
    assert (
        control_totals_import(
            actor=world.people["reviewer"], plan_round=plan_round, system=world.s1, data=good
        )
        == 3
    )
    assert totals(world, plan_round) == {"ZA1": D(5), "ZA2": D("-7.5"), "ZA3": None}


def test_a_lead_who_is_also_an_approver_agrees_for_both_by_proposing(world, cts):
    membership_create(
        actor=None, user=world.people["lead"], role=Role.ORG_APPROVER, organisation=world.org_a
    )
    transfer = transfer_propose(actor=world.people["lead"], plan_round=cts, system=world.s1,
                                moves=[("ZA1", D(2)), ("ZA2", D(-2))], reason="x")  # fmt: skip
    assert transfer.decisions.count() == 2
    transfer_decide(actor=world.people["approver_b"], transfer=transfer, agreed=True)
    assert Transfer.objects.get().status == "agreed"


def test_one_person_approving_two_parties_decides_for_each_in_turn(world, cts):
    membership_create(
        actor=None, user=world.people["approver"], role=Role.ORG_APPROVER, organisation=world.org_b
    )
    transfer = transfer_propose(actor=world.people["lead"], plan_round=cts, system=world.s1,
                                moves=[("ZA1", D(2)), ("ZA2", D(-2))], reason="x")  # fmt: skip
    transfer_decide(actor=world.people["approver"], transfer=transfer, agreed=True)
    transfer_decide(actor=world.people["approver"], transfer=transfer, agreed=True)
    assert Transfer.objects.get().status == "agreed"


def test_a_control_total_too_large_for_the_books_is_refused(world, plan_round, client):
    with pytest.raises(ValidationError, match="under"):
        control_total_set(
            actor=world.people["reviewer"],
            plan_round=plan_round,
            organisation=world.org_a,
            amount=D("100000000000"),
        )
    client.force_login(world.people["reviewer"])
    response = client.post(
        "/rounds/2026-27/systems/s1/control-totals/save/", {"ct:ZA1": "5", "ct:ZA2": "100000000000"}
    )
    assert response.status_code == 302
    assert totals(world, plan_round)["ZA1"] is None  # nothing saved
