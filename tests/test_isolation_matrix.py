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


def _request(world, route, actor):
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
    return url, getattr(client, route.method.lower())(url, **kwargs).status_code


@pytest.mark.django_db
@pytest.mark.parametrize("route", [pytest.param(r, id=f"{r.method} {r.name} {n}")
                                   for n, r in enumerate(ROUTES)])  # fmt: skip
def test_isolation(world, route):
    """One route, every kind of person. The route's state is set up once; each person's
    request runs in a savepoint that is rolled back, so a write by one (a successful POST)
    never changes what the next one meets."""
    if route.setup:
        route.setup(world)
    wrong = []
    for actor in ACTORS:
        try:
            with transaction.atomic():
                url, status = _request(world, route, actor)
                raise _Rollback
        except _Rollback:
            pass
        expected = route.status_for(actor)
        if status != expected:
            wrong.append(f"{route.method} {url} as {actor}: expected {expected}, got {status}")
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
    assert not missing, f"routes missing from tests/isolation.py: {missing}"
