"""`openbook import_people FILE.csv --by ADMIN [--dry-run]`: the page's checks and import from
the shell, with the administrator named for the audit trail."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Invitation, Membership, Role
from openbook.models import AuditEvent
from tests.accounts.test_people_import import BAD, GOOD, _stored

pytestmark = pytest.mark.django_db


def _run(*args) -> str:
    out = StringIO()
    call_command("import_people", *[str(a) for a in args], stdout=out)
    return out.getvalue()


@pytest.fixture
def good_file(tmp_path):
    path = tmp_path / "people.csv"
    path.write_text(GOOD)
    return path


def test_it_refuses_to_run_without_an_administrator_named(world, good_file):
    before = _stored()
    with pytest.raises(CommandError, match="Say who is importing: --by"):
        _run(good_file)
    with pytest.raises(CommandError, match="not an active platform administrator"):
        _run(good_file, "--by", "lead@example.nhs.uk")
    with pytest.raises(CommandError, match="not an active platform administrator"):
        _run(good_file, "--by", "nobody@example.nhs.uk")
    assert _stored() == before


def test_a_dry_run_says_what_it_would_do_and_stores_nothing(world, good_file):
    before = _stored()
    out = _run(good_file, "--by", "ADMIN@example.nhs.uk", "--dry-run")
    assert "Dry run: nothing was stored" in out
    assert "Invitations to new people: 3." in out
    assert "Roles added to people with accounts: 1." in out
    assert "  row 5: member@example.nhs.uk, Approver, Beta Community NHS Trust (ZA2)" in out
    assert "Unchanged: 1." in out
    assert _stored() == before


def test_it_imports_in_the_administrators_name(world, good_file):
    out = _run(good_file, "--by", "admin@example.nhs.uk")
    assert "The worker e-mails the invitations" in out
    assert Invitation.objects.count() == 3
    assert Membership.objects.filter(user=world.people["member"], role=Role.ORG_APPROVER).exists()
    event = AuditEvent.objects.get(action="people.imported")
    assert event.actor == world.people["admin"] and event.payload["source"] == "command line"
    assert AuditEvent.objects.filter(action="invitation.created",
                                     actor=world.people["admin"]).count() == 3  # fmt: skip
    # Again: nothing changes.
    assert "Unchanged: 5." in _run(good_file, "--by", "admin@example.nhs.uk")
    assert Invitation.objects.count() == 3


def test_a_bad_file_names_every_bad_row(world, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(BAD)
    before = _stored()
    with pytest.raises(CommandError) as refused:
        _run(path, "--by", "admin@example.nhs.uk")
    text = str(refused.value)
    assert text.startswith("Nothing imported. 9 of the 11 rows have problems")
    assert "Row 2: “not-an-address” is not an e-mail address" in text
    assert "Row 5: “QQ9” is not an organisation's ODS code in Openbook" in text
    assert "Row 9: “ann.new@example.nhs.uk” is given the same role" in text
    assert _stored() == before


def test_a_file_that_cannot_be_read_is_refused(world, tmp_path):
    path = tmp_path / "people.csv"
    path.write_text("name,role\nX,Preparer\n")
    with pytest.raises(CommandError, match="Nothing imported. The first row must name"):
        _run(path, "--by", "admin@example.nhs.uk")
    with pytest.raises(CommandError, match="no such file"):
        _run(tmp_path / "missing.csv", "--by", "admin@example.nhs.uk")
