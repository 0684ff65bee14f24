"""Every route × every kind of person: outsiders get 404, viewers 403 on writes, and so on."""

import json

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from tests.conftest import ACTORS
from tests.isolation import EXEMPT, ROUTES

CASES = [
    pytest.param(route, actor, id=f"{route.method} {route.name} as {actor}")
    for route in ROUTES
    for actor in ACTORS
]


@pytest.mark.django_db
@pytest.mark.parametrize(("route", "actor"), CASES)
def test_isolation(world, route, actor):
    if route.setup:
        route.setup(world)
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
    response = getattr(client, route.method.lower())(url, **kwargs)
    expected = route.status_for(actor)
    assert response.status_code == expected, (
        f"{route.method} {url} as {actor}: expected {expected}, got {response.status_code}"
    )


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
