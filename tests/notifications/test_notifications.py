"""Each kind of notification reaches the people the item waits on, once; e-mails go once even
when sending fails half way; a daily digest gathers a day's items; the in-app list and the
header's unread count; each person's own e-mail choices."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend

from notifications.models import Kind, Notification, Preference
from notifications.services import digests_send, emails_send_pending, preferences_set
from notifications.tasks import send_digests, send_pending
from tests import isolation

pytestmark = pytest.mark.django_db


def told(kind: str) -> set[str]:
    return set(Notification.objects.filter(kind=kind).values_list("recipient__email", flat=True))


def who(world, *names) -> set[str]:
    return {world.people[n].email for n in names}


def test_a_plan_submitted_tells_the_lead_and_a_return_tells_the_organisation(world):
    from plans.models import Submission
    from plans.services import submission_return

    isolation._plans_submitted(world)
    assert told(Kind.PLAN_SUBMITTED) == who(world, "lead")
    submission_return(actor=world.people["lead"], submission=Submission.objects.get(),
                      reason="Income from the ICB is £2m apart")  # fmt: skip
    assert told(Kind.PLAN_RETURNED) == who(world, "member", "approver")
    returned = Notification.objects.get(kind=Kind.PLAN_RETURNED, recipient=world.people["member"])
    assert "£2m apart" in returned.body and returned.url == "/rounds/2026-27/ZA1/#comments"


def test_a_system_plan_sent_tells_the_region_and_a_return_tells_the_lead(world):
    from plans.models import PlanningRound
    from plans.services.system import system_plan_return

    isolation._system_submitted(world)
    assert told(Kind.SYSTEM_PLAN_SENT) == who(world, "reviewer")  # not the other region's
    system_plan_return(actor=world.people["reviewer"], plan_round=PlanningRound.objects.get(),
                       system=world.s1, reason="Beta's plan is missing")  # fmt: skip
    assert told(Kind.SYSTEM_PLAN_RETURNED) == who(world, "lead")


def test_a_transfer_tells_the_parties_still_to_agree(world):
    isolation._with_transfer(world)  # the lead proposed, and so agreed as the lead
    assert told(Kind.TRANSFER_TO_AGREE) == who(world, "approver")


def test_an_agreement_tells_the_partners_approvers_and_again_after_a_change(world):
    from payments.models import Agreement
    from payments.services.agreements import agreement_edit

    isolation._with_agreement(world)
    assert told(Kind.AGREEMENT_TO_SIGN) == who(world, "approver")
    agreement = Agreement.objects.get()
    agreement_edit(actor=world.people["lead"], agreement=agreement, name=agreement.name,
                   partners=["ZA1", "ZA2"], mechanisms=[isolation.POOL],
                   expected_version=1)  # fmt: skip
    titles = list(
        Notification.objects.filter(kind=Kind.AGREEMENT_TO_SIGN).values_list("title", flat=True)
    )
    assert sorted(titles) == [
        "Urgent care pool: version 1 to sign",
        "Urgent care pool: version 2 to sign again: its terms have changed",
    ]


def test_a_settlement_tells_the_partners_and_a_dispute_tells_the_region(world):
    from payments.models import Settlement
    from payments.services import settlements

    isolation._with_settlement(world)
    assert told(Kind.SETTLEMENT_TO_ANSWER) == who(world, "approver") | {
        "beta.approver@example.nhs.uk"
    }
    settlements.settlement_respond(actor=world.people["approver"],
                                   settlement=Settlement.objects.get(), organisation=world.org_a,
                                   accepted=False, reason="Last year's invoices")  # fmt: skip
    assert told(Kind.DISPUTE_TO_DECIDE) == who(world, "reviewer")
    assert "Last year's invoices" in Notification.objects.get(kind=Kind.DISPUTE_TO_DECIDE).body


def test_each_e_mail_goes_once_however_often_the_task_runs(world):
    isolation._plans_submitted(world)
    assert send_pending() == 1
    assert send_pending() == 0
    assert [m.to for m in mail.outbox] == [[world.people["lead"].email]]
    assert mail.outbox[0].subject == (
        "Openbook: Alpha Hospitals NHS Trust: plan version 1 waiting for your decision"
    )
    assert "http://127.0.0.1:8000/rounds/2026-27/ZA1/" in mail.outbox[0].body


class FailsOnSecond(EmailBackend):
    """Sends the first message, then fails as a mail server going away would."""

    sent = 0

    def send_messages(self, messages):
        if FailsOnSecond.sent >= 1:
            raise ConnectionError("mail server went away")
        FailsOnSecond.sent += len(messages)
        return super().send_messages(messages)


def test_a_send_that_fails_half_way_sends_the_rest_later_and_nothing_twice(world, settings):
    from plans.models import Submission
    from plans.services import submission_return

    isolation._plans_submitted(world)
    submission_return(actor=world.people["lead"], submission=Submission.objects.get(),
                      reason="Check pay")  # fmt: skip
    assert Notification.objects.filter(email="pending").count() == 3  # lead, member, approver
    settings.EMAIL_BACKEND = f"{__name__}.FailsOnSecond"
    FailsOnSecond.sent = 0
    with pytest.raises(ConnectionError):
        emails_send_pending()
    assert len(mail.outbox) == 1
    assert Notification.objects.filter(email="pending").count() == 2
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert emails_send_pending() == 2
    assert emails_send_pending() == 0
    recipients = sorted(r for m in mail.outbox for r in m.to)
    assert recipients == sorted(who(world, "lead", "member", "approver"))


def test_a_daily_digest_gathers_the_days_items_in_one_e_mail(world):
    from plans.models import Submission
    from plans.services import submission_return

    lead = world.people["lead"]
    preferences_set(actor=lead, choices={Kind.PLAN_SUBMITTED: "daily",
                                         Kind.SYSTEM_PLAN_RETURNED: "daily"})  # fmt: skip
    isolation._system_submitted(world)  # Alpha's plan submitted: one item for the lead
    from plans.models import PlanningRound
    from plans.services.system import system_plan_return

    system_plan_return(actor=world.people["reviewer"], plan_round=PlanningRound.objects.get(),
                       system=world.s1, reason="Resubmit with Beta")  # fmt: skip
    submission_return(actor=lead, submission=Submission.objects.get(), reason="Fix")
    send_pending()
    assert lead.email not in {r for m in mail.outbox for r in m.to}  # nothing at once
    mail.outbox.clear()
    assert send_digests() == 1
    assert send_digests() == 0
    (digest,) = mail.outbox
    assert digest.to == [lead.email]
    assert digest.subject == "Openbook: 2 things waiting for you"
    assert "plan version 1 waiting for your decision" in digest.body
    assert "system plan returned by the region" in digest.body
    assert digests_send() == 0


def test_off_means_no_e_mail_but_still_listed(world, client_for):
    lead = world.people["lead"]
    preferences_set(actor=lead, choices={Kind.PLAN_SUBMITTED: "off"})
    isolation._plans_submitted(world)
    assert send_pending() == 0
    page = client_for(lead).get("/notifications/").content.decode()
    assert "plan version 1 waiting for your decision" in page


def test_the_list_the_unread_count_and_opening_one(world, client_for):
    isolation._plans_submitted(world)
    lead = client_for(world.people["lead"])
    home = lead.get("/").content.decode()
    assert (
        'id="header-notifications"' in home
        and '1<span class="nhsuk-u-visually-hidden"> unread' in home
    )
    notification = Notification.objects.get()
    opened = lead.get(f"/notifications/{notification.pk}/")
    assert opened.status_code == 302 and opened["Location"] == "/rounds/2026-27/ZA1/"
    notification.refresh_from_db()
    assert notification.read_at is not None
    assert " unread" not in lead.get("/").content.decode()
    # Nobody else can open it, or see it.
    other = client_for(world.people["member"])
    assert other.get(f"/notifications/{notification.pk}/").status_code == 404
    assert "waiting for your decision" not in other.get("/notifications/").content.decode()


def test_mark_all_read(world, client_for):
    isolation._with_settlement(world)  # several for Alpha's approver
    approver = client_for(world.people["approver"])
    assert Notification.objects.filter(recipient=world.people["approver"], read_at=None).exists()
    assert approver.post("/notifications/read/").status_code == 302
    assert not Notification.objects.filter(
        recipient=world.people["approver"], read_at=None
    ).exists()


def test_choosing_e_mails_on_the_settings_page(world, client_for):
    member = client_for(world.people["member"])
    page = member.get("/notifications/settings/").content.decode()
    assert "A plan submitted for the system lead" in page
    choices = {k: "immediately" for k in Kind.values} | {Kind.PLAN_RETURNED: "daily"}
    assert member.post("/notifications/settings/", choices).status_code == 302
    assert list(Preference.objects.values_list("kind", "frequency")) == [("plan_returned", "daily")]
    refused = member.post("/notifications/settings/", choices | {Kind.PLAN_RETURNED: "hourly"})
    assert refused.status_code == 422 and b"nhsuk-error-summary" in refused.content


class RefusesMember(EmailBackend):
    """A mail server that refuses one address outright, as a mistyped one would be."""

    def send_messages(self, messages):
        import smtplib

        for message in messages:
            if "member@example.nhs.uk" in message.to:
                raise smtplib.SMTPRecipientsRefused({"member@example.nhs.uk": (550, b"No")})
        return super().send_messages(messages)


def test_an_address_refused_outright_does_not_hold_up_the_others(world, settings):
    from plans.models import Submission
    from plans.services import submission_return

    isolation._plans_submitted(world)
    submission_return(actor=world.people["lead"], submission=Submission.objects.get(),
                      reason="Check pay")  # fmt: skip
    settings.EMAIL_BACKEND = f"{__name__}.RefusesMember"
    assert emails_send_pending() == 2  # the lead and the approver; not the member
    assert sorted(r for m in mail.outbox for r in m.to) == sorted(who(world, "lead", "approver"))
    refused = Notification.objects.get(recipient=world.people["member"])
    assert refused.email == "none"  # given up on, still listed in the app
    assert emails_send_pending() == 0


def test_nobody_is_e_mailed_after_losing_their_account(world):
    isolation._plans_submitted(world)
    lead = world.people["lead"]
    lead.is_active = False
    lead.save()
    assert emails_send_pending() == 0
    assert mail.outbox == []
