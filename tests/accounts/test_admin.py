"""Platform administrators manage people and roles in the Django admin; every change is audited."""

import pytest

from accounts.models import Membership, Role
from openbook.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_adding_changing_and_removing_a_membership_is_audited(world, client):
    client.force_login(world.people["admin"])
    partner = world.people["partner"]
    response = client.post(
        "/admin/accounts/membership/add/",
        {"user": partner.pk, "role": Role.ORG_APPROVER, "organisation": world.org_b.pk},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    membership = Membership.objects.get(user=partner, role=Role.ORG_APPROVER)
    created = AuditEvent.objects.get(action="membership.created", object_id=str(membership.pk))
    assert created.actor == world.people["admin"]
    assert created.system == world.s1
    assert created.after["organisation"] == "ZA2"

    response = client.post(
        f"/admin/accounts/membership/{membership.pk}/change/",
        {"user": partner.pk, "role": Role.ORG_VIEWER, "organisation": world.org_b.pk},
    )
    assert response.status_code == 302
    changed = AuditEvent.objects.get(action="membership.changed")
    assert (changed.before["role"], changed.after["role"]) == ("org_approver", "org_viewer")

    response = client.post(f"/admin/accounts/membership/{membership.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert AuditEvent.objects.filter(action="membership.deleted").exists()


def test_a_role_at_the_wrong_level_is_refused_with_a_message(world, client):
    client.force_login(world.people["admin"])
    response = client.post(
        "/admin/accounts/membership/add/",
        {
            "user": world.people["partner"].pk,
            "role": Role.SYSTEM_LEAD,
            "organisation": world.org_b.pk,
        },
    )
    assert response.status_code == 200
    assert not Membership.objects.filter(
        role=Role.SYSTEM_LEAD, user=world.people["partner"]
    ).exists()


def test_only_administrators_reach_the_admin(world, client):
    client.force_login(world.people["lead"])
    assert client.get("/admin/").status_code == 302


def test_making_someone_an_administrator_is_audited(world, client):
    client.force_login(world.people["admin"])
    partner = world.people["partner"]
    data = {
        "email": partner.email, "full_name": partner.full_name, "job_title": "",
        "is_active": "on", "is_staff": "on", "is_superuser": "on",
        "last_login_0": "", "last_login_1": "", "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00",
        "memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0",
        "memberships-MIN_NUM_FORMS": "0", "memberships-MAX_NUM_FORMS": "1000",
    }  # fmt: skip
    response = client.post(f"/admin/accounts/user/{partner.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    event = AuditEvent.objects.get(action="user.changed_in_admin")
    assert event.after["is_superuser"] is True and event.before["is_superuser"] == "False"
