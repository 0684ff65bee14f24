"""The demo data loads, loads again without change, and the README tells the truth about it."""

from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client

from accounts.models import Membership, Organisation, System, User
from demo.people import DEMO_LOGINS
from openbook.audit import audit_verify_all

# With two-step verification required, as `make demo` has it: the seeds still act for the
# approvers, leads and reviewers they make (unattended), and every login signs in.
pytestmark = [pytest.mark.django_db, pytest.mark.second_factor]

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_seed_is_idempotent(capsys):
    call_command("seed")
    counts = (System.objects.count(), Organisation.objects.count(), Membership.objects.count())
    call_command("seed")
    assert "nothing to make" in capsys.readouterr().out
    assert counts[:2] == (2, 13)
    assert (
        System.objects.count(),
        Organisation.objects.count(),
        Membership.objects.count(),
    ) == counts
    assert all(report.ok for report in audit_verify_all())


def test_every_demo_login_works_and_is_in_the_readme(client):
    call_command("seed")
    assert f"`{settings.DEMO_PASSWORD}`" in README
    for email, _ in DEMO_LOGINS:
        assert f"`{email}`" in README, email
        assert User.objects.get(email=email).check_password(settings.DEMO_PASSWORD)
    for email, _ in DEMO_LOGINS:
        response = Client().post("/login/", {"username": email, "password": settings.DEMO_PASSWORD})
        # Straight in: no one in the demo has set up an authenticator yet.
        assert (response.status_code, response["Location"]) == (302, "/"), email


def test_demo_systems_have_every_kind_the_issue_asks_for():
    call_command("seed")
    kinds = set(Organisation.objects.values_list("kind", flat=True))
    assert {
        "acute",
        "community",
        "mental_health",
        "ambulance",
        "commissioner",
        "local_authority",
    } <= kinds
