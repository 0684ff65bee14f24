"""E-mailing notifications: at once after each change (and a sweep for any the broker missed),
and the daily digest."""

from celery import shared_task

from notifications.services import SEND_TASK, TRANSIENT, digests_send, emails_send_pending


@shared_task(name=SEND_TASK, acks_late=True, time_limit=600, max_retries=3,
             autoretry_for=TRANSIENT, retry_backoff=True)  # fmt: skip
def send_pending() -> int:
    """Whatever waits to be e-mailed at once; each is claimed before it goes, so a retry or a
    second worker never sends one twice."""
    return emails_send_pending()


@shared_task(name="notifications.send_digests", acks_late=True, time_limit=1800, max_retries=3,
             autoretry_for=TRANSIENT, retry_backoff=True)  # fmt: skip
def send_digests() -> int:
    """Daily: one e-mail per person gathering what waited for the digest."""
    return digests_send()
