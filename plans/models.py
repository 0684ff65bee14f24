"""Planning rounds, templates (versioned, defined as data), submissions and their versions.

A submission is one organisation's plan for one round. Its working draft is the one editable
version; every submission freezes a copy of the draft as a new, numbered, immutable version.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import Organisation

MONTHS = tuple(range(1, 13))
MONTH_LABELS = ("Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec", "Jan", "Feb", "Mar")


class Template(models.Model):
    """A planning template (e.g. "Operational plan"), of which there are numbered versions."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=120)

    def __str__(self) -> str:
        return self.name


class TemplateVersion(models.Model):
    """One frozen version of a template: its sections and lines. A round pins one."""

    template = models.ForeignKey(Template, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    # The definition as loaded, kept whole so a version can always be shown as it was.
    definition = models.JSONField()
    checksum = models.CharField(max_length=64)
    loaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["template", "number"]
        constraints = [
            models.UniqueConstraint(fields=["template", "number"], name="template_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.template.name} v{self.number}"

    @property
    def label(self) -> str:
        return f"{self.template.code} v{self.number}"


class Section(models.Model):
    """A part of a template: a grid of lines by month, or a narrative text."""

    class Kind(models.TextChoices):
        GRID = "grid", "Figures by month"
        NARRATIVE = "narrative", "Narrative"

    template_version = models.ForeignKey(
        TemplateVersion, on_delete=models.CASCADE, related_name="sections"
    )
    code = models.SlugField(max_length=40)
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.GRID)
    guidance = models.TextField(blank=True)
    position = models.PositiveIntegerField()
    # Narrative sections: which organisation kinds complete them.
    kinds = models.JSONField(default=list)
    required = models.BooleanField(default=False)

    class Meta:
        ordering = ["template_version", "position"]
        constraints = [
            models.UniqueConstraint(fields=["template_version", "code"], name="section_code_unique")
        ]

    def __str__(self) -> str:
        return self.name


class Line(models.Model):
    """A row of a grid section: what is planned, in which unit, by whom, within which bounds."""

    class Unit(models.TextChoices):
        GBP000 = "gbp000", "£000"
        WTE = "wte", "WTE"
        COUNT = "count", "Count"
        PERCENT = "percent", "%"

    class Sign(models.TextChoices):
        POSITIVE = "positive", "Zero or more"
        NEGATIVE = "negative", "Zero or less"
        ANY = "any", "Any sign"

    class Counterparty(models.TextChoices):
        NONE = "", "None"
        COMMISSIONER = "commissioner", "Each commissioner in the system"
        PROVIDER = "provider", "Each provider in the system"

    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="lines")
    code = models.CharField(max_length=20)
    label = models.CharField(max_length=200)
    # What belongs in the line, shown beside the grid. Guidance, not structure: improving its
    # wording does not need a new template version.
    help = models.TextField(blank=True)
    unit = models.CharField(max_length=10, choices=Unit.choices)
    sign = models.CharField(max_length=10, choices=Sign.choices, default=Sign.POSITIVE)
    kinds = models.JSONField(help_text="Organisation kinds that complete this line.")
    counterparty = models.CharField(
        max_length=20, choices=Counterparty.choices, blank=True, default=""
    )
    # Derived lines: [[coefficient, line code], ...]; the value is the signed sum.
    formula = models.JSONField(null=True, blank=True)
    minimum = models.DecimalField(max_digits=18, decimal_places=3, null=True, blank=True)
    maximum = models.DecimalField(max_digits=18, decimal_places=3, null=True, blank=True)
    required = models.BooleanField(default=False)
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["section", "position"]
        constraints = [
            models.UniqueConstraint(fields=["section", "code"], name="line_code_unique_in_section"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.label}"

    @property
    def is_derived(self) -> bool:
        return self.formula is not None


class PlanningRound(models.Model):
    """A national planning exercise: a financial year, deadlines and the template version."""

    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=40, unique=True)
    financial_year = models.PositiveIntegerField(
        help_text="The calendar year the financial year starts in (2026 means 2026/27)."
    )
    template_version = models.ForeignKey(
        TemplateVersion, on_delete=models.PROTECT, related_name="rounds"
    )
    draft_deadline = models.DateTimeField()
    final_deadline = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    # Agreement of balances: provider income against commissioner expenditure (and activity)
    # per pair; differences above these are flagged. Defaults from the national exercise.
    balance_threshold = models.DecimalField(
        "I&E mismatch threshold (£000)", max_digits=12, decimal_places=3, default=Decimal("3000")
    )
    activity_threshold_percent = models.DecimalField(
        "Activity mismatch threshold (%)", max_digits=5, decimal_places=2, default=Decimal("5")
    )
    pay_per_wte_min = models.DecimalField(
        "Lowest plausible pay per WTE (£000 a year)",
        max_digits=8,
        decimal_places=3,
        default=Decimal("20"),
    )
    pay_per_wte_max = models.DecimalField(
        "Highest plausible pay per WTE (£000 a year)",
        max_digits=8,
        decimal_places=3,
        default=Decimal("150"),
    )

    class Meta:
        ordering = ["-financial_year", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(draft_deadline__lte=models.F("final_deadline")),
                name="round_draft_deadline_before_final",
            ),
            models.CheckConstraint(
                condition=Q(financial_year__gte=2000, financial_year__lte=2100),
                name="round_financial_year_plausible",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def year_label(self) -> str:
        return f"{self.financial_year}/{(self.financial_year + 1) % 100:02d}"


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
