"""Every route × every kind of person: outsiders get 404, viewers 403 on writes, and so on."""

import json

import pytest
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from tests.conftest import ACTORS
from tests.isolation import EXEMPT, ROUTES


class _Rollback(Exception):
    """Raised to undo one person's request, so the next person meets the same state."""


APPS = ("accounts", "plans", "payments", "openbook", "notifications", "webhooks")


def _state() -> dict[str, int]:
    """Rows written so far in this transaction, per table of ours (PostgreSQL counts every
    insert, update and delete it attempted, whether or not it changed a value, and even if a
    savepoint undid it): a refused write must attempt none. (Sessions and sign-in throttling are Django's tables, not ours, and may move.)"""
    from django.apps import apps
    from django.db import connection

    tables = [
        model._meta.db_table
        for model in apps.get_models(include_auto_created=True)
        if model._meta.app_label in APPS
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_xact_user_tables"
            " WHERE relname = ANY(%s)",
            [tables],
        )
        return dict(cursor.fetchall())


def _request(world, route, actor):
    """(url, status, tables a refused write changed)."""
    user = None if actor == "anonymous" else world.people[actor]
    client = APIClient()
    if user is not None:
        client.force_authenticate(user) if route.api else client.force_login(user)
    url = route.url(world)
    data = route.data(world) if route.data else None
    kwargs = {}
    if data is not None:
        if route.api:
            kwargs = {"data": json.dumps(data), "content_type": "application/json"}
        else:
            kwargs = {"data": data}
    writes = route.method != "GET"
    before = _state() if writes else {}
    status = getattr(client, route.method.lower())(url, **kwargs).status_code
    changed = []
    if writes and (status >= 400 or actor == "anonymous"):  # refused (anonymous: to sign in)
        after = _state()
        changed = sorted(t for t in after if after[t] != before.get(t, 0))
    return url, status, changed


@pytest.mark.django_db
@pytest.mark.parametrize("route", [pytest.param(r, id=f"{r.method} {r.name} {n}")
                                   for n, r in enumerate(ROUTES)])  # fmt: skip
def test_isolation(world, route):
    """One route, every kind of person. The route's state is set up once; each person's
    request runs in a savepoint that is rolled back, so a write by one (a successful POST)
    never changes what the next one meets. A refused write is also read back: every table of
    ours must be as it was before it."""
    if route.setup:
        route.setup(world)
    wrong = []
    for actor in ACTORS:
        try:
            with transaction.atomic():
                url, status, changed = _request(world, route, actor)
                raise _Rollback
        except _Rollback:
            pass
        expected = route.status_for(actor)
        if status != expected:
            wrong.append(f"{route.method} {url} as {actor}: expected {expected}, got {status}")
        if changed:
            wrong.append(f"{route.method} {url} as {actor} was refused ({status}) but changed "
                         f"{', '.join(changed)}")  # fmt: skip
    assert not wrong, "\n".join(wrong)


def _named_patterns(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":
                continue  # the Django admin, for platform administrators only
            yield from _named_patterns(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            name = entry.name
            if name and "format" not in str(entry.pattern):
                yield name


def test_every_route_is_in_the_matrix_or_exempt():
    covered = {route.name for route in ROUTES} | set(EXEMPT)
    missing = sorted(set(_named_patterns()) - covered)
    assert not missing, (
        f"routes missing from tests/isolation/ (add each to its part's table): {missing}"
    )
