"""Bringing people on board from a file: a platform administrator uploads a CSV, sees every
problem in it (nothing stored) or what it would do, and confirms; new people are invited
(the same invitations as one at a time), people with accounts given the role, all audited."""

from __future__ import annotations

import base64
import html
import re
import time

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.mail.backends.locmem import EmailBackend
from django.test import Client

from accounts.invitations import invitations_send_waiting
from accounts.models import Invitation, Membership, Role, User
from accounts.people_import import people_import, people_import_check
from accounts.services import membership_create
from openbook.errors import ProblemList
from openbook.models import AuditEvent
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db

PAGE = "/people/import/"
HEADING = "email,name,organisation code,role\n"
GOOD = (
    HEADING
    + "ann.new@example.nhs.uk,Ann New,ZA1,Preparer\n"
    + "ben.new@example.nhs.uk,Ben New,s1,System lead\n"
    + "cat.new@example.nhs.uk,Cat New,r1,Regional reviewer\n"
    + "member@example.nhs.uk,Member,ZA2,Approver\n"  # has an account: the role is added
    + "viewer@example.nhs.uk,Viewer,za1,organisation viewer\n"  # has it already
)


@pytest.fixture
def admin(world):
    client = Client()
    client.force_login(world.people["admin"])
    return client


def _upload(client, text: str | bytes, name="people.csv"):
    data = text.encode() if isinstance(text, str) else text
    return client.post(PAGE, {"file": SimpleUploadedFile(name, data, content_type="text/csv")})


def _hidden(page: str) -> dict[str, str]:
    """The confirmation form's hidden fields, as the browser would post them back."""
    form = page.split('action="/people/import/confirm/"', 1)[1].split("</form>", 1)[0]
    return {
        name: html.unescape(value)
        for name, value in re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', form)
    }


def _problems(page: str) -> list[tuple[str, str, str]]:
    """(row, column, why) for each row of the problems table."""
    table = page.split('id="import-problems"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr class=\"nhsuk-table__row\">(.*?)</tr>", table, re.S)
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in rows]
    return [(c[0], c[1], html.unescape(c[3])) for c in cells]


def _stored() -> tuple[int, int, int, int]:
    return (Invitation.objects.count(), Membership.objects.count(), User.objects.count(),
            AuditEvent.objects.count())  # fmt: skip


def test_a_good_file_is_shown_then_imported_and_the_invitations_work(admin, world):
    before = _stored()
    preview = _upload(admin, GOOD)
    page = preview.content.decode()
    assert preview.status_code == 200 and "Check before importing" in page
    summary = page.split('id="import-summary"', 1)[1].split("</dl>", 1)[0]
    assert re.findall(r'__value">(\d+)<', summary) == ["3", "1", "1"]
    assert "Import: 3 invitations and 1 role" in page
    assert _stored() == before  # nothing yet

    done = admin.post("/people/import/confirm/", _hidden(page))
    assert done.status_code == 302
    message = admin.get(done["Location"]).content.decode()
    assert "3 people invited" in message and "1 role given" in message
    assert "1 row unchanged" in message

    invited = Invitation.objects.order_by("email")
    assert [(i.email, i.role, i.full_name, i.link_unsent) for i in invited] == [
        ("ann.new@example.nhs.uk", Role.ORG_PREPARER, "Ann New", True),
        ("ben.new@example.nhs.uk", Role.SYSTEM_LEAD, "Ben New", True),
        ("cat.new@example.nhs.uk", Role.REGION_REVIEWER, "Cat New", True),
    ]
    assert invited[0].organisation == world.org_a and invited[1].system == world.s1
    assert invited[2].region == world.r1
    member = world.people["member"]
    assert Membership.objects.filter(user=member, role=Role.ORG_APPROVER,
                                     organisation=world.org_b).exists()  # fmt: skip

    admin_user = world.people["admin"]
    events = AuditEvent.objects.filter(actor=admin_user).exclude(action="auth.login").order_by("id")
    assert [e.action for e in events] == [
        "invitation.created", "invitation.created", "invitation.created",
        "membership.created", "people.imported",
    ]  # fmt: skip
    assert [e.reason for e in events][:4] == [f"people import, row {n}" for n in (2, 3, 4, 5)]
    imported = events.last()
    assert imported.after == {"invited": 3, "added": 1, "unchanged": 1}
    assert imported.payload["rows"] == 5 and imported.payload["source"] == "upload"

    # The worker's job, called here directly (the worker itself: test_people_import_worker).
    assert invitations_send_waiting() == 3
    assert invitations_send_waiting() == 0  # each is sent once
    assert sorted(m.to[0] for m in mail.outbox) == [i.email for i in invited]
    ann = next(m for m in mail.outbox if m.to == ["ann.new@example.nhs.uk"])
    assert ann.body.startswith("Hello Ann New,") and "Preparer for Alpha Hospitals" in ann.body
    link = re.search(r"http://\S+(/invitations/\S+/)", ann.body).group(1)
    newcomer = Client()
    assert 'value="Ann New"' in newcomer.get(link).content.decode()  # the name, to keep
    newcomer.post(link, {"full_name": "Ann New", "password1": "a long passphrase of mine",
                         "password2": "a long passphrase of mine"})  # fmt: skip
    ann_user = User.objects.get(email="ann.new@example.nhs.uk")
    assert ann_user.memberships.get().organisation == world.org_a
    assert newcomer.get(link).status_code == 404  # used up


def test_a_second_import_of_the_same_file_changes_nothing(admin, world):
    people_import(actor=world.people["admin"], data=GOOD.encode())
    before = _stored()
    page = _upload(admin, GOOD).content.decode()
    assert "Nothing to import" in page and "people_import_confirm" not in page
    summary = page.split('id="import-summary"', 1)[1].split("</dl>", 1)[0]
    assert re.findall(r'__value">(\d+)<', summary) == ["0", "0", "5"]
    assert "already invited (until" in page and "already has this role" in page
    assert _stored() == before


BAD = (
    HEADING
    + "not-an-address,Someone,ZA1,Preparer\n"  # 2
    + "ſmith@example.nhs.uk,Smith,ZA1,Preparer\n"  # 3: a look-alike letter
    + "noname@example.nhs.uk,,ZA1,Preparer\n"  # 4
    + "nowhere@example.nhs.uk,No Where,QQ9,Preparer\n"  # 5: no such organisation
    + "wrongplace@example.nhs.uk,Wrong Place,ZA1,System lead\n"  # 6: an organisation's code
    + "norole@example.nhs.uk,No Role,ZA1,Chief\n"  # 7
    + "ann.new@example.nhs.uk,Ann New,ZA1,Preparer\n"  # 8: good
    + "ann.new@example.nhs.uk,Ann New,za1,preparer\n"  # 9: the same as row 8
    + "gone@example.nhs.uk,Gone,ZA1,Preparer\n"  # 10: deactivated
    + "admin@example.nhs.uk,Admin,ZA1,Approver\n"  # 11: the administrator's own
    + "ann.new@example.nhs.uk,Anne Other,ZA2,Preparer\n"  # 12: another name for row 8's
    + ",,,\n"  # blank: skipped
)


def test_a_bad_file_lists_every_bad_row_and_stores_nothing(admin, world):
    User.objects.create_user("gone@example.nhs.uk", full_name="Gone", is_active=False)
    before = _stored()
    response = _upload(admin, BAD)
    page = response.content.decode()
    assert response.status_code == 422 and "Nobody was imported" in page
    assert "10 of the 11 rows have problems" in page
    found = _problems(page)
    assert [(row, column) for row, column, _ in found] == [
        ("2", "email"), ("3", "email"), ("4", "name"), ("5", "organisation code"),
        ("6", "organisation code"), ("7", "role"), ("9", "email"), ("10", "email"),
        ("11", "email"), ("12", "name"),
    ]  # fmt: skip
    why = {row: reason for row, _, reason in found}
    assert why["2"] == "is not an e-mail address (like name@nhs.net)"
    assert "letters other than a to z" in why["3"]
    assert "is empty" in why["4"]
    assert why["5"] == "is not an organisation's ODS code in Openbook"
    assert "is an organisation's ODS code, and System lead is held at a system" in why["6"]
    assert why["7"].startswith("is not a role: use one of Organisation viewer, Preparer")
    assert why["9"] == "is given the same role at the same place in row 8"
    assert "deactivated account" in why["10"]
    assert "your own address" in why["11"]
    assert "differs from the name in row 8 (“Ann New”)" in why["12"]
    assert _stored() == before


def test_the_list_of_problems_is_cut_short_and_says_how_many(admin):
    rows = "".join(f"person{n}@example.nhs.uk,Person {n},QQ9,Preparer\n" for n in range(250))
    page = _upload(admin, HEADING + rows).content.decode()
    assert len(_problems(page)) == 200
    assert "The first 200 of the 250 problems are listed" in page


def test_a_file_saved_by_excel_with_a_byte_order_mark_and_crlf_is_read(admin, world):
    text = ("\ufeffE-mail Address,Full Name,ODS Code,Role,Notes\r\n"
            "dee.new@example.nhs.uk,Dee New,ZA1,Approver,finance director\r\n"
            '"eve.new@example.nhs.uk","Eve ""Evie"" New",ZA2,viewer,\r\n'
            ",,,,\r\n")  # fmt: skip
    page = _upload(admin, text.encode("utf-8")).content.decode()
    assert "Check before importing" in page and "Columns not read: Notes." in page
    people_import(actor=world.people["admin"], data=text.encode("utf-8"))
    assert Invitation.objects.get(email="eve.new@example.nhs.uk").full_name == 'Eve "Evie" New'
    assert Invitation.objects.get(email="eve.new@example.nhs.uk").role == Role.ORG_VIEWER


def test_windows_text_from_excels_plain_csv_keeps_accented_names(world):
    data = "email,name,code,role\r\njose@example.nhs.uk,José Núñez,ZA1,Preparer\r\n".encode(
        "cp1252"
    )
    plan = people_import_check(actor=world.people["admin"], data=data)
    assert plan.rows[0].name == "José Núñez"


def test_viewer_is_an_organisations_or_a_systems_by_the_code(world):
    data = (HEADING + "a@example.nhs.uk,A,ZA1,Viewer\nb@example.nhs.uk,B,S1,viewer\n").encode()
    plan = people_import_check(actor=world.people["admin"], data=data)
    assert [(p.role, p.place) for p in plan.rows] == [
        (Role.ORG_VIEWER, world.org_a), (Role.SYSTEM_VIEWER, world.s1)]  # fmt: skip


def test_a_file_without_the_columns_or_too_long_is_refused_whole(admin, settings):
    page = _upload(admin, "email,name,role\nx@example.nhs.uk,X,Preparer\n").content.decode()
    assert "it has no code column" in page
    settings.PEOPLE_IMPORT_MAX_ROWS = 3
    many = HEADING + "".join(f"p{n}@example.nhs.uk,P,ZA1,Preparer\n" for n in range(4))
    response = _upload(admin, many)
    assert response.status_code == 422
    assert "more than 3 people in it" in response.content.decode()
    big = _upload(admin, b"x" * (1024 * 1024 + 1))
    assert "larger than 1 MB" in big.content.decode()
    assert not Invitation.objects.exists()


def test_two_hundred_people_in_ten_organisations(admin, world, django_assert_max_num_queries):
    organisations = [OrganisationFactory(ods_code=f"ZT{n}", system=world.s1) for n in range(10)]
    roles = ["Preparer", "Approver", "Organisation viewer", "Preparer"]
    rows = "".join(
        f"person{n}@example.nhs.uk,Person {n},{organisations[n % 10].ods_code},{roles[n % 4]}\n"
        for n in range(200)
    )
    started = time.monotonic()
    with django_assert_max_num_queries(30):  # the same few queries for 2 rows or 200
        page = _upload(admin, HEADING + rows).content.decode()
    checked = time.monotonic() - started
    assert "Import: 200 invitations and 0 roles" in page
    started = time.monotonic()
    assert admin.post("/people/import/confirm/", _hidden(page)).status_code == 302
    imported = time.monotonic() - started
    print(f"\n200 rows: checked in {checked:.2f} s, imported in {imported:.2f} s")
    assert Invitation.objects.filter(link_unsent=True).count() == 200
    assert AuditEvent.objects.filter(action="invitation.created").count() == 200
    assert Invitation.objects.filter(organisation=organisations[3]).count() == 20


def test_confirming_after_something_changed_shows_the_file_again(admin, world):
    page = _upload(admin, GOOD).content.decode()
    # Meanwhile, someone gives the member the role the file would give.
    membership_create(actor=None, user=world.people["member"], role=Role.ORG_APPROVER,
                      organisation=world.org_b)  # fmt: skip
    before = _stored()
    again = admin.post("/people/import/confirm/", _hidden(page))
    text = again.content.decode()
    assert again.status_code == 200 and "Changed since you checked" in text
    assert "Import: 3 invitations and 0 roles" in text
    assert _stored() == before
    assert admin.post("/people/import/confirm/", _hidden(text)).status_code == 302
    assert Invitation.objects.count() == 3


def test_a_tampered_confirmation_is_checked_again(admin, world):
    page = _upload(admin, GOOD).content.decode()
    posted = _hidden(page) | {"file": base64.b64encode(BAD.encode()).decode()}
    response = admin.post("/people/import/confirm/", posted)
    assert response.status_code == 422 and not Invitation.objects.exists()


def test_only_platform_administrators_may_import(world):
    with pytest.raises(Exception, match="Only platform administrators"):
        people_import_check(actor=world.people["lead"], data=GOOD.encode())
    with pytest.raises(ProblemList):  # an administrator's bad file: refused, not forbidden
        people_import_check(actor=world.people["admin"], data=BAD.encode())


def test_the_example_file_downloads_and_names_every_column(admin):
    response = admin.get("/people/import/openbook-people.csv")
    assert response["Content-Disposition"] == 'attachment; filename="openbook-people.csv"'
    text = response.content.decode("utf-8-sig")
    assert text.splitlines()[0] == "email,name,organisation code,role"


def test_home_leads_an_administrator_to_the_import_and_no_one_else(admin, world, client_for):
    assert 'href="/people/import/"' in admin.get("/").content.decode()
    lead = client_for(world.people["lead"])
    assert 'href="/people/import/"' not in lead.get("/").content.decode()


class FailsOnSecond(EmailBackend):
    """A mail server that takes one message, then goes away."""

    sent = 0

    def send_messages(self, messages):
        if FailsOnSecond.sent >= 1:
            raise ConnectionError("mail server went away")
        FailsOnSecond.sent += len(messages)
        return super().send_messages(messages)


class RefusesBen(EmailBackend):
    """A mail server that refuses one address and takes the rest."""

    def send_messages(self, messages):
        import smtplib

        if any("ben.new@" in to for m in messages for to in m.to):
            raise smtplib.SMTPRecipientsRefused({"ben.new@example.nhs.uk": (550, b"no such")})
        return super().send_messages(messages)


def test_invitations_the_mail_server_did_not_take_go_on_the_next_run(world, settings):
    people_import(actor=world.people["admin"], data=GOOD.encode())
    settings.EMAIL_BACKEND = f"{__name__}.FailsOnSecond"
    FailsOnSecond.sent = 0
    with pytest.raises(ConnectionError):
        invitations_send_waiting()
    assert len(mail.outbox) == 1
    assert Invitation.objects.filter(link_unsent=True).count() == 2  # put back
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert invitations_send_waiting() == 2
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        Invitation.objects.values_list("email", flat=True)
    )


def test_an_address_the_mail_server_refuses_does_not_stop_the_others(world, settings):
    people_import(actor=world.people["admin"], data=GOOD.encode())
    settings.EMAIL_BACKEND = f"{__name__}.RefusesBen"
    assert invitations_send_waiting() == 2
    assert not Invitation.objects.filter(link_unsent=True).exists()  # Ben's: resend by hand
    assert [m.to for m in mail.outbox if "ben.new" in m.to[0]] == []


def test_beat_sweeps_for_invitations_every_few_minutes(settings):
    from accounts.tasks import send_invitations

    entry = settings.CELERY_BEAT_SCHEDULE["invitation-emails"]
    assert entry["task"] == send_invitations.name == "accounts.send_invitations"
