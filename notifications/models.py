"""A notification: something that started waiting on one person, kept for the in-app list and
carried by e-mail as they choose (at once, in a daily digest, or not at all)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class Kind(models.TextChoices):
    TRANSFER_TO_AGREE = "transfer_to_agree", "A transfer of control total to agree"
    AGREEMENT_TO_SIGN = "agreement_to_sign", "A risk-share agreement to sign"
    SETTLEMENT_TO_ANSWER = "settlement_to_answer", "A settlement to accept or dispute"
    DISPUTE_TO_DECIDE = "dispute_to_decide", "A disputed settlement for the region to decide"
    PLAN_SUBMITTED = "plan_submitted", "A plan submitted for the system lead's decision"
    PLAN_RETURNED = "plan_returned", "Your organisation's plan returned by the system lead"
    SYSTEM_PLAN_SENT = "system_plan_sent", "A system plan sent to the region"
    SYSTEM_PLAN_RETURNED = "system_plan_returned", "A system plan returned by the region"


class Frequency(models.TextChoices):
    IMMEDIATELY = "immediately", "E-mail me at once"
    DAILY = "daily", "E-mail me a daily digest"
    OFF = "off", "No e-mail (still listed in Openbook)"


class Notification(models.Model):
    class Email(models.TextChoices):
        PENDING = "pending", "To send at once"
        DIGEST = "digest", "For the daily digest"
        SENT = "sent", "Sent"
        NONE = "none", "Not e-mailed"

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=40, choices=Kind.choices)
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=500)
    # One notification per person per occasion (say, version 2 of a plan submitted), however
    # often the code that raises it runs.
    key = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    email = models.CharField(max_length=10, choices=Email.choices)
    # Set when the e-mail is claimed for sending, before it goes: a worker that restarts
    # mid-send does not send it again.
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "key"], name="notification_once"),
        ]
        indexes = [
            models.Index(
                fields=["recipient"], condition=Q(read_at__isnull=True), name="notification_unread"
            ),
            models.Index(
                fields=["email"],
                condition=Q(email__in=["pending", "digest"]),
                name="notification_to_email",
            ),  # fmt: skip
        ]

    def __str__(self) -> str:
        return self.title


class Preference(models.Model):
    """How one person wants one kind of notification e-mailed; no row means at once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=40, choices=Kind.choices)
    frequency = models.CharField(max_length=12, choices=Frequency.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="notification_preference_once")
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.frequency}"
