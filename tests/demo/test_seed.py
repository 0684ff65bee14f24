"""The demo data loads, loads again without change, and the README tells the truth about it."""

from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from accounts.models import Membership, Organisation, System, User
from demo.people import DEMO_LOGINS
from openbook.audit import audit_verify_all

pytestmark = pytest.mark.django_db

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
    assert (
        client.post(
            "/login/", {"username": DEMO_LOGINS[1][0], "password": settings.DEMO_PASSWORD}
        ).status_code
        == 302
    )


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
