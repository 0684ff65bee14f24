"""A password changed in the admin or with `manage.py changepassword` revokes the person's API
tokens and is audited, as the person's own change and a reset do; a new account's first
password revokes and records nothing."""

import pytest
from django.core.management import call_command
from django.test import Client

from accounts import throttle
from accounts.models import PersonalToken, User
from accounts.services import token_create
from openbook.models import AuditEvent

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
NEW = "a much longer new passphrase"


def _with_token(user):
    _, clear = token_create(actor=user, name="ledger", lifetime_days=30)
    api = Client(HTTP_AUTHORIZATION=f"Token {clear}")
    assert api.get("/api/v1/me/").status_code == 200
    return api


def test_an_administrator_setting_a_password_revokes_the_persons_tokens(world, client_for):
    member, admin = world.people["member"], world.people["admin"]
    api = _with_token(member)
    for _ in range(6):
        Client().post("/login/", {"username": member.email, "password": "wrong"})
    page = client_for(admin)
    url = f"/admin/accounts/user/{member.pk}/password/"
    # A mistyped second password changes nothing and revokes nothing.
    page.post(url, {"usable_password": "true", "password1": NEW, "password2": NEW + "x"})
    assert api.get("/api/v1/me/").status_code == 200
    response = page.post(url, {"usable_password": "true", "password1": NEW, "password2": NEW},
                         follow=True)  # fmt: skip
    assert "Their 1 API token stopped working." in response.content.decode()
    assert api.get("/api/v1/me/").status_code == 401
    event = AuditEvent.objects.get(action="password.changed")
    assert event.actor == admin
    assert event.payload == {"how": "set by an administrator", "tokens_revoked": ["ledger"]}
    assert throttle.failures(member.email) == 0  # and the person may sign in at once
    assert Client().post("/login/", {"username": member.email, "password": NEW}).status_code == 302
    assert page.get("/admin/").status_code == 200  # the administrator is still signed in


def test_changepassword_revokes_the_persons_tokens(world, monkeypatch):
    from django.contrib.auth.management.commands import changepassword

    member = world.people["member"]
    api = _with_token(member)
    monkeypatch.setattr(changepassword.Command, "_get_pass", lambda self, prompt=None: NEW)
    call_command("changepassword", member.email)
    assert api.get("/api/v1/me/").status_code == 401
    event = AuditEvent.objects.get(action="password.changed")
    assert event.actor is None and event.actor_label == "command line"
    assert event.payload == {"how": "command line", "tokens_revoked": ["ledger"]}
    member.refresh_from_db()
    assert member.check_password(NEW)


def test_a_new_accounts_first_password_revokes_and_records_nothing(world, client_for):
    User.objects.create_user("new@example.nhs.uk", PASSWORD, full_name="New")
    client_for(world.people["admin"]).post("/admin/accounts/user/add/", {
        "email": "added@example.nhs.uk", "full_name": "Added", "usable_password": "true",
        "password1": NEW, "password2": NEW,
        "memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0"})  # fmt: skip
    assert User.objects.filter(email="added@example.nhs.uk").exists()
    assert not AuditEvent.objects.filter(action="password.changed").exists()
    assert PersonalToken.objects.count() == 0
