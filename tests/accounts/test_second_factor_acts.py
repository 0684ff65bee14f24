"""Every act that signs, submits, accepts or decides needs two-step verification, on its page
and through the API; each is taken from the isolation matrix, with the matrix's own setup and
request, for each person the matrix lets do it.

Without a second factor: a page sends the person to set one up, with `next`, and changes
nothing; the API answers 403 "second_factor_required" and changes nothing. With one (the
session marked, or a token made in a marked session) the act goes ahead as in the matrix."""

import json

import pytest
from django.db import transaction
from rest_framework.test import APIClient

from accounts import second_factor
from accounts.services import token_create
from tests.conftest import ACTORS
from tests.isolation import ROUTES
from tests.test_isolation_matrix import _state

pytestmark = [pytest.mark.django_db, pytest.mark.second_factor]

PAGES = {
    "plan_submit", "plan_accept", "plan_return", "plan_recall", "system_submit",
    "system_approve", "system_return", "return_submit", "agreement_sign",
    "settlement_respond", "settlement_decide", "release_decide", "transfer_propose",
    "transfer_decide",
}  # fmt: skip
API = {
    "api_submit", "api_accept", "api_return", "api_recall", "api_return_submit",
    "api_agreement_sign", "api_settlement_respond", "api_settlement_decide",
    "api_release_decide", "api_transfer_decide",
}  # fmt: skip
# Transfers proposed through the API agree for the proposer's side, as on the page.
API_ROUTES = [r for r in ROUTES if r.api and (r.name in API or (
    r.name == "api_transfer_list" and r.method == "POST"))]  # fmt: skip
PAGE_ROUTES = [r for r in ROUTES if not r.api and r.name in PAGES]
# A token's "last used" moves on every request: not a write the act made.
QUIET = {"accounts_personaltoken"}


class _Rollback(Exception):
    pass


def _doers(route) -> list[str]:
    """Whoever the matrix lets through the permission check: done (2xx, 3xx), or refused only
    for the state the matrix leaves it in (400: already decided, say)."""
    return [a for a in ACTORS if a != "anonymous" and route.status_for(a) <= 400]


def _mark(client, user) -> None:
    session = client.session
    session[second_factor.SESSION_KEY] = {"user": str(user.pk), "method": "totp", "at": "now"}
    session.save()


def _changed(before):
    after = _state()
    return sorted(t for t in after if after[t] != before.get(t, 0) and t not in QUIET)


def test_every_guarded_route_is_in_the_matrix():
    assert {r.name for r in PAGE_ROUTES} == PAGES
    assert {r.name for r in API_ROUTES} == API | {"api_transfer_list"}
    assert all(_doers(r) for r in PAGE_ROUTES + API_ROUTES)


@pytest.mark.parametrize("route", [pytest.param(r, id=f"{r.method} {r.name}") for r in PAGE_ROUTES])
def test_a_page_act_sends_the_person_to_set_up_then_goes_ahead(world, route, client_for):
    if route.setup:
        with second_factor.unattended("the matrix's set-up"):
            route.setup(world)
    for actor in _doers(route):
        user = world.people[actor]
        data = route.data(world) if route.data else None
        try:
            with transaction.atomic():
                client = client_for(user)
                before = _state()
                response = getattr(client, route.method.lower())(route.url(world), data=data)
                assert response.status_code == 302, (actor, response.status_code)
                assert response["Location"].startswith("/account/two-step/set-up/?next="), actor
                assert _changed(before) == [], actor
                _mark(client, user)
                response = getattr(client, route.method.lower())(route.url(world), data=data)
                assert response.status_code == route.status_for(actor), actor
                assert "/account/two-step/" not in response.get("Location", ""), actor
                raise _Rollback
        except _Rollback:
            pass


@pytest.mark.parametrize("route", [pytest.param(r, id=f"{r.method} {r.name}") for r in API_ROUTES])
def test_an_api_act_needs_a_token_made_with_a_second_factor(world, route):
    if route.setup:
        with second_factor.unattended("the matrix's set-up"):
            route.setup(world)
    for actor in _doers(route):
        user = world.people[actor]
        body = json.dumps(route.data(world)) if route.data else None
        try:
            with transaction.atomic():
                _, plain = token_create(actor=user, name="script", lifetime_days=30)
                user.second_factor_method = "totp"  # as in a session that confirmed it
                _, verified = token_create(actor=user, name="verified script", lifetime_days=30)
                client = APIClient()
                client.credentials(HTTP_AUTHORIZATION=f"Token {plain}")
                before = _state()
                response = getattr(client, route.method.lower())(
                    route.url(world), data=body, content_type="application/json"
                )
                assert response.status_code == 403, (actor, response.status_code)
                assert response.json()["error"]["code"] == "second_factor_required"
                assert "security code" in response.json()["error"]["message"]
                assert _changed(before) == [], actor
                client.credentials(HTTP_AUTHORIZATION=f"Token {verified}")
                response = getattr(client, route.method.lower())(
                    route.url(world), data=body, content_type="application/json"
                )
                assert response.status_code == route.status_for(actor), (actor, response.json())
                raise _Rollback
        except _Rollback:
            pass
