"""Accounts' background work: unused accounts expire; invitations made in bulk are e-mailed."""

from celery import shared_task
from django.utils import timezone

from accounts.expiry import TRANSIENT, accounts_expire
from accounts.invitations import SEND_TASK, invitations_send_waiting


@shared_task(name="accounts.expire_unused", acks_late=True, time_limit=1800, max_retries=3,
             autoretry_for=TRANSIENT, retry_backoff=True)  # fmt: skip
def expire_unused() -> dict[str, int]:
    """Daily: warn, then deactivate, accounts unused for ACCOUNT_EXPIRY_DAYS. Idempotent (each
    person is warned once a period and deactivated once)."""
    return accounts_expire(now=timezone.now())


@shared_task(name=SEND_TASK, acks_late=True, time_limit=900, max_retries=5,
             autoretry_for=TRANSIENT, retry_backoff=True)  # fmt: skip
def send_invitations() -> int:
    """The invitations of a people import (and any an earlier run missed), each claimed before
    it goes, so a retry or a second worker never sends one twice."""
    return invitations_send_waiting()
