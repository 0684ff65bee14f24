"""Every form the pages post, filled with junk, as a person allowed to post it: a message or
a redirect, never a server error, and the same for every upload with junk files. (The API
has the schemathesis test for the same.)"""

import io

import pytest
from django.db import transaction
from django.test import Client

from tests.conftest import ACTORS
from tests.isolation import ROUTES

JUNK = ["", "abc", "12,34", "5e2", "1e999", "-", "(", "\x00", "\uff19", "x" * 5000,
        "<script>alert(1)</script>", "NaN", "9" * 40, "  ", "-0", "[]"]  # fmt: skip
FORMS = [r for r in ROUTES if not r.api and r.method == "POST" and r.data is not None]


class _Rollback(Exception):
    """Raised to undo one request, so the next junk meets the same state."""


def _allowed(route) -> str | None:
    return next((a for a in ACTORS if a != "anonymous" and 200 <= route.status_for(a) < 400),
                None)  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize("route", [pytest.param(r, id=f"{r.name} {n}")
                                   for n, r in enumerate(FORMS)])  # fmt: skip
def test_a_form_full_of_junk_is_never_a_server_error(world, route):
    if route.setup:
        route.setup(world)
    actor = _allowed(route)
    assert actor is not None, "every form has someone allowed to post it"
    client = Client(raise_request_exception=False)
    client.force_login(world.people[actor])
    url, fields = route.url(world), route.data(world)
    failures = []
    for junk in JUNK:
        body = {k: [junk] * len(v) if isinstance(v, list) else junk for k, v in fields.items()}
        try:
            with transaction.atomic():
                status = client.post(url, body).status_code
                raise _Rollback
        except _Rollback:
            pass
        if status >= 500:
            failures.append(f"{junk[:20]!r} → {status}")
    assert not failures, f"POST {url} as {actor}: " + "; ".join(failures)


JUNK_FILES = [
    ("plan.csv", b""),
    ("plan.csv", b"\x00" * 64),
    ("plan.csv", b"\r\r\r"),
    ("plan.csv", b"round,organisation,line,counterparty,month,value\r" + b"9" * 200_000),
    ("plan.csv", "\u0661\u0662,\uff13\n".encode()),
    ("plan.csv", b"\xff\xfe\x00j\x00u\x00n\x00k"),
    ("plan.xlsx", bytes(range(256)) * 8),
    ("plan.xlsx", b"PK\x03\x04" + b"\x00" * 100),
    ("plan.xlsx", b"PK\x05\x06" + b"\x00" * 18),  # an empty zip
]
UPLOADS = [r for r in FORMS if r.name in ("plan_upload", "return_upload", "control_totals_save")]


@pytest.mark.django_db
@pytest.mark.parametrize("route", [pytest.param(r, id=r.name) for r in UPLOADS])
def test_an_upload_of_junk_is_never_a_server_error(world, route):
    if route.setup:
        route.setup(world)
    actor = _allowed(route)
    client = Client(raise_request_exception=False)
    client.force_login(world.people[actor])
    url, failures = route.url(world), []
    for name, content in JUNK_FILES:
        upload = io.BytesIO(content)
        upload.name = name
        try:
            with transaction.atomic():
                status = client.post(url, {"file": upload}).status_code
                raise _Rollback
        except _Rollback:
            pass
        if status >= 500:
            failures.append(f"{name} {content[:12]!r} → {status}")
    assert not failures, f"POST {url} as {actor}: " + "; ".join(failures)
