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


def _post(client, url, body) -> tuple[int, str]:
    try:
        with transaction.atomic():
            response = client.post(url, body)
            raise _Rollback(response)
    except _Rollback as done:
        response = done.args[0]
    return response.status_code, response.content.decode(errors="replace")


@pytest.mark.django_db
@pytest.mark.parametrize("route", [pytest.param(r, id=f"{r.name} {n}")
                                   for n, r in enumerate(FORMS)])  # fmt: skip
def test_a_form_full_of_junk_is_never_a_server_error(world, route):
    """One field at a time, the others as the form sends them, so the junk reaches the code
    that reads that field (not only the first check that fails)."""
    if route.setup:
        route.setup(world)
    actor = _allowed(route)
    assert actor is not None, "every form has someone allowed to post it"
    client = Client(raise_request_exception=False)
    client.force_login(world.people[actor])
    url, failures = route.url(world), []
    for key in route.data(world):
        for junk in JUNK:
            body = dict(route.data(world))  # afresh (a file is read once), and a copy
            if hasattr(body[key], "read"):
                continue  # files: the upload test
            body[key] = [junk] * len(body[key]) if isinstance(body[key], list) else junk
            status, page = _post(client, url, body)
            if status >= 500:
                failures.append(f"{key}={junk[:20]!r} → {status}")
            elif junk != "\x00" and status == 400 and "not text (a NUL" in page:
                failures.append(f"{key}={junk[:20]!r} refused as a NUL")
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
    valid = route.data(world).get("file")
    mutated = []
    if valid is not None:  # the route's own good file, with junk inside it
        text = valid.read().decode()
        for junk in ("\u00b2", "\u0661\u0662", "9" * 5000, "12,34", "5e2", "\x00", ""):
            for old in ("revision", ",5,", ",1,", "F110", "Apr"):
                if old in text:
                    mutated.append((valid.name, text.replace(old, old + junk, 1).encode()))
                    mutated.append((valid.name, text.replace(old, junk, 1).encode()))
    for name, content in [*JUNK_FILES, *mutated]:
        upload = io.BytesIO(content)
        upload.name = name
        status, _ = _post(client, url, {"file": upload})
        if status >= 500:
            failures.append(f"{name} {content[:12]!r} → {status}")
    assert not failures, f"POST {url} as {actor}: " + "; ".join(failures)
