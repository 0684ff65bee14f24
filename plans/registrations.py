"""What the planning app tells the platform (openbook/registry.py): its audit actions, the
pages its audited objects are seen on, and what waits on a person."""

from __future__ import annotations

from openbook import registry

KINDS = {
    "submission": "Plans",
    "system_plan": "System plan",
    "return": "Monthly returns",
    "comment": "Comments",
}
ACTIONS = {
    "submission.started": "Plan started",
    "submission.submitted": "Plan submitted",
    "submission.accepted": "Plan accepted",
    "submission.returned": "Plan returned",
    "submission.recalled": "Plan recalled",
    "draft.saved": "Draft saved",
    "draft.narrative_saved": "Narrative saved",
    "draft.table_saved": "Schemes saved",
    "draft.provided": "Provided figures copied into the draft",
    "draft.migrated": "Draft moved to a new template version",
    "comment.added": "Comment added",
    "system_plan.submitted": "System plan sent to the region",
    "system_plan.approved": "System plan approved by the region",
    "system_plan.returned": "System plan returned by the region",
    "system_plan.comment_added": "The region commented on the system plan",
    "return.started": "Monthly return started",
    "return.saved": "Monthly return saved",
    "return.submitted": "Monthly return submitted",
    "round.created": "Planning round opened",
    "round.changed": "Planning round changed",
    "round.figures_provided": "Figures provided for the round",
    "round.template_revised": "Round moved to a new template version",
    "template.loaded": "Plan template loaded",
    "template.help_updated": "Template guidance changed",
}


def register() -> None:
    from plans import selectors
    from plans.models import MonthlyReturn, Submission, SystemComment, SystemSubmission

    registry.register_actions(KINDS, ACTIONS)
    registry.register_object(
        "plans.submission",
        lambda: Submission.objects.select_related("round", "organisation"),
        lambda s: f"{s.organisation.name}, {s.round.name}",
    )
    registry.register_object(
        "plans.systemsubmission",
        lambda: SystemSubmission.objects.select_related("round", "system"),
        lambda s: f"{s.system.name}: system plan, {s.round.name}",
    )
    registry.register_object(
        "plans.systemcomment",
        lambda: SystemComment.objects.select_related("submission__round", "submission__system"),
        lambda c: f"{c.submission.system.name}: system plan, {c.submission.round.name}",
    )
    registry.register_object(
        "plans.monthlyreturn",
        lambda: MonthlyReturn.objects.select_related("round", "organisation"),
        lambda r: f"{r.organisation.name}: {r.month_label} finance return",
    )
    registry.register_attention(selectors.attention_for)
    registry.register_attention(selectors.system_plan_attention)
    registry.register_current("round", selectors.current_round)
