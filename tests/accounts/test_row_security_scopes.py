"""Whose scope the database works in: each request as the signed-in person (administrators
too: every system, but no one's drafts; no one before sign-in), an API request as its token's person, each task as it
declares, a management command as the tables' owner; and nothing outlasts its request or task
on a connection that is used again."""

from __future__ import annotations

import pytest
from celery.signals import task_prerun
from django.db import connection
from rest_framework.test import APIClient

from accounts import rowsecurity
from accounts.models import Region
from tests.accounts.rowsecurity_urls import state
from tests.accounts.test_row_security import tenant_rows

URLS = "tests.accounts.rowsecurity_urls"
APP_ROLE = "openbook_app"


def _owner() -> str:
    return connection.settings_dict["USER"]


def _as_owner_again() -> None:
    """After a request or task: the connecting role, no scope."""
    now = state()
    assert (now["role"], now["scope"], now["user_id"]) == (_owner(), "", "")


@pytest.mark.django_db
@pytest.mark.urls(URLS)
@pytest.mark.parametrize(
    ("actor", "scope", "drafts"),
    [("member", "person", 1), ("lead", "person", 0), ("admin", "person", 0), (None, "none", 0)],
)
def test_a_request_runs_as_the_application_role_in_the_signed_in_persons_scope(
    world, client_for, actor, scope, drafts
):
    tenant_rows(world)
    user = world.people[actor] if actor else None
    seen = client_for(user).get("/probe/").json()
    assert seen["role"] == APP_ROLE
    assert seen["scope"] == scope
    assert seen["user_id"] == (str(user.pk) if user else "")
    assert seen["drafts"] == drafts  # of the four organisations' drafts
    _as_owner_again()


@pytest.mark.django_db
@pytest.mark.urls(URLS)
def test_an_api_request_works_in_its_tokens_persons_scope(world):
    from accounts.services import token_create

    tenant_rows(world)
    _, clear = token_create(actor=world.people["member"], name="script", lifetime_days=7)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {clear}")
    seen = client.get("/api/probe/").json()
    assert (seen["role"], seen["scope"]) == (APP_ROLE, "person")
    assert seen["user_id"] == str(world.people["member"].pk)
    assert seen["drafts"] == 1
    _as_owner_again()


@pytest.mark.django_db
@pytest.mark.urls(URLS)
def test_a_request_that_fails_keeps_nothing_it_wrote(world, client_for):
    response = client_for(world.people["member"]).get("/fails/")
    assert response.status_code == 500
    assert not Region.objects.filter(code="made").exists()
    _as_owner_again()


@pytest.mark.django_db(transaction=True)
@pytest.mark.urls(URLS)
def test_a_view_that_checks_the_audit_trail_reads_one_snapshot(world, client_for):
    """Its transaction starts REPEATABLE READ, before the query that sets the scope; other
    pages keep PostgreSQL's READ COMMITTED."""
    client = client_for(world.people["member"])
    assert client.get("/snapshot/").json()["isolation"] == "repeatable read"
    assert client.get("/probe/").json()["isolation"] == "read committed"


@pytest.mark.django_db
def test_each_task_works_in_the_scope_it_declares_and_leaves_none_behind(world):
    from openbook.tasks import ping
    from payments.tasks import recompute_outdated

    seen = []

    def note(task=None, **kwargs):  # after accounts' own receiver, which set the scope
        seen.append((task.name, state()["role"], state()["scope"]))

    task_prerun.connect(note)
    try:
        ping.apply()
        recompute_outdated.apply()
    finally:
        task_prerun.disconnect(note)
    assert seen == [
        ("openbook.ping", APP_ROLE, "none"),  # declares nothing: no one's rows
        ("payments.recompute_outdated", APP_ROLE, "platform"),
    ]
    _as_owner_again()


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_a_scope_holds_for_the_session_even_on_a_new_connection(world):
    """A task runs in several transactions and between them; its connection may be closed
    as too old and opened again mid-task."""
    tenant_rows(world)
    with rowsecurity.acting_for(world.people["member"]):
        assert (state()["scope"], state()["drafts"]) == ("person", 1)
        connection.close()
        assert (state()["role"], state()["scope"], state()["drafts"]) == (APP_ROLE, "person", 1)
        with rowsecurity.platform():
            assert state()["drafts"] == 4
        assert (state()["scope"], state()["drafts"]) == ("person", 1)
    _as_owner_again()
    connection.close()
    _as_owner_again()


@pytest.mark.django_db
def test_a_management_command_runs_as_the_owner_and_sees_every_row(world):
    """Migrations and administrative commands bypass the policies: they connect as the
    tables' owner and set no scope."""
    tenant_rows(world)
    assert rowsecurity.current() is None
    assert (state()["role"], state()["drafts"]) == (_owner(), 4)
