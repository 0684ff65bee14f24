"""The invitations of a people import are e-mailed by the real worker after the commit, each
once, and the links in them work."""

from __future__ import annotations

import re
import time

import pytest
from django.test import Client

from accounts.models import Invitation, Membership
from accounts.people_import import people_import
from tests.conftest import build_world

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _wait_for(condition, what: str, limit: float = 60) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {limit} s for {what}")
        time.sleep(0.2)


def test_the_worker_emails_every_invitation_once_after_the_commit(worker_outbox):
    world = build_world()
    rows = "".join(f"person{n}@example.nhs.uk,Person {n},ZA1,Preparer\n" for n in range(60))
    data = ("email,name,organisation code,role\n" + rows).encode()
    people_import(actor=world.people["admin"], data=data)

    _wait_for(lambda: len(worker_outbox()) == 60, "60 invitations e-mailed")
    _wait_for(lambda: not Invitation.objects.filter(link_unsent=True).exists(), "all claimed")
    mails = worker_outbox()
    assert sorted(m["To"] for m in mails) == sorted(f"person{n}@example.nhs.uk" for n in range(60))
    first = next(m for m in mails if m["To"] == "person0@example.nhs.uk")
    body = first.get_content()
    assert body.startswith("Hello Person 0,") and "Admin has invited you" in body
    link = re.search(r"http://\S+(/invitations/\S+/)", body).group(1)
    newcomer = Client()
    assert newcomer.post(link, {"full_name": "Person Nought", "password1": "a long passphrase",
                                "password2": "a long passphrase"}).status_code == 302  # fmt: skip
    assert Membership.objects.filter(user__email="person0@example.nhs.uk",
                                     organisation=world.org_a).exists()  # fmt: skip

    # The sweep (beat, every few minutes) finds nothing more to send: none goes twice.
    from openbook.celery import app

    assert app.send_task("accounts.send_invitations").get(timeout=60) == 0
    assert len(worker_outbox()) == 60
