"""Inviting people without a developer: an approver invites to their organisation, a lead to
their system, a reviewer in their region; the link in the e-mail works once, for 7 days, and
only for the address invited; every step is audited."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts.models import Invitation, Membership, Role, User
from openbook.models import AuditEvent

pytestmark = pytest.mark.django_db

INVITE = "/organisations/ZA1/invite/"
NEW = "newcomer@example.nhs.uk"
PASSWORD = "a long passphrase of my own"


def _invite(client, email=NEW, role=Role.ORG_PREPARER, url=INVITE):
    return client.post(url, {"email": email, "role": role})


def _link(outbox_index: int = -1) -> str:
    return re.search(r"http://\S+(/invitations/\S+/)", mail.outbox[outbox_index].body).group(1)


@pytest.fixture
def approver(client, world):
    client.force_login(world.people["approver"])
    return client


def test_someone_new_is_invited_makes_an_account_and_has_the_role(
    approver, world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _invite(approver)
    assert response.status_code == 302
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [NEW]
    assert "Preparer for Alpha Hospitals NHS Trust" in mail.outbox[0].body
    link = _link()
    newcomer = Client()
    page = newcomer.get(link)
    assert page.status_code == 200 and "Make my account and accept" in page.content.decode()
    short = newcomer.post(link, {"full_name": "New Comer", "password1": "short",
                                 "password2": "short"})  # fmt: skip
    assert short.status_code == 422 and not User.objects.filter(email=NEW).exists()
    done = newcomer.post(link, {"full_name": "New Comer", "password1": PASSWORD,
                                "password2": PASSWORD})  # fmt: skip
    assert done.status_code == 302
    user = User.objects.get(email=NEW)
    assert Membership.objects.filter(user=user, role=Role.ORG_PREPARER, organisation=world.org_a)
    assert "_auth_user_id" in newcomer.session  # signed in straight away
    actions = list(AuditEvent.objects.filter(action__startswith="invitation.")
                   .values_list("action", flat=True).order_by("seq"))  # fmt: skip
    assert actions == ["invitation.created", "invitation.accepted"]
    # Used once: the link no longer works, for anyone.
    assert Client().get(link).status_code == 404


def test_someone_with_an_account_signs_in_and_accepts(
    approver, world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _invite(approver, email="partner@example.nhs.uk", role=Role.ORG_VIEWER)
    link = _link()
    anonymous = Client().get(link)
    assert "Sign in" in anonymous.content.decode()
    partner = Client()
    partner.force_login(world.people["partner"])
    assert partner.post(link).status_code == 302
    assert world.people["partner"].memberships.filter(organisation=world.org_a).exists()
    # Someone else signed in cannot take it up.
    with django_capture_on_commit_callbacks(execute=True):
        _invite(approver, email="partner@example.nhs.uk", role=Role.ORG_PREPARER)
    other = Client()
    other.force_login(world.people["viewer"])
    assert "This invitation is for partner@example.nhs.uk" in other.get(_link()).content.decode()
    assert other.post(_link()).status_code == 403


def test_an_expired_or_withdrawn_invitation_no_longer_works(
    approver, world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _invite(approver)
    link = _link()
    invitation = Invitation.objects.get()
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(1))
    assert Client().get(link).status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        _invite(approver)
    again = Invitation.objects.filter(accepted_at=None, withdrawn_at=None).latest("created_at")
    withdrawn = approver.post(f"/invitations/{again.pk}/withdraw/", {"back": INVITE})
    assert withdrawn.status_code == 302
    assert Client().get(_link()).status_code == 404
    assert AuditEvent.objects.filter(action="invitation.withdrawn").count() == 1


def test_people_invite_only_to_roles_and_places_they_manage(client, world):
    client.force_login(world.people["member"])  # a preparer, not an approver
    assert _invite(client).status_code == 403
    client.force_login(world.people["lead"])
    assert _invite(client, role=Role.SYSTEM_LEAD, url="/systems/s1/invite/").status_code == 302
    # A lead cannot use the system page to hand out a region's role.
    refused = _invite(client, role=Role.REGION_REVIEWER, url="/systems/s1/invite/")
    assert refused.status_code == 422 and "Select a valid choice" in refused.content.decode()
    client.force_login(world.people["reviewer"])
    assert _invite(client, role=Role.REGION_REVIEWER, url="/regions/r1/invite/").status_code == 302
    assert not Invitation.objects.filter(role=Role.ORG_PREPARER).exists()


def test_inviting_someone_who_already_has_the_role_says_so(approver, world):
    response = _invite(approver, email="member@example.nhs.uk", role=Role.ORG_PREPARER)
    assert response.status_code == 422
    assert "already has this role here" in response.content.decode()


def test_the_access_review_lists_roles_and_takes_one_away_with_a_reason(approver, world):
    page = approver.get("/organisations/ZA1/access/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "viewer@example.nhs.uk" in text and "Never" in text  # not signed in yet
    viewer_role = world.people["viewer"].memberships.get()
    no_reason = approver.post(
        f"/memberships/{viewer_role.pk}/remove/", {"back": "/organisations/ZA1/access/"}
    )
    assert no_reason.status_code == 302 and Membership.objects.filter(pk=viewer_role.pk).exists()
    done = approver.post(f"/memberships/{viewer_role.pk}/remove/",
                         {"reason": "left the trust", "back": "/organisations/ZA1/access/"})  # fmt: skip
    assert done.status_code == 302 and done["Location"] == "/organisations/ZA1/access/"
    assert not Membership.objects.filter(pk=viewer_role.pk).exists()
    event = AuditEvent.objects.get(action="membership.deleted")
    assert event.reason == "left the trust" and event.actor == world.people["approver"]
    # Elsewhere "back" is never followed off the site.
    lead_role = world.people["member"].memberships.get()
    away = approver.post(f"/memberships/{lead_role.pk}/remove/",
                         {"reason": "x", "back": "//evil.example/"})  # fmt: skip
    assert away["Location"] == "/"


def test_an_invitation_from_someone_who_has_lost_the_right_is_refused(
    approver, world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _invite(approver, role=Role.ORG_APPROVER)
    link = _link()
    world.people["approver"].memberships.all().delete()  # they left the trust
    newcomer = Client()
    refused = newcomer.post(link, {"full_name": "New Comer", "password1": PASSWORD,
                                   "password2": PASSWORD})  # fmt: skip
    assert refused.status_code == 422
    assert "can no longer give this role" in refused.content.decode()
    assert not User.objects.filter(email=NEW).exists()  # nothing made, all or nothing


def test_no_self_invitations_and_no_look_alike_addresses(approver, world):
    own = _invite(approver, email="approver@example.nhs.uk", role=Role.ORG_VIEWER)
    assert own.status_code == 422 and "cannot invite yourself" in own.content.decode()
    odd = _invite(approver, email="viewer@example.nhſ.uk")
    assert odd.status_code == 422 and "plain letters" in odd.content.decode()
    assert not Invitation.objects.exists()


def test_a_form_sends_back_only_to_a_page_of_this_site(approver, world):
    role = world.people["viewer"].memberships.get()
    away = approver.post(
        f"/memberships/{role.pk}/remove/", {"reason": "x", "back": "/\\evil.example/"}
    )
    assert away["Location"] == "/"
