"""Personal API tokens: stored hashed, expire, revocable by their owner, audited."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import PersonalToken
from openbook.models import AuditEvent

pytestmark = pytest.mark.django_db


def make_token(world, **data):
    client = APIClient()
    client.force_authenticate(world.people["member"])
    return client.post("/api/v1/tokens/", {"name": "upload script", **data}, format="json")


def test_a_token_is_shown_once_and_stored_only_as_a_hash(world):
    response = make_token(world, lifetime_days=30)
    assert response.status_code == 201
    clear = response.json()["token"]
    assert clear.startswith("obk_")
    stored = PersonalToken.objects.get(name="upload script")
    assert clear not in (stored.digest, stored.token_key)
    assert stored.expiry - timezone.now() > timedelta(days=29)
    listing = APIClient()
    listing.force_authenticate(world.people["member"])
    assert "token" not in listing.get("/api/v1/tokens/").json()["results"][0]


def test_the_token_authenticates_as_its_owner_and_notes_its_use(world):
    clear = make_token(world, lifetime_days=7).json()["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {clear}")
    response = client.get("/api/v1/me/")
    assert response.status_code == 200
    assert response.json()["email"] == "member@example.nhs.uk"
    assert PersonalToken.objects.get(name="upload script").last_used_at is not None


def test_an_expired_token_is_refused(world):
    clear = make_token(world, lifetime_days=7).json()["token"]
    PersonalToken.objects.update(expiry=timezone.now() - timedelta(seconds=1))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {clear}")
    assert client.get("/api/v1/me/").status_code == 401


def test_a_revoked_token_stops_working_and_revocation_is_audited(world):
    response = make_token(world, lifetime_days=7)
    clear, key = response.json()["token"], response.json()["token_key"]
    owner = APIClient()
    owner.force_authenticate(world.people["member"])
    assert owner.delete(f"/api/v1/tokens/{key}/").status_code == 204
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {clear}")
    assert client.get("/api/v1/me/").status_code == 401
    assert AuditEvent.objects.filter(action="token.revoked", object_id=key).exists()


def test_bad_token_requests_get_clear_errors(world):
    response = make_token(world, lifetime_days=12)
    assert response.status_code == 400
    body = response.json()
    assert body["error"]["code"] == "invalid"
    assert "lifetime_days" in body["error"]["fields"]
    make_token(world, lifetime_days=7)
    duplicate = make_token(world, lifetime_days=7)
    assert duplicate.status_code == 400
    assert "already have a token" in duplicate.json()["error"]["message"]


def test_anonymous_api_requests_are_told_how_to_authenticate(db):
    response = APIClient().get("/api/v1/me/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Token")
    assert response.json()["error"]["code"] == "not_authenticated"


def test_token_page_shows_a_new_token_once(world, client):
    client.force_login(world.people["member"])
    response = client.post("/account/tokens/", {"name": "page token", "lifetime_days": "90"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "It will not be shown again" in html
    assert "page token" in client.get("/account/tokens/").content.decode()
    assert "It will not be shown again" not in client.get("/account/tokens/").content.decode()


def test_token_page_rejects_a_blank_name_and_stores_nothing(world, client):
    client.force_login(world.people["member"])
    response = client.post("/account/tokens/", {"name": "  ", "lifetime_days": "90"})
    assert response.status_code == 422
    assert "There is a problem" in response.content.decode()
    assert not PersonalToken.objects.exists()


def test_a_token_cannot_make_or_revoke_tokens(world):
    clear = make_token(world, lifetime_days=7).json()["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {clear}")
    assert client.get("/api/v1/tokens/").status_code == 200
    assert (
        client.post(
            "/api/v1/tokens/", {"name": "longer", "lifetime_days": 365}, format="json"
        ).status_code
        == 403
    )
    key = PersonalToken.objects.get().token_key
    assert client.delete(f"/api/v1/tokens/{key}/").status_code == 403
