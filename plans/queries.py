"""SQL that every reader of plan figures shares, written once.

Which version of a plan counts: the latest submitted version of a plan that is submitted or
accepted (a plan returned to draft, or only started, counts for nothing). The system plan,
the recalculation and the benchmarks all read plan figures through this.
"""

from __future__ import annotations

from plans.models import PlanningRound, Submission, TemplateRevision

# The plan statuses whose latest submitted version counts.
COUNTED = (Submission.Status.SUBMITTED, Submission.Status.ACCEPTED)

_COUNTED_SQL = ", ".join(f"'{status.value}'" for status in COUNTED)  # constants only


def latest_counted(name: str = "latest") -> str:
    """A common table expression `name(organisation_id, system_id, version_id)`: for each
    plan of the round `%(round)s` in the systems `%(systems)s` that counts, its latest
    submitted version. Put it after WITH; the query passes `round` and `systems`."""
    if not name.isidentifier():
        raise ValueError(f"{name!r} is not a name for a table expression")
    return f"""
    {name} AS (
        SELECT DISTINCT ON (s.id) s.organisation_id, o.system_id, ver.id AS version_id
        FROM plans_submission s
        JOIN plans_version ver ON ver.submission_id = s.id AND ver.number > 0
        JOIN accounts_organisation o ON o.id = s.organisation_id
        WHERE s.round_id = %(round)s AND o.system_id = ANY(%(systems)s)
          AND s.status IN ({_COUNTED_SQL})
        ORDER BY s.id, ver.number DESC
    )"""  # noqa: S608


def template_versions_of(plan_round: PlanningRound) -> list[int]:
    """Every template version the round's plans can have been made with: its own, and the
    ones it was revised from (a submitted version keeps the lines it was made with)."""
    earlier = TemplateRevision.objects.filter(round=plan_round).values_list(
        "from_version_id", flat=True
    )
    return [plan_round.template_version_id, *sorted(set(earlier))]
