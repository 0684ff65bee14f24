"""Deadline reminders: a week and a day before each deadline, to the preparers and approvers
of organisations that have not yet submitted. Each is sent once."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string

from accounts.models import Membership, Organisation, Role
from plans.models import PlanningRound, ReminderSent, Submission

REMINDER_DAYS = (7, 1)


def _due(deadline: dt.datetime, now: dt.datetime) -> int | None:
    """Which reminder is due now for this deadline: the nearest window we are inside."""
    if now >= deadline:
        return None
    for days in sorted(REMINDER_DAYS):
        if now >= deadline - dt.timedelta(days=days):
            return days
    return None


def _message(plan_round, organisation, deadline_name, deadline, days, recipients) -> tuple:
    context = {"round": plan_round, "organisation": organisation, "deadline": deadline,
               "deadline_name": deadline_name, "days": days}  # fmt: skip
    when = "a day" if days == 1 else "a week"
    subject = f"{plan_round.name}: {deadline_name} deadline in {when}"
    body = render_to_string("plans/email/reminder.txt", context)
    return (subject, body, settings.DEFAULT_FROM_EMAIL, recipients)


def reminders_send(*, now: dt.datetime) -> int:
    """Send whatever reminders are due; return how many e-mails went."""
    messages = []
    for plan_round in PlanningRound.objects.filter(final_deadline__gt=now):
        done = set(
            Submission.objects.filter(
                round=plan_round,
                status__in=[Submission.Status.SUBMITTED, Submission.Status.ACCEPTED],
            ).values_list("organisation_id", flat=True)
        )
        for deadline_name, deadline in (
            ("draft", plan_round.draft_deadline),
            ("final", plan_round.final_deadline),
        ):
            days = _due(deadline, now)
            if days is None:
                continue
            for organisation in Organisation.objects.exclude(pk__in=done).order_by("pk"):
                try:
                    with transaction.atomic():
                        ReminderSent.objects.create(
                            round=plan_round,
                            organisation=organisation,
                            deadline=deadline_name,
                            days_before=days,
                        )
                except IntegrityError:
                    continue  # already sent
                recipients = list(
                    Membership.objects.filter(
                        organisation=organisation,
                        role__in=[Role.ORG_PREPARER, Role.ORG_APPROVER],
                        user__is_active=True,
                    ).values_list("user__email", flat=True)
                )
                if not recipients:
                    continue
                messages.append(
                    _message(plan_round, organisation, deadline_name, deadline, days, recipients)
                )
    if messages:
        send_mass_mail(messages, fail_silently=False)
    return len(messages)
