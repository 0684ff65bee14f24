"""Accounts' background work: unused accounts expire."""

from celery import shared_task
from django.utils import timezone

from accounts.expiry import TRANSIENT, accounts_expire


@shared_task(name="accounts.expire_unused", acks_late=True, time_limit=1800, max_retries=3,
             autoretry_for=TRANSIENT, retry_backoff=True)  # fmt: skip
def expire_unused() -> dict[str, int]:
    """Daily: warn, then deactivate, accounts unused for ACCOUNT_EXPIRY_DAYS. Idempotent (each
    person is warned once a period and deactivated once)."""
    return accounts_expire(now=timezone.now())
