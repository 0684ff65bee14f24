"""Control totals and the net-neutral transfers partners agree between them."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from accounts.models import Organisation, System
from payments.calculations.version import current
from plans.models import PlanningRound


class ControlTotal(models.Model):
    """The surplus (+) or deficit (−) an organisation has agreed for a round, £000.

    No row, or a null amount, means the organisation has no control total (from 2020/21
    organisations in surplus had none).
    """

    round = models.ForeignKey(
        PlanningRound, on_delete=models.PROTECT, related_name="control_totals"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="control_totals"
    )
    amount = models.DecimalField(max_digits=14, decimal_places=3, null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["round", "organisation"], name="control_total_unique")
        ]

    def __str__(self) -> str:
        return f"{self.organisation.ods_code}: {self.amount}"

    def get_absolute_url(self) -> str:
        return reverse("control_totals", args=[self.round.slug, self.organisation.system.code])


class Transfer(models.Model):
    """A proposal to move control total between partners; it takes effect only when every
    organisation involved (its approver) and the system lead have agreed."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        AGREED = "agreed", "Agreed and applied"
        REFUSED = "refused", "Refused"
        WITHDRAWN = "withdrawn", "Withdrawn"

    round = models.ForeignKey(PlanningRound, on_delete=models.PROTECT, related_name="transfers")
    system = models.ForeignKey(System, on_delete=models.PROTECT, related_name="transfers")
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PROPOSED)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Transfer {self.pk} ({self.get_status_display()})"

    def get_absolute_url(self) -> str:
        return reverse("control_totals", args=[self.round.slug, self.system.code])


class TransferLine(models.Model):
    """How much one organisation's control total moves (negative: it takes on deficit)."""

    transfer = models.ForeignKey(Transfer, on_delete=models.CASCADE, related_name="lines")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(max_digits=14, decimal_places=3)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["transfer", "organisation"], name="transfer_line_unique"
            ),
            models.CheckConstraint(condition=~Q(amount=0), name="transfer_line_not_zero"),
        ]

    def __str__(self) -> str:
        return f"{self.organisation.ods_code} {self.amount:+}"


class TransferDecision(models.Model):
    """One party's agreement or refusal: an involved organisation (by its approver) or the
    system lead (organisation left empty)."""

    transfer = models.ForeignKey(Transfer, on_delete=models.CASCADE, related_name="decisions")
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    agreed = models.BooleanField()
    reason = models.TextField(blank=True)
    decided_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["decided_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["transfer", "organisation"],
                name="one_decision_per_party",
                nulls_distinct=False,
            )
        ]

    def __str__(self) -> str:
        party = self.organisation.ods_code if self.organisation else "system lead"
        return f"{party}: {'agreed' if self.agreed else 'refused'}"


class RecalculationRun(models.Model):
    """One run of the system recalculation: why, how it went, how long, on which inputs."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        CHANGED = "changed", "Results updated"
        UNCHANGED = "unchanged", "Inputs unchanged"
        FAILED = "failed", "Failed"
        ABANDONED = "abandoned", "Abandoned: its worker stopped, and the run was taken again"

    round = models.ForeignKey(PlanningRound, on_delete=models.CASCADE, related_name="+")
    system = models.ForeignKey(System, on_delete=models.CASCADE, related_name="recalculation_runs")
    trigger = models.CharField(max_length=80)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    # Why the results were worked out again: "first run", "inputs changed", "calculation
    # version 1 → 2", "forced" (blank when nothing changed).
    reason = models.CharField(max_length=80, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    inputs_hash = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["round", "system", "-started_at"])]

    def __str__(self) -> str:
        return f"{self.system} {self.started_at:%Y-%m-%d %H:%M:%S} {self.status}"


class SystemResult(models.Model):
    """The figures the recalculation computed for a system and round, with the hash of the
    inputs they came from and the calculation version that computed them: a run on the same
    inputs by the same version leaves them untouched."""

    round = models.ForeignKey(PlanningRound, on_delete=models.CASCADE, related_name="+")
    system = models.ForeignKey(System, on_delete=models.CASCADE, related_name="results")
    inputs_hash = models.CharField(max_length=64)
    calculation_version = models.PositiveIntegerField(default=1)
    computed_at = models.DateTimeField()
    data = models.JSONField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["round", "system"], name="system_result_unique")
        ]

    def __str__(self) -> str:
        return f"{self.system} results ({self.computed_at:%Y-%m-%d %H:%M})"

    @property
    def is_outdated(self) -> bool:
        """Worked out by an older version of the calculations: the worker is redoing it."""

        return self.calculation_version < current()


class Fund(models.Model):
    """A round's fund (the name is data: "Financial recovery fund", "Provider sustainability
    fund") and its rules. Each eligible organisation has an indicative allocation; what it
    earns each quarter depends on its own and its system's position against control totals."""

    class Taper(models.TextChoices):
        NONE = "none", "None: met or missed"
        LINEAR = "linear", "Linear: reduced in proportion to the shortfall"

    round = models.OneToOneField(PlanningRound, on_delete=models.PROTECT, related_name="fund")
    name = models.CharField(max_length=120, default="Financial recovery fund")
    system_share = models.DecimalField(
        max_digits=5, decimal_places=4, default=Decimal("0.5"),
        help_text="Share of each payment tied to the system's performance (0.5 is 50%).",
    )  # fmt: skip
    q1 = models.DecimalField(max_digits=5, decimal_places=4, default=Decimal("0.25"))
    q2 = models.DecimalField(max_digits=5, decimal_places=4, default=Decimal("0.25"))
    q3 = models.DecimalField(max_digits=5, decimal_places=4, default=Decimal("0.25"))
    q4 = models.DecimalField(max_digits=5, decimal_places=4, default=Decimal("0.25"))
    taper = models.CharField(max_length=10, choices=Taper.choices, default=Taper.NONE)
    taper_zero_at = models.DecimalField(
        max_digits=14, decimal_places=3, null=True, blank=True,
        help_text="With a linear taper: the shortfall (£000) at which nothing is paid.",
    )  # fmt: skip
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(system_share__gte=0, system_share__lte=1), name="fund_share_0_to_1"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.round})"

    @property
    def phasing(self) -> tuple[Decimal, Decimal, Decimal, Decimal]:
        return (self.q1, self.q2, self.q3, self.q4)


class FundSystemShare(models.Model):
    """A system's choice to tie more of its partners' fund to the system's performance."""

    fund = models.ForeignKey(Fund, on_delete=models.CASCADE, related_name="system_shares")
    system = models.ForeignKey(System, on_delete=models.PROTECT, related_name="+")
    system_share = models.DecimalField(max_digits=5, decimal_places=4)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["fund", "system"], name="fund_system_share_unique")
        ]

    def __str__(self) -> str:
        return f"{self.system}: {self.system_share}"


class FundAllocation(models.Model):
    """An organisation's indicative allocation from the fund for the year, £000."""

    fund = models.ForeignKey(Fund, on_delete=models.CASCADE, related_name="allocations")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(max_digits=14, decimal_places=3)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["fund", "organisation"], name="fund_allocation_unique"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="fund_allocation_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.organisation}: {self.amount}"


class QuarterAssessment(models.Model):
    """An organisation's year to date at a quarter end as the fund first assessed it, £000, and
    the return it came from. Kept: a later return restating it is shown as a restatement with
    its effect, and never quietly changes the quarter (recorded by the recalculation)."""

    round = models.ForeignKey(PlanningRound, on_delete=models.CASCADE, related_name="+")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    quarter = models.PositiveSmallIntegerField()
    return_month = models.PositiveSmallIntegerField()  # the return it came from, and its version
    return_version = models.PositiveIntegerField()
    year_to_date = models.DecimalField(max_digits=18, decimal_places=3)
    assessed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["round", "organisation", "quarter"],
                                               name="quarter_assessed_once")]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.organisation} Q{self.quarter}: {self.year_to_date}"


class DiscretionaryRelease(models.Model):
    """The system lead's decision to release the system-tied part of a quarter's fund to an
    organisation that missed its own control total; it counts once the region agrees."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Awaiting the region"
        AGREED = "agreed", "Agreed"
        REFUSED = "refused", "Refused"
        WITHDRAWN = "withdrawn", "Withdrawn"

    fund = models.ForeignKey(Fund, on_delete=models.CASCADE, related_name="releases")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    quarter = models.PositiveSmallIntegerField()
    reason = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PROPOSED)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    proposed_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-proposed_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quarter__gte=1, quarter__lte=4), name="release_quarter_1_to_4"
            ),
            # One live decision per organisation and quarter.
            models.UniqueConstraint(
                fields=["fund", "organisation", "quarter"],
                condition=Q(status__in=["proposed", "agreed"]),
                name="release_one_live_per_quarter",
            ),
        ]

    def __str__(self) -> str:
        return f"Release Q{self.quarter} to {self.organisation} ({self.get_status_display()})"

    def get_absolute_url(self) -> str:
        return reverse("fund", args=[self.fund.round.slug, self.organisation.system.code])


class Agreement(models.Model):
    """A risk-share agreement among named partners of a system for a round. Its terms live in
    versions: each change after anyone has signed makes a new version to be signed again."""

    round = models.ForeignKey(PlanningRound, on_delete=models.PROTECT, related_name="agreements")
    system = models.ForeignKey(System, on_delete=models.PROTECT, related_name="agreements")
    name = models.CharField(max_length=160)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("agreement_detail", args=[self.round.slug, self.system.code, self.pk])


class AgreementVersion(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft: awaiting signatures"
        AGREED = "agreed", "Agreed by every partner"
        SUPERSEDED = "superseded", "Superseded"

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    partners = models.ManyToManyField(Organisation, related_name="+")
    # [{"kind": "risk_pool", "params": {...}}, ...] as typed; checked by
    # payments.calculations.mechanisms.build whenever it is saved.
    mechanisms = models.JSONField(default=list)
    # How the year's amounts fall across the quarters, in % as typed (["25", "25", "25",
    # "25"] by default), for quarterly settlements. Part of the terms partners sign.
    phasing = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    agreed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["agreement", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["agreement", "number"], name="agreement_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.agreement} v{self.number} ({self.get_status_display()})"

    @property
    def quarter_shares(self) -> list[Decimal]:
        """Each quarter's share of the year as a fraction (a quarter each if not set)."""
        if not self.phasing:
            return [Decimal("0.25")] * 4
        return [Decimal(str(p)) / 100 for p in self.phasing]


class AgreementSignature(models.Model):
    """A partner's approver signing one version of an agreement."""

    version = models.ForeignKey(
        AgreementVersion, on_delete=models.CASCADE, related_name="signatures"
    )
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["signed_at"]
        constraints = [
            models.UniqueConstraint(fields=["version", "organisation"], name="one_signature_each")
        ]

    def __str__(self) -> str:
        return f"{self.organisation} signed {self.version}"


def calculation_version_now() -> int:

    return current()


class Settlement(models.Model):
    """A period's settlement under an agreed version of an agreement: the actual activity or
    spend for each mechanism and whether the outcome measures were met (entered by the system
    lead), what each partner pays or receives (worked out by the worker, with workings), and
    where the decision stands. An agreed or decided settlement is never edited: a new one for
    the same period supersedes it when that is agreed or decided in its turn."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Entered, not yet proposed"
        PROPOSED = "proposed", "Proposed: awaiting the partners"
        AGREED = "agreed", "Agreed by every partner"
        DISPUTED = "disputed", "Disputed: escalated to the region"
        DECIDED = "decided", "Decided by the region"
        SET_ASIDE = "set_aside", "Set aside by the region"
        WITHDRAWN = "withdrawn", "Withdrawn"
        SUPERSEDED = "superseded", "Superseded"

    PERIODS = [("Q1", "Quarter 1"), ("Q2", "Quarter 2"), ("Q3", "Quarter 3"), ("Q4", "Quarter 4"),
               ("year", "The year")]  # fmt: skip

    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="settlements")
    version = models.ForeignKey(AgreementVersion, on_delete=models.PROTECT, related_name="+")
    period = models.CharField(max_length=4, choices=PERIODS)
    measures = models.JSONField(help_text="Actual activity or spend per mechanism, as typed.")
    # Each mechanism's own answer: its outcome measures met (true) or not (false); null for a
    # mechanism not linked to outcomes. `outcomes_met` says whether every answer was yes.
    outcomes = models.JSONField(default=list, blank=True)
    outcomes_met = models.BooleanField(default=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    flows = models.JSONField(null=True, blank=True)  # ODS → amount (+ receives), £ and pence
    # Named parties outside the agreement (a pool's result, spend against a budget): with the
    # partners' flows they sum to zero.
    external = models.JSONField(default=dict, blank=True)
    workings = models.JSONField(null=True, blank=True)
    # A digest of what the worker worked out (flows and workings): a repeat that gives the same
    # stores nothing.
    result_hash = models.CharField(max_length=64, blank=True)
    computed_at = models.DateTimeField(null=True, blank=True)
    # The version that worked out the flows (until then, the one it was entered under).
    calculation_version = models.PositiveIntegerField(default=calculation_version_now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.agreement} {self.get_period_display()} ({self.get_status_display()})"

    def get_absolute_url(self) -> str:
        a = self.agreement
        return reverse("settlement_detail", args=[a.round.slug, a.system.code, a.pk, self.pk])

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.DRAFT, self.Status.PROPOSED, self.Status.DISPUTED)


class SettlementResponse(models.Model):
    """A partner's acceptance of, or dispute with, a proposed settlement."""

    settlement = models.ForeignKey(Settlement, on_delete=models.CASCADE, related_name="responses")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    accepted = models.BooleanField()
    reason = models.TextField(blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    responded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["responded_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["settlement", "organisation"], name="one_response_per_partner"
            )
        ]

    def __str__(self) -> str:
        return f"{self.organisation}: {'accepted' if self.accepted else 'disputed'}"
