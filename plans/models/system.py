"""The system plan: the ICS's collated submission to its region, its versions and comments, and
which plan version each person last opened."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from plans.models.rounds import PlanningRound
from plans.models.submissions import Submission


class SystemSubmission(models.Model):
    """A system's collated plan for a round, as submitted by its lead to the region."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", "Submitted to the region"
        APPROVED = "approved", "Approved by the region"
        RETURNED = "returned", "Returned by the region"

    round = models.ForeignKey(
        PlanningRound, on_delete=models.PROTECT, related_name="system_submissions"
    )
    system = models.ForeignKey(
        "accounts.System", on_delete=models.PROTECT, related_name="system_submissions"
    )
    status = models.CharField(max_length=10, choices=Status.choices)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["round", "system"], name="system_submission_unique")
        ]

    def __str__(self) -> str:
        return f"{self.system} – {self.round}"

    def get_absolute_url(self) -> str:
        return reverse("system_plan", args=[self.round.slug, self.system.code]) + "#region"


class SystemVersion(models.Model):
    """An immutable snapshot of the collated system plan, with the lead's narrative."""

    submission = models.ForeignKey(
        SystemSubmission, on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveIntegerField()
    narrative = models.TextField()
    # The collated figures as submitted (money as strings), so the region reviews exactly
    # what was sent even if organisations' plans move afterwards.
    snapshot = models.JSONField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["submission", "number"]
        constraints = [
            models.UniqueConstraint(fields=["submission", "number"], name="system_version_unique")
        ]

    def __str__(self) -> str:
        return f"System plan version {self.number}"


class SystemComment(models.Model):
    """A comment between the region and the system on the system plan; return reasons too."""

    class Kind(models.TextChoices):
        COMMENT = "comment", "Comment"
        RETURN_REASON = "return_reason", "Reason for return"
        APPROVAL = "approval", "Approval note"

    submission = models.ForeignKey(
        SystemSubmission, on_delete=models.CASCADE, related_name="comments"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.COMMENT)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.body[:40]

    def get_absolute_url(self) -> str:
        return self.submission.get_absolute_url()


class VersionSeen(models.Model):
    """The newest version of a plan, or of a system plan, a decision maker has looked at: what
    changed since is what they are shown next time."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    submission = models.ForeignKey(
        Submission, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    system_submission = models.ForeignKey(
        SystemSubmission, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    number = models.PositiveIntegerField()
    seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "submission"],
                condition=Q(submission__isnull=False),
                name="version_seen_once_per_plan",
            ),
            models.UniqueConstraint(
                fields=["user", "system_submission"],
                condition=Q(system_submission__isnull=False),
                name="version_seen_once_per_system_plan",
            ),
            models.CheckConstraint(
                condition=Q(submission__isnull=True) ^ Q(system_submission__isnull=True),
                name="version_seen_of_one_plan",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} saw version {self.number}"
