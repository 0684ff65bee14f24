"""Deadline reminders go to preparers and approvers, a week and a day before, once each."""

import datetime as dt

import pytest
from django.core import mail

from plans.services.reminders import reminders_send
from plans.tasks import send_deadline_reminders

pytestmark = pytest.mark.django_db


def test_a_week_and_a_day_before_each_sent_once(world, plan_round):
    draft = plan_round.draft_deadline
    assert reminders_send(now=draft - dt.timedelta(days=8)) == 0
    week = reminders_send(now=draft - dt.timedelta(days=6, hours=23))
    assert week > 0
    recipients = {r for m in mail.outbox for r in m.to}
    assert {"member@example.nhs.uk", "approver@example.nhs.uk"} <= recipients
    assert "viewer@example.nhs.uk" not in recipients
    assert "draft deadline in a week" in mail.outbox[0].subject
    assert reminders_send(now=draft - dt.timedelta(days=5)) == 0  # already sent
    day = reminders_send(now=draft - dt.timedelta(hours=20))
    assert day == week
    assert "a day" in mail.outbox[-1].subject
    assert reminders_send(now=draft - dt.timedelta(hours=2)) == 0


def test_organisations_that_submitted_are_not_reminded(world, plan_round):
    from tests.isolation.plans import _plans_submitted

    plan_round.delete()
    _plans_submitted(world)
    from plans.models import PlanningRound

    draft = PlanningRound.objects.get().draft_deadline
    reminders_send(now=draft - dt.timedelta(days=6))
    assert "member@example.nhs.uk" not in {r for m in mail.outbox for r in m.to}


def test_the_task_twice_sends_nothing_more(world, plan_round, settings):
    from django.utils import timezone

    plan_round.draft_deadline = timezone.now() + dt.timedelta(hours=12)
    plan_round.save()
    first = send_deadline_reminders()
    second = send_deadline_reminders()
    assert first > 0 and second == 0
