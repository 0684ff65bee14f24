"""Outgoing webhooks: an endpoint a system lead registered, each event delivered to it (with
every attempt), so the lead can see what was sent, when, and what came back.

A delivery's body is fixed when the event happens and sent byte for byte on every attempt;
its id (the `webhook-id` header and the body's `id`) stays the same across attempts, so a
receiver that is called twice can tell.
"""

from __future__ import annotations

import json
import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models


class Event(models.TextChoices):
    PLAN_SUBMITTED = "plan.submitted", "A plan is submitted"
    PLAN_ACCEPTED = "plan.accepted", "A plan is accepted by the system lead"
    PLAN_RETURNED = "plan.returned", "A plan is returned by the system lead"
    AGREEMENT_AGREED = "agreement.agreed", "A risk-share agreement is agreed by every partner"
    SETTLEMENT_AGREED = "settlement.agreed", "A settlement is agreed by every partner"
    SETTLEMENT_DECIDED = "settlement.decided", "A disputed settlement is decided by the region"
    TRANSFER_APPLIED = "transfer.applied", "A transfer of control total is agreed and applied"
    RESULTS_RECALCULATED = "results.recalculated", "The system's results are worked out again"
    PING = "webhook.ping", "A test event, sent when the lead asks"


SUBSCRIBABLE = [e for e in Event if e != Event.PING]


class Endpoint(models.Model):
    system = models.ForeignKey(
        "accounts.System", on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    events = ArrayField(models.CharField(max_length=40, choices=Event.choices))
    # Standard Webhooks form: "whsec_" and base64 of 32 random bytes. Kept as it is, because
    # every delivery is signed with it; only the system's lead (and the database) can read it.
    secret = models.CharField(max_length=100)
    # Off is a pause: events are still recorded, and sent once it is on again.
    is_active = models.BooleanField(default=True)
    revision = models.PositiveIntegerField(default=1)  # changes are made to the one read
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.url


class Delivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed: gave up after every retry"

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=40, choices=Event.choices)
    body = models.TextField()  # the JSON sent, exactly
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    budget = models.PositiveSmallIntegerField()  # attempts allowed in all: the retries, or +1
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["endpoint", "-created_at"]),
            models.Index(
                fields=["next_attempt_at"],
                name="webhooks_delivery_due",
                condition=models.Q(status="pending"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} {self.webhook_id}"

    @property
    def webhook_id(self) -> str:
        return f"msg_{self.uid.hex}"

    @property
    def last_try(self) -> Attempt | None:
        tries = list(self.tries.all())  # prefetched on the lists
        return tries[-1] if tries else None

    @property
    def pretty(self) -> str:
        """The body laid out for reading on the page (what was sent is `body`)."""
        return json.dumps(json.loads(self.body), indent=2, ensure_ascii=False)


class Attempt(models.Model):
    """One try at a delivery: what the receiver answered, or why nothing came back."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="tries")
    number = models.PositiveSmallIntegerField()
    at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    response = models.CharField(max_length=500, blank=True)  # the answer's start, for the lead
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="webhooks_attempt_once")
        ]

    def __str__(self) -> str:
        return f"attempt {self.number}: {self.status_code or self.error}"
