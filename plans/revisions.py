"""Reading template revisions: a round's (national, like the round), and what the latest did
to a draft (its organisation's own, like the draft)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet
from django.http import Http404

from accounts import policy
from plans.models import DraftMigration, PlanningRound, Submission, TemplateRevision

if TYPE_CHECKING:
    from accounts.policy import AnyUser


def revisions_of(plan_round: PlanningRound) -> QuerySet[TemplateRevision]:
    return TemplateRevision.objects.filter(round=plan_round).select_related(
        "from_version__template", "to_version__template", "actor"
    )


def revision_get(user: AnyUser, plan_round: PlanningRound, pk: object) -> TemplateRevision:
    """A revision with every draft's migration: the administrators' (drafts are private)."""
    if not policy.is_platform_admin(user):
        raise Http404("No such revision.")
    try:
        return revisions_of(plan_round).get(pk=int(str(pk)))
    except (ValueError, TemplateRevision.DoesNotExist):
        raise Http404("No such revision.") from None


def migration_for(user: AnyUser, submission: Submission) -> DraftMigration | None:
    """What the round's latest revision did to this plan's draft, for its own people."""
    if not policy.can_view_drafts(user, submission.organisation):
        return None
    latest = revisions_of(submission.round).first()
    if latest is None:
        return None
    return DraftMigration.objects.filter(revision=latest, submission=submission).first()
