"""A large uploaded file, waiting for the worker to check and store it."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.models import Organisation
from plans.models.rounds import PlanningRound


class Upload(models.Model):
    """A plan or return file too large to check in the web process. The worker reads it,
    checks it and stores it all or nothing, exactly as a small file is; meanwhile its page
    shows how far it has got, then the result. The file itself is kept only until then."""

    class Target(models.TextChoices):
        PLAN = "plan", "Plan"
        RETURN = "return", "Monthly return"

    class State(models.TextChoices):
        WAITING = "waiting", "Waiting for the worker"
        CHECKING = "checking", "Being checked"
        STORED = "stored", "Stored"
        REFUSED = "refused", "Not stored"
        FAILED = "failed", "Not checked"

    FINISHED = (State.STORED, State.REFUSED, State.FAILED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    target = models.CharField(max_length=10, choices=Target.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    round = models.ForeignKey(PlanningRound, on_delete=models.CASCADE, related_name="+")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    month = models.PositiveSmallIntegerField(null=True, blank=True)  # a return's
    name = models.CharField(max_length=255)
    size = models.PositiveIntegerField()
    data = models.BinaryField(default=b"")  # emptied once the file is dealt with
    replace = models.BooleanField(default=False)  # the uploader said to replace newer changes
    state = models.CharField(max_length=10, choices=State.choices, default=State.WAITING)
    stage = models.CharField(max_length=200, blank=True)  # what the worker is doing
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)
    problems = models.JSONField(default=list, blank=True)  # as shown (openbook.errors.shown)
    problem_count = models.PositiveIntegerField(default=0)
    offer_replace = models.BooleanField(default=False)
    attempts = models.PositiveSmallIntegerField(default=0)  # times the worker took it
    told = models.BooleanField(default=False)  # the uploader has seen it was stored
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["actor", "-created_at"], name="upload_actor_recent")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(target="plan", month__isnull=True)
                | models.Q(target="return", month__gte=1, month__lte=12),
                name="upload_month_for_returns",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_state_display()})"

    @property
    def finished(self) -> bool:
        return self.state in self.FINISHED

    @property
    def interrupted(self) -> bool:
        """Not finished long after any check could take: the worker was lost with it, and
        nothing was stored (storing is one transaction with the result)."""
        limit = timedelta(seconds=settings.UPLOAD_ABANDON_AFTER_SECONDS)
        return not self.finished and timezone.now() - self.created_at > limit

    @property
    def percent(self) -> int:
        return int(100 * self.done / self.total) if self.total else 0

    @property
    def progress_key(self) -> str:
        """What the progress shown depends on: unchanged, the page is not redrawn."""
        return f"{self.state}.{self.done}.{self.total}.{self.stage}"
