"""Webhook tasks: one attempt at a delivery (putting the next one on the queue with its wait),
and the sweep that picks up deliveries whose message was lost."""

from celery import shared_task
from django.conf import settings
from django.db import OperationalError

from webhooks import services


@shared_task(
    bind=True,
    name="webhooks.deliver",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
    soft_time_limit=60,
    time_limit=90,
)
def deliver(self, delivery_id: int) -> str:
    status, wait = services.deliver(delivery_id)
    # A wait longer than the broker holds an unacknowledged message is left to the sweep:
    # queued with a countdown it would be handed out again every visibility timeout.
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout", 3600)
    if wait is not None and wait < visibility - 60:
        queue = (self.request.delivery_info or {}).get("routing_key")
        deliver.apply_async(
            args=[delivery_id], countdown=wait, **({"queue": queue} if queue else {})
        )
    return status


@shared_task(name="webhooks.sweep", ignore_result=True)
def sweep() -> int:
    ids = services.due()
    for pk in ids:
        deliver.delay(pk)
    return len(ids)
