"""Single sign-on against a real OpenID Connect provider (the npm package oidc-provider, started
by the tests on 127.0.0.1): the authorisation-code flow with PKCE, state and nonce; a tampered
ID token refused; an unknown address refused; an invited one admitted; the provider's second
factor (amr) carried to the session."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.core import checks
from django.test import Client

from accounts import invitations
from accounts.models import Membership, Role, User
from accounts.second_factor import SESSION_KEY
from accounts.sso import check_configuration
from accounts.views_sso import UNAVAILABLE, UNCHECKED
from openbook.models import AuditEvent
from tests import oidc

pytestmark = pytest.mark.django_db

CALLBACK = "http://testserver/sso/callback/"
NEW = "new.starter@nhs.net"


@pytest.fixture(scope="module")
def provider(tmp_path_factory):
    accounts = {
        "approver@example.nhs.uk": oidc.account("APPROVER@example.nhs.uk", amr=("pwd", "mfa")),
        "member@example.nhs.uk": oidc.account("member@example.nhs.uk"),
        NEW: oidc.account(NEW, name="New Starter"),
        "stranger@nhs.net": oidc.account("stranger@nhs.net"),
        "unverified@nhs.net": oidc.account("unverified@nhs.net", verified=False),
        "outside@gmail.com": oidc.account("outside@gmail.com"),
        "kelvin@nhs.net": oidc.account("\u212aate@nhs.net"),
    }
    started = oidc.start(tmp_path_factory.mktemp("oidc"), accounts, [CALLBACK])
    yield started
    oidc.stop(started)


@pytest.fixture
def sso(provider, settings):
    for name, value in provider.settings().items():
        setattr(settings, name, value)
    settings.OIDC_ALLOWED_EMAIL_DOMAINS = []
    return provider


def _begin(client: Client, login: str) -> str:
    """From the sign-in button to the provider and back: the callback URL, not yet opened."""
    start = client.get("/sso/start/")
    assert start.status_code == 302
    return oidc.through_provider(start["Location"], login)


def _sign_in(client: Client, login: str):
    return client.get(_begin(client, login).removeprefix("http://testserver"))


def _said(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _signed_in(client: Client) -> User | None:
    pk = client.session.get("_auth_user_id")
    return User.objects.get(pk=pk) if pk else None


def test_the_flow_asks_for_pkce_state_and_nonce(sso):
    client = Client()
    start = client.get("/sso/start/")
    asked = oidc.query(start["Location"])
    assert start["Location"].startswith(sso.issuer + "/auth?")
    assert asked["code_challenge_method"] == "S256" and len(asked["code_challenge"]) >= 43
    assert asked["response_type"] == "code" and asked["redirect_uri"] == CALLBACK
    kept = client.session["oidc_states"][asked["state"]]
    assert kept["nonce"] == asked["nonce"] and kept["code_verifier"]


def test_an_existing_person_is_matched_by_verified_email_and_signed_in(sso, world):
    client = Client()
    response = _sign_in(client, "member@example.nhs.uk")
    assert response.status_code == 302 and response["Location"] == "/"
    assert _signed_in(client) == world.people["member"]
    login = AuditEvent.objects.filter(action="auth.login").latest("pk")
    assert login.payload["method"] == "single sign-on" and login.payload["amr"] == ["pwd"]
    assert SESSION_KEY not in client.session


def test_the_providers_second_factor_counts_for_the_session(sso, world):
    client = Client()
    _sign_in(client, "approver@example.nhs.uk")  # the provider's address is in capitals
    assert _signed_in(client) == world.people["approver"]
    assert client.session[SESSION_KEY]["method"] == "identity-provider"


def test_an_invited_address_gets_its_account_and_role(sso, world):
    invitations.invitation_create(
        actor=world.people["approver"], email=NEW, role=Role.ORG_PREPARER,
        organisation=world.org_a,
    )  # fmt: skip
    client = Client()
    response = _sign_in(client, NEW)
    assert response.status_code == 302
    user = User.objects.get(email=NEW)
    assert _signed_in(client) == user and user.full_name == "New Starter"
    assert not user.has_usable_password()  # signs in through the provider
    assert Membership.objects.filter(user=user, role=Role.ORG_PREPARER, organisation=world.org_a)
    created = AuditEvent.objects.get(action="account.created", actor=user)
    assert created.after["by"] == "single sign-on invitation"
    assert AuditEvent.objects.filter(action="invitation.accepted", actor=user).exists()


def test_an_unknown_address_is_refused_and_nothing_is_made(sso, world):
    client = Client()
    response = _sign_in(client, "stranger@nhs.net")
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert _signed_in(client) is None
    assert not User.objects.filter(email="stranger@nhs.net").exists()
    assert "no Openbook account or waiting invitation for stranger@nhs.net" in _said(response)[0]
    refused = AuditEvent.objects.get(action="auth.sso_refused")
    assert refused.payload["reason"] == "not invited"


def test_a_tampered_id_token_is_refused(sso, world):
    client = Client()
    callback = _begin(client, "member@example.nhs.uk")
    sso.tamper_next_id_token()
    response = client.get(callback.removeprefix("http://testserver"))
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert _signed_in(client) is None and _said(response) == [UNCHECKED]


def test_a_state_never_issued_is_refused_and_a_used_one_is_gone(sso, world):
    client = Client()
    callback = oidc.query(_begin(client, "member@example.nhs.uk"))
    response = client.get("/sso/callback/", {"code": callback["code"], "state": "made-up"})
    assert _signed_in(client) is None and _said(response) == [UNCHECKED]
    assert AuditEvent.objects.get(action="auth.sso_refused").payload["reason"] == (
        "answer failed its checks"
    )
    client.get("/sso/callback/", callback)
    assert _signed_in(client) == world.people["member"]
    # The state went with its first use: the same answer again is refused, and (a link to the
    # callback being anyone's to send) the person stays signed in.
    assert callback["state"] not in client.session.get("oidc_states", {})
    again = client.get("/sso/callback/", callback)
    assert _said(again)[-1] == UNCHECKED and _signed_in(client) == world.people["member"]
    client.get("/sso/callback/", {"error": "access_denied", "state": "x"})
    assert _signed_in(client) == world.people["member"]


def test_a_nonce_that_does_not_match_is_refused(sso, world):
    client = Client()
    callback = oidc.query(_begin(client, "member@example.nhs.uk"))
    session = client.session
    session["oidc_states"][callback["state"]]["nonce"] = "not-the-nonce-sent"
    session.save()
    response = client.get("/sso/callback/", callback)
    assert _signed_in(client) is None and _said(response) == [UNCHECKED]


def test_a_wrong_pkce_verifier_is_refused_by_the_provider(sso, world):
    client = Client()
    callback = oidc.query(_begin(client, "member@example.nhs.uk"))
    session = client.session
    session["oidc_states"][callback["state"]]["code_verifier"] = "x" * 64
    session.save()
    response = client.get("/sso/callback/", callback)
    assert _signed_in(client) is None and _said(response) == [UNCHECKED]


@pytest.mark.parametrize(
    ("login", "reason"),
    [("unverified@nhs.net", "e-mail not verified"), ("outside@gmail.com", "domain not allowed")],
)
def test_unverified_or_other_domain_addresses_are_refused(sso, world, settings, login, reason):
    settings.OIDC_ALLOWED_EMAIL_DOMAINS = ["nhs.net", "example.nhs.uk"]
    User.objects.create_user(login, None, full_name="Has An Account")
    client = Client()
    _sign_in(client, login)
    assert _signed_in(client) is None
    assert AuditEvent.objects.get(action="auth.sso_refused").payload["reason"] == reason


def test_a_closed_account_is_refused(sso, world):
    member = world.people["member"]
    member.is_active = False
    member.save()
    client = Client()
    response = _sign_in(client, "member@example.nhs.uk")
    assert _signed_in(client) is None and "closed" in _said(response)[0]


def test_a_provider_that_cannot_be_reached_is_said_plainly(world, settings):
    settings.OIDC_ISSUER = "http://127.0.0.1:9"  # nothing listens on the discard port
    settings.OIDC_CLIENT_ID, settings.OIDC_CLIENT_SECRET = "x", "y"
    response = Client().get("/sso/start/")
    assert response["Location"] == "/login/" and _said(response) == [UNAVAILABLE]


def test_without_an_issuer_the_pages_are_not_there(world):
    assert Client().get("/sso/start/").status_code == 404
    assert "Sign in with" not in Client().get("/login/").content.decode().replace(
        "Sign in with your e-mail", ""
    )


def test_password_sign_in_can_be_switched_off(sso, world, settings):
    settings.PASSWORD_SIGN_IN = False
    page = Client().get("/login/").content.decode()
    assert "Sign in with NHS.net" in page and 'name="password"' not in page
    client = Client()
    refused = client.post("/login/", {"username": "member@example.nhs.uk",
                                      "password": "correct horse battery staple"})  # fmt: skip
    assert refused.status_code == 302 and _signed_in(client) is None
    assert client.post("/admin/login/", {"username": "admin@example.nhs.uk",
                                         "password": "correct horse battery staple"}).status_code \
        == 302 and _signed_in(client) is None  # fmt: skip
    assert client.get("/admin/login/?next=/admin/")["Location"] == "/login/?next=/admin/"
    assert client.get("/password/reset/").status_code == 404
    assert client.get("/password/reset/MQ/set-password/").status_code == 404
    # single sign-on still works, and the password pages stay gone once in
    _sign_in(client, "member@example.nhs.uk")
    assert _signed_in(client) == world.people["member"]
    assert client.get("/password/change/").status_code == 404
    assert "Change password" not in client.get("/account/sessions/").content.decode()


def test_with_passwords_on_the_same_password_signs_in(world):
    client = Client()
    client.post("/login/", {"username": "member@example.nhs.uk",
                            "password": "correct horse battery staple"})  # fmt: skip
    assert _signed_in(client) == world.people["member"]


def test_closing_an_account_ends_its_single_sign_on_sessions(sso, world):
    client = Client()
    _sign_in(client, "member@example.nhs.uk")
    assert client.get("/account/sessions/").status_code == 200
    member = world.people["member"]
    member.is_active = False
    member.save()
    assert client.get("/account/sessions/").status_code == 302  # to the sign-in page


def test_the_account_is_bound_to_the_providers_identity(sso, world):
    client = Client()
    _sign_in(client, "member@example.nhs.uk")
    member = User.objects.get(email="member@example.nhs.uk")
    assert member.sso_identity == f"{sso.issuer} member@example.nhs.uk"
    bound = AuditEvent.objects.get(action="account.sso_bound", actor=member)
    assert bound.after == {"issuer": sso.issuer}
    # Another identity at the provider now showing the same address is not the same person.
    member.sso_identity = f"{sso.issuer} someone-before"
    member.save()
    other = Client()
    _sign_in(other, "member@example.nhs.uk")
    assert _signed_in(other) is None
    assert AuditEvent.objects.filter(action="auth.sso_refused").latest("pk").payload[
        "reason"] == "address held by another identity"  # fmt: skip


def test_an_address_outside_plain_ascii_is_refused(sso, world):
    User.objects.create_user("kate@nhs.net", None, full_name="Kate")
    client = Client()
    _sign_in(client, "kelvin@nhs.net")  # its e-mail claim is "\u212aate@nhs.net"
    assert _signed_in(client) is None
    assert AuditEvent.objects.get(action="auth.sso_refused").payload["reason"] == (
        "address not plain ASCII"
    )


def test_half_a_configuration_stops_the_start(settings):
    settings.OIDC_ISSUER = "https://login.example/tenant/v2.0"
    settings.OIDC_CLIENT_ID = ""
    assert [e.id for e in check_configuration()] == ["openbook.E101"]
    settings.OIDC_ISSUER = ""
    settings.PASSWORD_SIGN_IN = False
    assert [e.id for e in check_configuration()] == ["openbook.E102"]
    settings.OIDC_ISSUER, settings.OIDC_CLIENT_ID = "https://login.example/t/v2.0", "id"
    settings.OIDC_CLIENT_SECRET, settings.PASSWORD_SIGN_IN = "secret", True
    settings.OIDC_REQUIRE_EMAIL_VERIFIED, settings.OIDC_ALLOWED_EMAIL_DOMAINS = False, []
    assert [e.id for e in check_configuration()] == ["openbook.E103"]
    assert all(isinstance(e, checks.Error) for e in check_configuration())


@pytest.mark.second_factor
def test_a_second_factor_at_the_provider_is_two_step_verification_here(sso, world, settings):
    settings.SECOND_FACTOR_REQUIRED = True
    client = Client()
    _sign_in(client, "approver@example.nhs.uk")  # amr: pwd, mfa
    page = client.get("/account/two-step/").content.decode()
    assert "This session is confirmed by your organisation's sign-in" in page
    lead = Client()
    _sign_in(lead, "member@example.nhs.uk")  # amr: pwd only
    assert "It is not set up for your account." in lead.get("/account/two-step/").content.decode()
