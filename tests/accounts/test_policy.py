"""accounts.policy: who sees which organisations, systems and regions."""

import pytest

from accounts import policy, selectors
from accounts.models import Membership, Role

pytestmark = pytest.mark.django_db


def visible_ods(user):
    return set(selectors.organisations_visible_to(user).values_list("ods_code", flat=True))


def test_partners_see_each_other_but_not_other_systems(world):
    s1 = {"ZA1", "ZA2", "ZA3"}
    for name in ("member", "approver", "viewer", "partner", "lead", "system_viewer"):
        assert visible_ods(world.people[name]) == s1, name
    assert visible_ods(world.people["outsider"]) == {"ZX1"}
    assert visible_ods(world.people["other_lead"]) == {"ZX1"}


def test_a_reviewer_sees_every_system_in_their_region_only(world):
    assert visible_ods(world.people["reviewer"]) == {"ZA1", "ZA2", "ZA3", "ZX1"}
    assert visible_ods(world.people["other_reviewer"]) == {"ZY1"}


def test_administrators_see_everything(world):
    assert visible_ods(world.people["admin"]) == {"ZA1", "ZA2", "ZA3", "ZX1", "ZY1"}


def test_drafts_are_private_to_the_organisation(world):
    a = world.org_a
    assert policy.can_view_drafts(world.people["member"], a)
    assert policy.can_view_drafts(world.people["viewer"], a)
    for name in ("partner", "lead", "reviewer", "outsider", "admin"):
        assert not policy.can_view_drafts(world.people[name], a), name


def test_preparing_and_approving(world):
    a = world.org_a
    assert policy.can_prepare(world.people["member"], a)
    assert policy.can_prepare(world.people["approver"], a)
    assert not policy.can_prepare(world.people["viewer"], a)
    assert not policy.can_prepare(world.people["partner"], a)
    assert policy.can_approve(world.people["approver"], a)
    assert not policy.can_approve(world.people["member"], a)


def test_system_lead_and_reviewer_predicates(world):
    assert policy.is_system_lead(world.people["lead"], world.s1)
    assert not policy.is_system_lead(world.people["other_lead"], world.s1)
    assert policy.is_region_reviewer(world.people["reviewer"], world.r1)
    assert not policy.is_region_reviewer(world.people["other_reviewer"], world.r1)


def test_inactive_people_see_nothing(world):
    member = world.people["member"]
    member.is_active = False
    member.save()
    member.refresh_from_db()
    assert visible_ods(member) == set()


def test_several_memberships_add_up(world):
    """A finance director who is also the system lead elsewhere sees both systems."""
    member = world.people["member"]
    Membership.objects.create(user=member, role=Role.SYSTEM_LEAD, system=world.s2)
    policy.forget_roles(member)
    assert visible_ods(member) == {"ZA1", "ZA2", "ZA3", "ZX1"}
    assert policy.is_system_lead(member, world.s2)


def test_membership_scope_must_match_role(world):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(
            user=world.people["member"], role=Role.SYSTEM_LEAD, organisation=world.org_a
        )


def test_list_pages_do_a_fixed_number_of_queries(world, client, django_assert_max_num_queries):
    from tests.factories import OrganisationFactory

    for _ in range(30):
        OrganisationFactory(system=world.s1)
    client.force_login(world.people["lead"])
    with django_assert_max_num_queries(12):
        assert client.get("/organisations/").status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get("/api/v1/organisations/").status_code == 200


def test_who_signs_answers_and_decides_for_whom(world):
    """The money rules asked by services and pages alike: an approver speaks for their own
    organisation; the lead decides a transfer as its system's party."""
    from decimal import Decimal

    from payments.models import Transfer, TransferLine
    from tests.plans.conftest import make_round

    approver, partner, lead = (world.people[n] for n in ("approver", "partner", "lead"))
    assert policy.can_sign_agreement(approver, world.org_a)
    assert not policy.can_sign_agreement(approver, world.org_b)
    assert not policy.can_sign_agreement(lead, world.org_a)
    assert policy.can_answer_settlement(approver, world.org_a)
    assert not policy.can_answer_settlement(world.people["member"], world.org_a)
    transfer = Transfer.objects.create(round=make_round(), system=world.s1, proposed_by=lead,
                                       reason="Test")  # fmt: skip
    TransferLine.objects.create(transfer=transfer, organisation=world.org_a, amount=Decimal(5))
    TransferLine.objects.create(transfer=transfer, organisation=world.org_b, amount=Decimal(-5))
    assert policy.transfer_parties(approver, transfer) == [world.org_a]
    assert policy.transfer_parties(lead, transfer) == [None]
    assert policy.transfer_parties(partner, transfer) == []  # ZA2's preparer, not its approver
    assert policy.transfer_parties(world.people["outsider"], transfer) == []
