"""Signing in and out, password change and reset, and the security headers (the sign-in
throttle: test_signin_throttle.py)."""

import re

import pytest
from django.core import mail
from django.test import Client, override_settings

from openbook.models import AuditEvent

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


def login(client, email, password):
    return client.post("/login/", {"username": email, "password": password})


def test_login_page_is_accessible_and_labelled(client):
    response = client.get("/login/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<label class="nhsuk-label" for="id_username">E-mail address</label>' in html
    assert 'for="id_password"' in html
    assert 'href="#maincontent"' in html  # skip link for keyboard users


def test_sign_in_takes_a_person_home_and_is_audited(world):
    client = Client()
    response = login(client, "member@example.nhs.uk", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/"
    home = client.get("/")
    assert "Alpha Hospitals NHS Trust" in home.content.decode()
    event = AuditEvent.objects.filter(action="auth.login").latest("occurred_at")
    assert event.actor == world.people["member"]
    assert event.request_id


def test_email_is_case_insensitive(world):
    response = login(Client(), "MEMBER@Example.NHS.uk", PASSWORD)
    assert response.status_code == 302


def test_wrong_password_says_so_and_is_audited(world):
    response = login(Client(), "member@example.nhs.uk", "wrong")
    assert response.status_code == 200
    assert "is not right" in response.content.decode()
    event = AuditEvent.objects.filter(action="auth.login_failed").latest("occurred_at")
    assert event.payload["attempted"] == "member@example.nhs.uk"
    assert event.actor is None


def test_sign_out_needs_post_and_is_audited(world):
    client = Client()
    client.force_login(world.people["member"])
    assert client.get("/logout/").status_code == 405
    response = client.post("/logout/")
    assert response.status_code == 200
    assert "You have signed out" in response.content.decode()
    assert AuditEvent.objects.filter(action="auth.logout").exists()
    assert client.get("/").status_code == 302


def test_csrf_is_enforced_on_sign_in(world):
    client = Client(enforce_csrf_checks=True)
    response = login(client, "member@example.nhs.uk", PASSWORD)
    assert response.status_code == 403


def test_password_change(world):
    client = Client()
    client.force_login(world.people["member"])
    response = client.post(
        "/password/change/",
        {
            "old_password": PASSWORD,
            "new_password1": "a much longer new passphrase",
            "new_password2": "a much longer new passphrase",
        },
    )
    assert response.status_code == 302
    assert (
        login(Client(), "member@example.nhs.uk", "a much longer new passphrase").status_code == 302
    )


def test_password_change_rejects_a_short_password(world):
    client = Client()
    client.force_login(world.people["member"])
    response = client.post(
        "/password/change/",
        {"old_password": PASSWORD, "new_password1": "short1", "new_password2": "short1"},
    )
    assert response.status_code == 200
    assert "There is a problem" in response.content.decode()


def test_password_reset_by_email(world):
    response = Client().post("/password/reset/", {"email": "member@example.nhs.uk"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/password/reset/\S+/)", mail.outbox[0].body).group(1)
    client = Client()
    form = client.get(link, follow=True)
    assert form.status_code == 200
    response = client.post(
        form.redirect_chain[-1][0],
        {
            "new_password1": "reset passphrase that is long",
            "new_password2": "reset passphrase that is long",
        },
    )
    assert response.status_code == 302
    assert (
        login(Client(), "member@example.nhs.uk", "reset passphrase that is long").status_code == 302
    )


def test_password_reset_does_not_reveal_whether_an_account_exists(world):
    response = Client().post("/password/reset/", {"email": "nobody@example.nhs.uk"})
    assert response.status_code == 302
    assert len(mail.outbox) == 0


def test_security_headers(client):
    response = client.get("/login/")
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp
    assert "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Request-ID"]


def test_an_incoming_request_id_is_kept_if_well_formed(client):
    assert client.get("/login/", HTTP_X_REQUEST_ID="abc12345-trace")["X-Request-ID"] == (
        "abc12345-trace"
    )
    assert client.get("/login/", HTTP_X_REQUEST_ID="<script>")["X-Request-ID"] != "<script>"


@override_settings(SESSION_COOKIE_SECURE=True, CSRF_COOKIE_SECURE=True)
def test_cookies_are_secure_and_httponly(world):
    client = Client()
    login(client, "member@example.nhs.uk", PASSWORD)
    cookie = client.cookies["sessionid"]
    assert cookie["httponly"]
    assert cookie["secure"]
    assert cookie["samesite"] == "Lax"


def test_home_shows_empty_states_for_a_person_with_no_roles(db, client):
    from tests.factories import UserFactory

    client.force_login(UserFactory())
    html = client.get("/").content.decode()
    assert "Nothing needs your attention right now." in html
    assert "You have no roles yet" in html


def test_changing_a_password_keeps_this_session_ends_others_and_revokes_tokens(world):
    from accounts.services import token_create

    member = world.people["member"]
    _, clear = token_create(actor=member, name="ledger", lifetime_days=30)
    api = Client(HTTP_AUTHORIZATION=f"Token {clear}")
    assert api.get("/api/v1/me/").status_code == 200
    here, elsewhere = Client(), Client()
    assert login(here, "member@example.nhs.uk", PASSWORD).status_code == 302
    assert login(elsewhere, "member@example.nhs.uk", PASSWORD).status_code == 302
    response = here.post("/password/change/", {
        "old_password": PASSWORD, "new_password1": "a much longer new passphrase",
        "new_password2": "a much longer new passphrase"}, follow=True)  # fmt: skip
    assert "Your 1 API token stopped working" in response.content.decode()
    assert here.get("/").status_code == 200  # still signed in here
    assert elsewhere.get("/").status_code == 302  # signed out on the other machine
    assert api.get("/api/v1/me/").status_code == 401  # the token is revoked
    event = AuditEvent.objects.get(action="password.changed")
    assert event.payload == {"how": "changed", "tokens_revoked": ["ledger"]}


def test_pages_and_api_answers_for_a_signed_in_person_are_not_stored(world, client_for):
    """Cache-Control: no-store on pages for a signed-in person and on every API answer (a
    download is a page for a signed-in person)."""
    client = client_for(world.people["member"])
    for url in ("/", "/notifications/", "/api/v1/me/"):
        control = client.get(url)["Cache-Control"]
        assert "no-store" in control and "private" in control, url
    assert "no-store" in Client().get("/api/v1/me/")["Cache-Control"]  # a 401, also not kept
    assert "no-store" in client.get("/rounds/")["Cache-Control"]


def test_password_reset_e_mails_are_limited_per_account(world):
    """Three an hour for one account, however its address is written. Over the limit the
    page reads the same (it never says whether an account exists) and nothing is sent."""
    from django.core.cache import cache

    cache.clear()
    client = Client()
    for email in ("member@example.nhs.uk", "MEMBER@example.nhs.uk", " member@Example.NHS.uk",
                  "member@example.nhs.uk", "Member@example.nhs.uk"):  # fmt: skip
        response = client.post("/password/reset/", {"email": email})
        assert response.status_code == 302
    assert len(mail.outbox) == 3
    client.post("/password/reset/", {"email": "approver@example.nhs.uk"})  # another account
    assert len(mail.outbox) == 4
    key = cache.make_key(f"reset:account:{world.people['member'].pk}")
    assert 0 < cache._cache.get_client(key).ttl(key) <= 3600  # the count ends with its hour
    cache.clear()
