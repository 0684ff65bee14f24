"""Unused accounts expire: a warning a week before, then deactivation, tokens revoked and
sessions ended; any use starts the period again."""

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.utils import timezone

from accounts.expiry import accounts_expire
from accounts.models import PersonalToken, User, UserSession
from accounts.services import token_create
from accounts.tasks import expire_unused
from openbook.models import AuditEvent

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


@pytest.fixture(autouse=True)
def _ninety_days(settings):
    settings.ACCOUNT_EXPIRY_DAYS = 90
    settings.ACCOUNT_EXPIRY_WARNING_DAYS = 7


@pytest.fixture
def t0(world):
    """When the world's people joined (none has signed in)."""
    return User.objects.get(email="member@example.nhs.uk").date_joined


def mail_to(email: str) -> list:
    return [m for m in mail.outbox if email in m.to]


def member(world) -> User:
    return User.objects.get(pk=world.people["member"].pk)


def test_a_warning_goes_a_week_before_and_only_once(world, t0):
    assert accounts_expire(now=t0 + 82 * DAY) == {"warned": 0, "expired": 0}
    assert mail.outbox == []
    done = accounts_expire(now=t0 + 83 * DAY + timedelta(hours=1))
    assert done == {"warned": 10, "expired": 0}  # everyone but the administrator
    [warning] = mail_to("member@example.nhs.uk")
    assert "sign in by" in warning.subject
    assert "has not been used since" in warning.body and "/login/" in warning.body
    assert not mail_to("admin@example.nhs.uk")
    assert accounts_expire(now=t0 + 85 * DAY) == {"warned": 0, "expired": 0}
    assert len(mail_to("member@example.nhs.uk")) == 1
    assert AuditEvent.objects.filter(action="account.expiry_warned").count() == 10
    assert member(world).is_active


def test_expiry_deactivates_revokes_tokens_ends_sessions_and_is_audited(world, t0, client):
    token_create(actor=world.people["member"], name="nightly upload", lifetime_days=365)
    PersonalToken.objects.update(last_used_at=t0)
    client.force_login(world.people["member"])
    # A browser left signed in all along (as with a session age set longer than the period),
    # though not seen since: it ends with the account.
    UserSession.objects.update(last_seen_at=t0)
    Session.objects.update(expire_date=t0 + 365 * DAY)
    accounts_expire(now=t0 + 84 * DAY)
    assert accounts_expire(now=t0 + 90 * DAY - timedelta(hours=1))["expired"] == 0
    done = accounts_expire(now=t0 + 91 * DAY)
    assert done == {"warned": 0, "expired": 10}
    person = member(world)
    assert not person.is_active
    assert not PersonalToken.objects.filter(user=person).exists()
    assert not UserSession.objects.filter(user=person).exists()
    response = client.get("/organisations/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    event = AuditEvent.objects.get(action="account.expired", object_id=str(person.pk))
    assert event.actor_label == "account expiry"
    assert event.payload["tokens_revoked"] == ["nightly upload"]
    assert event.payload["sessions_ended"] == 1 and event.payload["unused_days"] == 90
    assert User.objects.get(email="admin@example.nhs.uk").is_active  # administrators stay
    assert accounts_expire(now=t0 + 92 * DAY) == {"warned": 0, "expired": 0}


def test_a_sign_in_after_the_warning_starts_a_new_period(world, t0):
    accounts_expire(now=t0 + 84 * DAY)
    # Signing in sets last_login (Django's own receiver); the warning is now for a past period.
    User.objects.filter(pk=world.people["member"].pk).update(last_login=t0 + 86 * DAY)
    accounts_expire(now=t0 + 91 * DAY)
    assert member(world).is_active
    assert not User.objects.get(email="partner@example.nhs.uk").is_active
    mail.outbox.clear()
    assert accounts_expire(now=t0 + 86 * DAY + 82 * DAY)["warned"] == 0
    accounts_expire(now=t0 + 86 * DAY + 84 * DAY)
    assert len(mail_to("member@example.nhs.uk")) == 1  # warned again, for the new period
    accounts_expire(now=t0 + 86 * DAY + 91 * DAY)
    assert not member(world).is_active


def test_a_token_or_a_browser_in_use_counts_as_use(world, t0):
    token_create(actor=world.people["member"], name="script", lifetime_days=365)
    PersonalToken.objects.update(last_used_at=t0 + 50 * DAY)
    UserSession.objects.create(user=world.people["partner"], session_key="p" * 32,
                               last_seen_at=t0 + 60 * DAY)  # fmt: skip
    accounts_expire(now=t0 + 84 * DAY)
    assert not mail_to("member@example.nhs.uk") and not mail_to("partner@example.nhs.uk")
    assert mail_to("viewer@example.nhs.uk")


def test_someone_long_unused_is_warned_first_and_given_the_whole_week(world, t0):
    """As when expiry is first turned on: nobody is deactivated without a week's warning."""
    assert accounts_expire(now=t0 + 200 * DAY) == {"warned": 10, "expired": 0}
    assert accounts_expire(now=t0 + 206 * DAY)["expired"] == 0
    assert accounts_expire(now=t0 + 207 * DAY)["expired"] == 10


def test_zero_days_turns_it_off(world, t0, settings):
    settings.ACCOUNT_EXPIRY_DAYS = 0
    assert accounts_expire(now=t0 + 400 * DAY) == {"warned": 0, "expired": 0}
    assert mail.outbox == [] and member(world).is_active


def test_the_task_twice_does_nothing_more(world):
    User.objects.filter(pk=world.people["member"].pk).update(date_joined=timezone.now() - 100 * DAY)
    assert expire_unused() == {"warned": 1, "expired": 0}
    assert expire_unused() == {"warned": 0, "expired": 0}
    assert len(mail.outbox) == 1


def test_an_administrator_re_activating_starts_a_new_period(world, t0, client):
    accounts_expire(now=t0 + 84 * DAY)
    accounts_expire(now=t0 + 91 * DAY)
    partner = User.objects.get(email="partner@example.nhs.uk")
    assert not partner.is_active
    client.force_login(world.people["admin"])
    data = {
        "email": partner.email, "full_name": partner.full_name, "job_title": "",
        "is_active": "on", "last_login_0": "", "last_login_1": "",
        "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00",
        "memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0",
        "memberships-MIN_NUM_FORMS": "0", "memberships-MAX_NUM_FORMS": "1000",
    }  # fmt: skip
    response = client.post(f"/admin/accounts/user/{partner.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    partner.refresh_from_db()
    assert partner.is_active and partner.expiry_warned_at is None
    # The next run (whenever it is) does not deactivate them again straight away.
    now = partner.reactivated_at + 10 * DAY
    assert accounts_expire(now=now) == {"warned": 0, "expired": 0}


class FailsOnSecond(EmailBackend):
    """Sends the first message, then fails as a mail server going away would."""

    sent = 0

    def send_messages(self, messages):
        if FailsOnSecond.sent >= 1:
            raise ConnectionError("mail server went away")
        FailsOnSecond.sent += len(messages)
        return super().send_messages(messages)


def test_a_warning_the_mail_server_did_not_take_is_sent_again_and_nobody_expires_unwarned(
    world, t0, settings
):
    settings.EMAIL_BACKEND = f"{__name__}.FailsOnSecond"
    FailsOnSecond.sent = 0
    with pytest.raises(ConnectionError):
        accounts_expire(now=t0 + 84 * DAY)
    assert len(mail.outbox) == 1
    assert User.objects.filter(expiry_warned_at__isnull=False).count() == 1
    assert AuditEvent.objects.filter(action="account.expiry_warned").count() == 1
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert accounts_expire(now=t0 + 85 * DAY)["warned"] == 9
    # Those warned a day late still get their whole week.
    assert accounts_expire(now=t0 + 91 * DAY)["expired"] == 1
    assert accounts_expire(now=t0 + 92 * DAY)["expired"] == 9
    assert len({r for m in mail.outbox for r in m.to}) == 10


def test_beat_runs_the_task_each_night(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["account-expiry"]
    assert entry["task"] == expire_unused.name == "accounts.expire_unused"


class RefusesEveryone(EmailBackend):
    """A mail server that answers but takes nothing (a login refused, a relay denied)."""

    def send_messages(self, messages):
        import smtplib

        raise smtplib.SMTPSenderRefused(530, b"authentication required", "openbook")


def test_a_warning_that_did_not_go_is_not_recorded_so_nobody_expires_unwarned(world, t0, settings):
    """Before, any failure but the mail server going away still recorded the warning, and the
    whole batch was deactivated a week later without a word."""
    settings.EMAIL_BACKEND = f"{__name__}.RefusesEveryone"
    assert accounts_expire(now=t0 + 84 * DAY)["warned"] == 0
    assert not User.objects.filter(expiry_warned_at__isnull=False).exists()
    assert accounts_expire(now=t0 + 95 * DAY)["expired"] == 0
    assert User.objects.filter(is_active=False).count() == 0
