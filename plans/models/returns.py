"""Monthly returns: an organisation's actuals for a month, versioned like plans."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from accounts.models import Organisation
from plans.models.rounds import MONTH_LABELS, Line, PlanningRound


class MonthlyReturn(models.Model):
    """An organisation's finance return for one month of a round: actuals for the year to
    date (months up to and including `month`) and its forecast for the rest of the year, line
    by line. The forecast outturn is the year's total. Drafts are private to the organisation;
    each submission is a new, frozen version."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted"

    round = models.ForeignKey(PlanningRound, on_delete=models.PROTECT, related_name="returns")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="returns")
    month = models.PositiveSmallIntegerField(help_text="The last month of actuals; 1 is April.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    # Bumped on every save of the draft: a save or submit made against an older revision is
    # refused rather than overwriting what someone else saved.
    revision = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["round", "organisation__name", "month"]
        constraints = [
            models.UniqueConstraint(
                fields=["round", "organisation", "month"], name="monthly_return_unique"
            ),
            models.CheckConstraint(
                condition=Q(month__gte=1, month__lte=12), name="monthly_return_month_in_year"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation.name} – {self.round.name} – {self.month_label}"

    def get_absolute_url(self) -> str:
        return reverse(
            "return_detail", args=[self.round.slug, self.organisation.ods_code, self.month]
        )

    @property
    def month_label(self) -> str:
        return MONTH_LABELS[self.month - 1]


class ReturnVersion(models.Model):
    """A return's figures: number 0 is the working draft, 1, 2, … what was submitted."""

    monthly_return = models.ForeignKey(
        MonthlyReturn, on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["monthly_return", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["monthly_return", "number"], name="return_version_unique"
            )
        ]

    def __str__(self) -> str:
        return "Draft" if self.number == 0 else f"Version {self.number}"


class ReturnValue(models.Model):
    """One line's figure for one month: an actual up to the return's month, else forecast."""

    version = models.ForeignKey(ReturnVersion, on_delete=models.CASCADE, related_name="values")
    line = models.ForeignKey(Line, on_delete=models.PROTECT, related_name="+")
    month = models.PositiveSmallIntegerField()
    value = models.DecimalField(max_digits=18, decimal_places=3)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["version", "line", "month"], name="return_value_unique"
            ),
            models.CheckConstraint(
                condition=Q(month__gte=1, month__lte=12), name="return_value_month_in_year"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.line_id} M{self.month}: {self.value}"
