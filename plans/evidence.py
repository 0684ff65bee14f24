"""What a decision maker needs in front of them before accepting a plan: the plan's surplus,
its position against the control total, the agreement-of-balances mismatches it takes part in,
its pay-per-WTE flags, and what changed since the version they last looked at.

The same for a system plan sent to the region. Reads only; `seen_record` notes which version a
person has looked at, so the next look can say what moved since.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from django.utils import timezone

from accounts import policy
from payments.calculations.control_totals import system_control_total
from payments.calculations.positions import Position
from payments.models import ControlTotal
from payments.selectors import current_control_totals
from plans import collation
from plans.models import Submission, VersionSeen
from plans.system_plan import SystemPlan, build, fetch_plans

if TYPE_CHECKING:
    from accounts.policy import AnyUser


@dataclass
class Evidence:
    """One organisation's submitted plan, as the system collates it now."""

    surplus: Decimal | None  # £000 for the year; None when the plan is not in the collation
    control_total: Decimal | None
    mismatches: list[collation.PairBalance]
    awaiting: list[collation.PairBalance]  # pairs whose other side has no plan in yet
    pay_flags: list[collation.PayCheck]
    names: dict[str, str] = field(default_factory=dict)  # ODS code → name, for the partners

    @property
    def against(self) -> Decimal | None:
        """Plan less control total (the payments calculation): negative misses it."""
        return Position("", self.control_total, self.surplus).variance

    @property
    def concerns(self) -> int:
        """How many things a decision maker must acknowledge before accepting."""
        return len(self.mismatches) + len(self.pay_flags)

    @property
    def concern_summary(self) -> str:
        return concerns_in_words(len(self.mismatches), len(self.pay_flags))


def concerns_in_words(mismatches: int, pay_flags: int) -> str:
    """What a decision maker must acknowledge, in words ("" when nothing)."""
    parts = []
    if mismatches:
        parts.append(
            f"{mismatches} agreement-of-balances mismatch{'es' if mismatches != 1 else ''}"
        )
    if pay_flags:
        parts.append(f"{pay_flags} pay-per-WTE check{'s' if pay_flags != 1 else ''} out of range")
    return " and ".join(parts)


def snapshot_concerns(data: dict) -> str:
    """The same for a system plan version sent: its mismatches and pay flags."""
    return concerns_in_words(len(data.get("mismatches", [])), len(data.get("pay_flags", [])))


def _evidence(plan: SystemPlan, ods_code: str, control_total: Decimal | None) -> Evidence:
    pairs = plan.income_balances + plan.activity_balances
    mine = [p for p in pairs if ods_code in (p.provider, p.commissioner)]
    return Evidence(
        surplus=plan.surplus_by_organisation.get(ods_code),
        control_total=control_total,
        mismatches=[p for p in mine if p.flagged],
        awaiting=[p for p in mine if p.awaiting],
        pay_flags=[c for c in plan.pay_checks if c.ods_code == ods_code and c.flagged],
        names={s.organisation.ods_code: s.organisation.name for s in plan.statuses},
    )


def submission_evidence(submission: Submission) -> Evidence:
    """The evidence for a submission, read without a person: the accept service checks it.
    Pages reach it through `evidence_for`, which checks who may see it."""
    organisation = submission.organisation
    plan_round = submission.round
    plan = build(plan_round, organisation.system, fetch_plans(plan_round, [organisation.system_id]))
    control_total = (
        ControlTotal.objects.filter(round=submission.round, organisation=organisation)
        .values_list("amount", flat=True)
        .first()
    )
    return _evidence(plan, organisation.ods_code, control_total)


def evidence_for(user: AnyUser, submission: Submission) -> Evidence | None:
    """For those who decide on the plan (the system lead) and those who review the system:
    the evidence; None for everyone else, who has no decision to make with it."""
    organisation = submission.organisation
    if not (
        policy.can_decide_submission(user, organisation)
        or policy.can_review_system_plan(user, organisation.system)
    ):
        return None
    return submission_evidence(submission)


@dataclass
class SystemEvidence:
    """A system plan version as sent: its surplus, mismatches and pay flags, against the
    system control total as it stands."""

    surplus: Decimal | None
    control_total: Decimal | None
    mismatches: list[dict]
    pay_flags: list[dict]
    concern_summary: str

    @property
    def against(self) -> Decimal | None:
        return Position("system", self.control_total, self.surplus).variance

    @property
    def concerns(self) -> int:
        return len(self.mismatches) + len(self.pay_flags)


def system_evidence(plan_round, system, snapshot: dict) -> SystemEvidence:
    return SystemEvidence(
        surplus=None
        if snapshot.get("system_surplus") is None
        else Decimal(snapshot["system_surplus"]),
        control_total=system_control_total(current_control_totals(plan_round, system)),
        mismatches=list(snapshot.get("mismatches", [])),
        pay_flags=[
            d | {"per_wte": None if d["per_wte"] is None else Decimal(d["per_wte"])}
            for d in snapshot.get("pay_flags", [])
        ],
        concern_summary=snapshot_concerns(snapshot),
    )


# --- which version a person last looked at ------------------------------------------------------


def last_seen(user: AnyUser, *, submission=None, system_submission=None) -> int | None:
    """The version number this person last looked at, None if never."""
    if not user.is_authenticated:
        return None
    return (
        VersionSeen.objects.filter(
            user=user, submission=submission, system_submission=system_submission
        )
        .values_list("number", flat=True)
        .first()
    )


def seen_record(user: AnyUser, number: int, *, submission=None, system_submission=None) -> None:
    """Note that this person has now looked at version `number` (never goes backwards: opening
    an older version does not hide what changed after it)."""
    if not user.is_authenticated or number < 1:
        return
    seen, created = VersionSeen.objects.get_or_create(
        user=user,
        submission=submission,
        system_submission=system_submission,
        defaults={"number": number},
    )
    if not created and seen.number < number:
        seen.number = number
        seen.seen_at = timezone.now()
        seen.save(update_fields=["number", "seen_at"])


def compare_base(latest: int, seen: int | None, numbers: list[int]) -> int | None:
    """Which version to show the latest against: the one last looked at if it is older, else
    the one before the latest (a first look), else nothing (version 1 on a first look)."""
    if seen is not None and seen < latest:
        return seen
    if seen is None:
        earlier = [n for n in numbers if 0 < n < latest]
        return earlier[-1] if earlier else None
    return None
