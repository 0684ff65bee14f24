"""Planning tasks."""

from celery import shared_task
from django.utils import timezone

from plans.services.reminders import reminders_send


@shared_task(name="plans.send_deadline_reminders", acks_late=True, time_limit=600, max_retries=3,
             autoretry_for=(ConnectionError,), retry_backoff=True)  # fmt: skip
def send_deadline_reminders() -> int:
    """Daily: reminders a week and a day before each deadline. Idempotent (each sent once)."""
    return reminders_send(now=timezone.now())
