"""The occasions on which something starts waiting on someone: who is told, and in what words.
Each workflow's service calls one of these inside its transaction, after its audit record."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.urls import reverse

from accounts.models import Role
from accounts.selectors import people_with_roles
from notifications.models import Kind
from notifications.services import notify

if TYPE_CHECKING:
    from accounts.models import User

APPROVERS = (Role.ORG_APPROVER,)
PLAN_PEOPLE = (Role.ORG_PREPARER, Role.ORG_APPROVER)
LEADS = (Role.SYSTEM_LEAD,)
REVIEWERS = (Role.REGION_REVIEWER,)


def plan_submitted(actor: User, submission, number: int) -> int:
    """For the system lead: a plan to accept or return."""
    o, r = submission.organisation, submission.round
    return notify(
        kind=Kind.PLAN_SUBMITTED,
        recipients=people_with_roles(LEADS, systems=[o.system_id]),
        title=f"{o.name}: plan version {number} waiting for your decision",
        body=f"{r.name}. Read its figures and mismatches, then accept it or return it.",
        url=reverse("plan_detail", args=[r.slug, o.ods_code]),
        key=f"plan_submitted:{submission.pk}:{number}",
        actor=actor,
    )


def plan_returned(actor: User, submission, reason: str, comment_id: int) -> int:
    """For the organisation's preparers and approvers: a plan to change and submit again."""
    o, r = submission.organisation, submission.round
    return notify(
        kind=Kind.PLAN_RETURNED,
        recipients=people_with_roles(PLAN_PEOPLE, organisations=[o.pk]),
        title=f"{o.name}: plan returned by the system lead",
        body=f"{r.name}. The reason: {reason[:300]}",
        url=reverse("plan_detail", args=[r.slug, o.ods_code]) + "#comments",
        key=f"plan_returned:{submission.pk}:{comment_id}",
        actor=actor,
    )


def system_plan_sent(actor: User, submission, number: int) -> int:
    """For the region's reviewers: a system plan to approve or return."""
    s, r = submission.system, submission.round
    return notify(
        kind=Kind.SYSTEM_PLAN_SENT,
        recipients=people_with_roles(REVIEWERS, regions=[s.region_id]),
        title=f"{s.name}: system plan version {number} waiting for your review",
        body=f"{r.name}. Approve it or return it with reasons.",
        url=reverse("system_version", args=[r.slug, s.code, number]),
        key=f"system_plan_sent:{submission.pk}:{number}",
        actor=actor,
    )


def system_plan_returned(actor: User, submission, reason: str, comment_id: int) -> int:
    """For the system lead: the region's reasons, and a system plan to send again."""
    s, r = submission.system, submission.round
    return notify(
        kind=Kind.SYSTEM_PLAN_RETURNED,
        recipients=people_with_roles(LEADS, systems=[s.pk]),
        title=f"{s.name}: system plan returned by the region",
        body=f"{r.name}. The reasons: {reason[:300]}",
        url=reverse("system_plan", args=[r.slug, s.code]) + "#region",
        key=f"system_plan_returned:{submission.pk}:{comment_id}",
        actor=actor,
    )


def transfer_to_agree(actor: User, transfer, parties: list) -> int:
    """For each party still to decide: the approvers of the organisations, and the system lead
    (a party named None)."""
    organisations = [p.pk for p in parties if p is not None]
    people = set(people_with_roles(APPROVERS, organisations=organisations))
    if None in parties:
        people |= set(people_with_roles(LEADS, systems=[transfer.system_id]))
    return notify(
        kind=Kind.TRANSFER_TO_AGREE,
        recipients=people,
        title=f"{transfer.system.name}: transfer {transfer.pk} of control total to agree",
        body=f"{transfer.round.name}. {transfer.reason[:300]}",
        url=reverse("control_totals", args=[transfer.round.slug, transfer.system.code])
        + f"#transfer-{transfer.pk}",
        key=f"transfer_to_agree:{transfer.pk}",
        actor=actor,
    )


def agreement_to_sign(actor: User, version) -> int:
    """For the partners' approvers: a version of an agreement to sign (again, after a change)."""
    a = version.agreement
    again = " again: its terms have changed" if version.number > 1 else ""
    return notify(
        kind=Kind.AGREEMENT_TO_SIGN,
        recipients=people_with_roles(
            APPROVERS, organisations=list(version.partners.values_list("pk", flat=True))
        ),
        title=f"{a.name}: version {version.number} to sign{again}",
        body=f"{a.system.name}, {a.round.name}. Read the terms and the what-if, then sign.",
        url=reverse("agreement_detail", args=[a.round.slug, a.system.code, a.pk]),
        key=f"agreement_to_sign:{version.pk}",
        actor=actor,
    )


def settlement_to_answer(actor: User, settlement) -> int:
    """For the partners' approvers: a proposed settlement to accept or dispute."""
    a = settlement.agreement
    return notify(
        kind=Kind.SETTLEMENT_TO_ANSWER,
        recipients=people_with_roles(
            APPROVERS,
            organisations=list(settlement.version.partners.values_list("pk", flat=True)),
        ),
        title=f"{a.name}: {settlement.get_period_display()} settlement to answer",
        body=f"{a.system.name}. Accept it, or dispute it with a reason.",
        url=reverse("settlement_detail", args=[a.round.slug, a.system.code, a.pk, settlement.pk]),
        key=f"settlement_to_answer:{settlement.pk}",
        actor=actor,
    )


def dispute_to_decide(actor: User, settlement, disputed_by, reason: str) -> int:
    """For the region's reviewers: a disputed settlement to uphold or set aside."""
    a = settlement.agreement
    return notify(
        kind=Kind.DISPUTE_TO_DECIDE,
        recipients=people_with_roles(REVIEWERS, regions=[a.system.region_id]),
        title=f"{a.name}: {settlement.get_period_display()} settlement disputed",
        body=f"{a.system.name}. {disputed_by.name} disputes it: {reason[:300]}",
        url=reverse("settlement_detail", args=[a.round.slug, a.system.code, a.pk, settlement.pk]),
        key=f"dispute_to_decide:{settlement.pk}",
        actor=actor,
    )
