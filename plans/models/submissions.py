"""An organisation's plan for a round: its versions and figures, the working draft's edits,
narratives, comments and reminders."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.urls import reverse

from accounts.models import Organisation
from plans.models.rounds import Line, PlanningRound, Section, TemplateRevision


class Submission(models.Model):
    """One organisation's plan for one round, and where it stands in the workflow."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted"
        ACCEPTED = "accepted", "Accepted"
        RETURNED = "returned", "Returned"

    round = models.ForeignKey(PlanningRound, on_delete=models.PROTECT, related_name="submissions")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="submissions"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["round", "organisation__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["round", "organisation"], name="submission_one_per_round_and_organisation"
            )
        ]

    def __str__(self) -> str:
        return f"{self.organisation.name} – {self.round.name}"

    def get_absolute_url(self) -> str:
        return reverse("plan_detail", args=[self.round.slug, self.organisation.ods_code])

    @property
    def is_editable(self) -> bool:
        return self.status in (self.Status.DRAFT, self.Status.RETURNED)


class Version(models.Model):
    """A set of figures for a submission: the working draft (number 0) or a frozen submission."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="versions")
    # 0 is the working draft; 1, 2, … are the submitted versions, never changed once made.
    number = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    # Bumped on every change to the draft; clients send it back to detect concurrent edits.
    revision = models.PositiveIntegerField(default=0)
    board_approval_date = models.DateField(null=True, blank=True)
    late = models.BooleanField(default=False)
    late_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["submission", "number"]
        constraints = [
            models.UniqueConstraint(fields=["submission", "number"], name="version_number_unique"),
            models.CheckConstraint(
                condition=Q(number=0) | Q(board_approval_date__isnull=False),
                name="submitted_version_has_board_approval_date",
            ),
        ]

    def __str__(self) -> str:
        return "Working draft" if self.is_draft else f"Version {self.number}"

    @property
    def is_draft(self) -> bool:
        return self.number == 0


class Value(models.Model):
    """One figure: a line (and counterparty) in one month of one version."""

    version = models.ForeignKey(Version, on_delete=models.CASCADE, related_name="values")
    line = models.ForeignKey(Line, on_delete=models.PROTECT, related_name="+")
    counterparty = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    month = models.PositiveSmallIntegerField()
    value = models.DecimalField(max_digits=18, decimal_places=3)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["version", "line", "counterparty", "month"],
                name="value_unique_cell",
                nulls_distinct=False,
            ),
            models.CheckConstraint(
                condition=Q(month__gte=1, month__lte=12), name="value_month_1_12"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.line_id}/{self.counterparty_id or '-'}/M{self.month} = {self.value}"


class DraftEdit(models.Model):
    """One change to a working draft: the revision it made, who made it, when and how. With its
    cell changes it is the draft's history (who last changed a figure, and what it was), and it
    points at the audit event that records the same change in the organisation's chain."""

    class Source(models.TextChoices):
        GRID = "grid", "typed in the grid"
        PASTE = "paste", "pasted into the grid"
        FILL = "fill", "filled across the year"
        SPREAD = "spread", "spread from a year total"
        UNDO = "undo", "undone"
        XLSX = "xlsx", "uploaded in a workbook"
        CSV = "csv", "uploaded in a CSV file"
        API = "api", "sent through the API"
        NARRATIVE = "narrative", "narrative edited"
        PROVIDED = "provided", "provided by the round's owner"
        REVISION = "revision", "moved to a new template version"
        SEED = "seed", "loaded as demo or sample data"

    version = models.ForeignKey(Version, on_delete=models.CASCADE, related_name="edits")
    revision = models.PositiveIntegerField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField()
    source = models.CharField(max_length=10, choices=Source.choices)
    # No database constraint: the audit table is append-only and guards itself, and a foreign
    # key into it would change how the database answers an attempt to truncate it.
    audit_event = models.ForeignKey(
        "openbook.AuditEvent",
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )

    class Meta:
        ordering = ["version", "revision"]
        constraints = [
            models.UniqueConstraint(fields=["version", "revision"], name="draft_edit_revision")
        ]

    def __str__(self) -> str:
        return f"Revision {self.revision} of {self.version_id}"


class CellChange(models.Model):
    """One figure changed by a draft edit: from what, to what (None: blank)."""

    edit = models.ForeignKey(DraftEdit, on_delete=models.CASCADE, related_name="cells")
    # The draft, again, so a cell's history is one index scan.
    version = models.ForeignKey(Version, on_delete=models.CASCADE, related_name="+")
    line = models.ForeignKey(Line, on_delete=models.PROTECT, related_name="+")
    counterparty = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    month = models.PositiveSmallIntegerField()
    before = models.DecimalField(max_digits=18, decimal_places=3, null=True)
    after = models.DecimalField(max_digits=18, decimal_places=3, null=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["version", "line", "counterparty", "month", "-edit"],
                name="cell_change_history",
            )
        ]

    def __str__(self) -> str:
        cell = f"{self.line_id}/{self.counterparty_id or '-'}/M{self.month}"
        return f"{cell}: {self.before} → {self.after}"


class YearTotals(models.Model):
    """A submitted version's year for each line: its twelve months added up, as parallel
    arrays: each line whole (counterparty rows added together), and apart from that each line
    planned by counterparty, per counterparty.

    Written once, set-based, when the version is submitted (a submitted version never
    changes), so collating a system reads one row per partner instead of adding up its months
    again on every view."""

    version = models.OneToOneField(
        Version, primary_key=True, on_delete=models.CASCADE, related_name="year_totals"
    )
    lines = ArrayField(models.BigIntegerField(), default=list)  # line ids
    totals = ArrayField(models.DecimalField(max_digits=20, decimal_places=3), default=list)
    split_lines = ArrayField(models.BigIntegerField(), default=list)
    split_counterparties = ArrayField(models.BigIntegerField(), default=list)  # organisation ids
    split_totals = ArrayField(models.DecimalField(max_digits=20, decimal_places=3), default=list)

    def __str__(self) -> str:
        return f"Year totals of {self.version_id}"


class Narrative(models.Model):
    """The text of a narrative section in one version."""

    version = models.ForeignKey(Version, on_delete=models.CASCADE, related_name="narratives")
    section = models.ForeignKey(Section, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["version", "section"], name="narrative_unique")
        ]

    def __str__(self) -> str:
        return self.text[:40]


class DraftMigration(models.Model):
    """What a template revision did to one working draft: figures carried over, lines dropped
    (with what they held), required lines that are new, and figures that no longer pass the
    new lines' checks. Shown to the organisation on its plan page."""

    revision = models.ForeignKey(
        TemplateRevision, on_delete=models.CASCADE, related_name="migrations"
    )
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="+")
    carried = models.PositiveIntegerField()
    dropped = models.JSONField(default=list)  # [{line, label, total}]
    new_required = models.JSONField(default=list)  # [{line, label, section}]
    problems = models.JSONField(default=list)  # [{cell, value, problem}]

    class Meta:
        ordering = ["revision", "submission"]

    def __str__(self) -> str:
        return f"{self.submission}: {self.revision}"


class ProvidedFigure(models.Model):
    """A figure the round's owner gives an organisation on a provided line (last year's
    outturn, an allocation): copied into its working draft, where it cannot be changed."""

    round = models.ForeignKey(PlanningRound, on_delete=models.CASCADE, related_name="+")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    line = models.ForeignKey(Line, on_delete=models.PROTECT, related_name="+")
    month = models.PositiveSmallIntegerField()
    value = models.DecimalField(max_digits=18, decimal_places=3)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["round", "organisation", "line", "month"], name="provided_figure_unique"
            ),
            models.CheckConstraint(
                condition=Q(month__gte=1, month__lte=12), name="provided_month_1_12"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.line_id}/M{self.month} = {self.value}"


class TableRow(models.Model):
    """A row an organisation added to a table section in one version (an efficiency scheme, a
    capital scheme): what its columns say and its amount (£000) in each month."""

    version = models.ForeignKey(Version, on_delete=models.CASCADE, related_name="table_rows")
    section = models.ForeignKey(Section, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveIntegerField()
    fields = models.JSONField(default=dict)  # column code → what the row says
    amounts = ArrayField(models.DecimalField(max_digits=18, decimal_places=3), size=12)

    class Meta:
        ordering = ["version", "section", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "section", "position"], name="table_row_position_unique"
            )
        ]

    def __str__(self) -> str:
        return str(self.fields.get("name", f"Row {self.position}"))


class Comment(models.Model):
    """A threaded comment on a submission or one of its lines; return reasons are comments too."""

    class Kind(models.TextChoices):
        COMMENT = "comment", "Comment"
        RETURN_REASON = "return_reason", "Reason for return"
        LATE_REASON = "late_reason", "Reason for late submission"
        ACCEPT_NOTE = "accept_note", "Note on acceptance"

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="comments")
    line = models.ForeignKey(
        Line, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.COMMENT)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.author}: {self.body[:40]}"


class ReminderSent(models.Model):
    """A deadline reminder already sent, so each is sent once."""

    round = models.ForeignKey(PlanningRound, on_delete=models.CASCADE, related_name="+")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    deadline = models.CharField(max_length=10)  # "draft" or "final"
    days_before = models.PositiveSmallIntegerField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["round", "organisation", "deadline", "days_before"],
                name="reminder_sent_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.deadline} deadline, {self.days_before} days before"
