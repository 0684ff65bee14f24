"""A system's collated plan for a round: read set-based from the database, then worked out by
the pure functions in plans.collation."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import connection
from django.http import Http404

from accounts import policy
from accounts.models import Organisation, System
from plans import collation
from plans.calculations import MONTHS, LineSpec
from plans.models import Line, PlanningRound, Section, Submission, Version
from plans.selectors import line_spec

if TYPE_CHECKING:
    from accounts.policy import AnyUser

INCLUDED = (Submission.Status.SUBMITTED, Submission.Status.ACCEPTED)

_LATEST = """
    WITH latest AS (
        SELECT DISTINCT ON (s.id) s.organisation_id, ver.id AS version_id
        FROM plans_submission s
        JOIN plans_version ver ON ver.submission_id = s.id AND ver.number > 0
        JOIN accounts_organisation o ON o.id = s.organisation_id
        WHERE s.round_id = %(round)s AND o.system_id = ANY(%(systems)s)
          AND s.status IN ('submitted', 'accepted')
        ORDER BY s.id, ver.number DESC
    )
"""

# Both queries are constants (no value is formatted into them).
MONTHLY_SQL = (
    _LATEST  # noqa: S608
    + """
    SELECT latest.organisation_id, l.code, v.month, SUM(v.value)
    FROM latest
    JOIN plans_value v ON v.version_id = latest.version_id
    JOIN plans_line l ON l.id = v.line_id
    GROUP BY 1, 2, 3
"""
)

BY_COUNTERPARTY_SQL = (
    _LATEST  # noqa: S608
    + """
    SELECT latest.organisation_id, l.code, cp.ods_code, SUM(v.value)
    FROM latest
    JOIN plans_value v ON v.version_id = latest.version_id
    JOIN plans_line l ON l.id = v.line_id
    JOIN accounts_organisation cp ON cp.id = v.counterparty_id
    GROUP BY 1, 2, 3
"""
)

ACTIVITY_PAIRS = [("A1ELE", "A2ELE"), ("A1DAY", "A2DAY"), ("A1NEL", "A2NEL"),
                  ("A1OPF", "A2OPF"), ("A1OPU", "A2OPU"), ("A1AAE", "A2AAE")]  # fmt: skip
STAFF_GROUPS = {
    "Medical and dental": "MED", "Nursing and midwifery": "NUR",
    "Allied health professionals": "AHP", "Scientific, therapeutic and technical": "STT",
    "Support to clinical staff": "SUP", "Infrastructure support": "INF",
}  # fmt: skip


def fetch_plans(
    plan_round: PlanningRound, system_ids: list[int]
) -> dict[int, list[collation.OrgPlan]]:
    """Every included organisation's aggregated figures, per system, in two set-based queries."""
    params = {"round": plan_round.pk, "systems": system_ids}
    monthly: dict[int, dict[tuple[str, int], Decimal]] = {}
    by_cp: dict[int, dict[tuple[str, str], Decimal]] = {}
    with connection.cursor() as cursor:
        cursor.execute(MONTHLY_SQL, params)
        for org_id, code, month, value in cursor.fetchall():
            monthly.setdefault(org_id, {})[(code, month)] = value
        cursor.execute(BY_COUNTERPARTY_SQL, params)
        for org_id, code, ods, value in cursor.fetchall():
            by_cp.setdefault(org_id, {})[(code, ods)] = value
    organisations = Organisation.objects.filter(pk__in=set(monthly) | set(by_cp))
    out: dict[int, list[collation.OrgPlan]] = {sid: [] for sid in system_ids}
    for organisation in organisations.order_by("name"):
        out[organisation.system_id].append(
            collation.OrgPlan(
                ods_code=organisation.ods_code,
                name=organisation.name,
                kind=organisation.kind,
                monthly=monthly.get(organisation.pk, {}),
                by_counterparty=by_cp.get(organisation.pk, {}),
            )
        )
    return out


@dataclass
class OrgStatus:
    organisation: Organisation
    submission: Submission | None
    late: bool

    @property
    def state(self) -> str:
        if self.submission is None:
            return "missing"
        if self.submission.status in INCLUDED:
            return self.submission.status
        if self.submission.versions.filter(number__gt=0).exists():
            return self.submission.status  # returned, or recalled to draft
        return "missing"


@dataclass
class SystemPlan:
    round: PlanningRound
    system: System
    plans: list[collation.OrgPlan]
    statuses: list[OrgStatus]
    specs: list[LineSpec]
    sections: list[tuple[Section, list[Line]]]
    totals: dict[tuple[str, int], Decimal]
    consolidated: collation.Consolidated
    income_balances: list[collation.PairBalance]
    activity_balances: list[collation.PairBalance]
    pay_checks: list[collation.PayCheck]

    @property
    def surplus_by_organisation(self) -> dict[str, Decimal]:
        return collation.totals_by(self.plans, "F900", self.specs, "ods_code")

    @property
    def surplus_by_kind(self) -> dict[str, Decimal]:
        return collation.totals_by(self.plans, "F900", self.specs, "kind")

    @property
    def flagged(self) -> list[collation.PairBalance]:
        return [p for p in self.income_balances + self.activity_balances if p.flagged]

    def year(self, code: str) -> Decimal:
        return sum((self.totals.get((code, m), Decimal(0)) for m in MONTHS), Decimal(0))


def _statuses(plan_round: PlanningRound, system: System) -> list[OrgStatus]:
    submissions = {
        s.organisation_id: s
        for s in Submission.objects.filter(round=plan_round, organisation__system=system)
    }
    late = set(
        Version.objects.filter(
            submission__round=plan_round, submission__organisation__system=system, late=True
        ).values_list("submission__organisation_id", flat=True)
    )
    return [
        OrgStatus(organisation, submissions.get(organisation.pk), organisation.pk in late)
        for organisation in system.organisations.order_by("name")
    ]


def build(plan_round: PlanningRound, system: System, plans: list[collation.OrgPlan]) -> SystemPlan:
    lines = list(
        Line.objects.filter(section__template_version_id=plan_round.template_version_id)
        .select_related("section")
        .order_by("section__position", "position")
    )
    specs = [line_spec(line) for line in lines]
    surplus = next(spec for spec in specs if spec.code == "F900")
    sections: dict[int, tuple[Section, list[Line]]] = {}
    for line in lines:
        sections.setdefault(line.section_id, (line.section, []))[1].append(line)
    labels = {line.code: line.label for line in lines}
    activity = []
    for provider_line, commissioner_line in ACTIVITY_PAIRS:
        activity += collation.balances(
            plans, provider_line, commissioner_line,
            measure=labels.get(provider_line, provider_line).removesuffix(" (provided)"),
            threshold_percent=plan_round.activity_threshold_percent,
        )  # fmt: skip
    groups = {
        name: ([f"F2{code}{t}" for t in "SBA"], [f"W{code}{t}" for t in "SBA"])
        for name, code in STAFF_GROUPS.items()
    }
    pay = [
        check
        for plan in plans
        for check in collation.pay_per_wte(
            plan, groups, plan_round.pay_per_wte_min, plan_round.pay_per_wte_max
        )
    ]
    return SystemPlan(
        round=plan_round,
        system=system,
        plans=plans,
        statuses=_statuses(plan_round, system),
        specs=specs,
        sections=list(sections.values()),
        totals=collation.system_totals(plans, specs),
        consolidated=collation.consolidate(plans, surplus, specs),
        income_balances=collation.balances(
            plans,
            "F100",
            "F510",
            measure="Income and expenditure",
            threshold=plan_round.balance_threshold,
        ),
        activity_balances=activity,
        pay_checks=pay,
    )


def system_plan_get(user: AnyUser, plan_round: PlanningRound, system: System) -> SystemPlan:
    """The collated plan of a system the person may see (404 otherwise)."""
    if not policy.can_view_system(user, system):
        raise Http404("No such system.")
    plans = fetch_plans(plan_round, [system.pk])[system.pk]
    return build(plan_round, system, plans)


@dataclass
class SystemRow:
    """One system, side by side with the others in its region."""

    system: System
    plan: SystemPlan
    submission: object | None  # plans.models.SystemSubmission

    @property
    def surplus(self) -> Decimal:
        return sum(self.plan.surplus_by_organisation.values(), Decimal(0))

    @property
    def mismatch_count(self) -> int:
        return len(self.plan.flagged)

    @property
    def mismatch_size(self) -> Decimal:
        """The income and expenditure mismatches added up, £000 (activity is counted only)."""
        return sum(
            (abs(p.difference) for p in self.plan.flagged if p.measure == "Income and expenditure"),
            Decimal(0),
        )

    @property
    def late_count(self) -> int:
        return sum(1 for s in self.plan.statuses if s.late)

    @property
    def missing_count(self) -> int:
        return sum(1 for s in self.plan.statuses if s.state not in INCLUDED)


def region_overview(user: AnyUser, plan_round: PlanningRound, region) -> list[SystemRow]:
    """Every system in the region the person may see, collated in one pass."""
    from plans.models import SystemSubmission

    systems = [s for s in region.systems.order_by("name") if policy.can_view_system(user, s)]
    plans = fetch_plans(plan_round, [s.pk for s in systems])
    submissions = {
        s.system_id: s
        for s in SystemSubmission.objects.filter(round=plan_round, system__in=systems)
    }
    return [SystemRow(s, build(plan_round, s, plans[s.pk]), submissions.get(s.pk)) for s in systems]
