"""Templates (versioned: sections and lines) and planning rounds."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from openbook.months import MONTH_LABELS, MONTHS  # noqa: F401  (the models' names for them)


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
        TABLE = "table", "A list the organisation adds rows to"

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
    # A table's columns, monthly amount and the lines its rows add up to
    # (plans/template_definition.py, _table); empty for the other kinds.
    table = models.JSONField(default=dict, blank=True)

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

    class Role(models.TextChoices):
        """What the line means to the platform (plans/template_definition.py, ROLES)."""

        NONE = "", "None"
        SURPLUS = "surplus", "Surplus or deficit"
        PARTNER_INCOME = "partner_income", "Income from commissioners in the system"
        PARTNER_SPEND = "partner_spend", "Spending with providers in the system"
        MONTH_END = "month_end", "A position at the end of each month"

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
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.NONE, blank=True)
    # The commissioners' line (by provider) this provider line (by commissioner) is agreed
    # against in the agreement of balances: activity, planned on both sides.
    balances_with = models.CharField(max_length=20, blank=True, default="")
    # Pay (£000) and staff (WTE) lines of one staff group, checked together as pay per WTE.
    staff_group = models.CharField(max_length=80, blank=True, default="")
    # The table section (its code) whose rows add up to this line: not entered itself, but
    # kept as ordinary figures, written whenever the table changes.
    fed_by = models.CharField(max_length=40, blank=True, default="")
    # Figures the round's owner gives each organisation (last year's outturn, allocations):
    # shown, never typed by the organisation (plans.models.ProvidedFigure).
    provided = models.BooleanField(default=False)
    kinds = models.JSONField(help_text="Organisation kinds that complete this line.")
    counterparty = models.CharField(
        max_length=20, choices=Counterparty.choices, blank=True, default=""
    )
    # Which kinds of partner get a row (none: every partner of the counterparty's kind).
    counterparty_kinds = models.JSONField(default=list, blank=True)
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


class TemplateRevision(models.Model):
    """A live round moved to a new template version (plans/services/revision.py): from what,
    to what, why, by whom. Each draft's migration is kept with it (DraftMigration)."""

    round = models.ForeignKey(PlanningRound, on_delete=models.CASCADE, related_name="revisions")
    from_version = models.ForeignKey(TemplateVersion, on_delete=models.PROTECT, related_name="+")
    to_version = models.ForeignKey(TemplateVersion, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField()

    class Meta:
        ordering = ["round", "-at"]

    def __str__(self) -> str:
        return f"{self.round}: {self.from_version.label} → {self.to_version.label}"
