"""The region's systems side by side: each system's summary (surplus, mismatches, plans in
and not), worked out from its collation and stored beside its sums."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.core.cache import cache

from accounts import policy
from accounts.models import System
from plans.models import PlanningRound, SystemSubmission
from plans.system_plan import (
    INCLUDED,
    SUMS_SECONDS,
    OrgStatus,
    SystemPlan,
    build,
    fetch_plans,
    source_digest,
    standing,
    template_lines,
)

if TYPE_CHECKING:
    from accounts.policy import AnyUser


@dataclass
class Summary:
    """What the region's page shows of a system's collation (stored: see region_overview)."""

    surplus: Decimal
    mismatch_count: int
    awaiting_count: int  # pairs not yet comparable: one side's plan is not in
    mismatch_size: Decimal  # the income and expenditure mismatches added up, £000

    @classmethod
    def of(cls, plan: SystemPlan) -> Summary:
        flagged = plan.flagged
        return cls(
            surplus=sum(plan.surplus_by_organisation.values(), Decimal(0)),
            mismatch_count=len(flagged),
            awaiting_count=len(plan.awaiting),
            mismatch_size=sum(
                (abs(p.difference) for p in flagged if p.measure == "Income and expenditure"),
                Decimal(0),
            ),
        )


@dataclass
class SystemRow:
    """One system, side by side with the others in its region."""

    system: System
    summary: Summary
    statuses: list[OrgStatus]
    submission: object | None  # plans.models.SystemSubmission

    @property
    def surplus(self) -> Decimal:
        return self.summary.surplus

    @property
    def mismatch_count(self) -> int:
        return self.summary.mismatch_count

    @property
    def awaiting_count(self) -> int:
        return self.summary.awaiting_count

    @property
    def mismatch_size(self) -> Decimal:
        return self.summary.mismatch_size

    @property
    def late_count(self) -> int:
        return sum(1 for s in self.statuses if s.late)

    @property
    def missing_count(self) -> int:
        return sum(1 for s in self.statuses if s.state not in INCLUDED)


# The code a summary is worked out by (the sums' key already names the collation's).
SUMMARY_CODE = source_digest(__file__)


def _summary_key(plan_round: PlanningRound, sums_key: str, statuses: list[OrgStatus]) -> str:
    """A system's summary is its sums (their key says which plans and template), the round's
    thresholds, and its organisations' codes and kinds (balances are named by code)."""
    thresholds = (plan_round.balance_threshold, plan_round.activity_threshold_percent,
                  plan_round.pay_per_wte_min, plan_round.pay_per_wte_max)  # fmt: skip
    partners = sorted((s.organisation.pk, s.organisation.ods_code, s.organisation.kind)
                      for s in statuses)  # fmt: skip
    canonical = json.dumps(
        [SUMMARY_CODE, sums_key, [str(t) for t in thresholds], partners], separators=(",", ":")
    )
    return "collation:summary:" + hashlib.sha256(canonical.encode()).hexdigest()


def region_overview(user: AnyUser, plan_round: PlanningRound, region) -> list[SystemRow]:
    """Every system in the region the person may see, collated in one pass; each system's
    summary stored beside its sums, so a system is worked out again only when they move."""

    systems = list(region.systems.filter(policy.systems_q(user)).order_by("name"))
    ids = [s.pk for s in systems]
    known = standing(plan_round, ids)
    submissions = {
        s.system_id: s
        for s in SystemSubmission.objects.filter(round=plan_round, system__in=systems)
    }
    keys = {s.pk: _summary_key(plan_round, known.keys[s.pk], known.statuses[s.pk]) for s in systems}
    summaries = {sid: found for sid, key in keys.items() if (found := cache.get(key)) is not None}
    missing = [sid for sid in ids if sid not in summaries]
    if missing:  # their sums read (or added up) only now, in one go
        fetched = fetch_plans(plan_round, missing, known)
        template = template_lines(plan_round)
        for s in systems:
            if s.pk in missing:
                summaries[s.pk] = Summary.of(build(plan_round, s, fetched, template))
                if fetched.keys[s.pk] == known.keys[s.pk]:  # else made from other plans
                    cache.set(keys[s.pk], summaries[s.pk], SUMS_SECONDS)
    return [
        SystemRow(s, summaries[s.pk], known.statuses[s.pk], submissions.get(s.pk)) for s in systems
    ]
