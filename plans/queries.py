"""SQL that every reader of plan figures shares, written once.

Which version of a plan counts: the latest submitted version of a plan that is submitted or
accepted (a plan returned to draft, or only started, counts for nothing). The system plan,
the recalculation and the benchmarks all read plan figures through this.
"""

from __future__ import annotations

from django.db import connection

from plans.calculations import Change
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


# Constants only. Cells are matched by line code (a version made before a revision has its own
# lines), counterparty (0 for none) and month; codes sort as Python sorts them (by code point).
_CHANGES_SQL = """
    WITH a AS (
        SELECT l.code, COALESCE(v.counterparty_id, 0) AS cp, v.month, v.value
        FROM plans_value v JOIN plans_line l ON l.id = v.line_id
        WHERE v.version_id = %(before)s
    ), b AS (
        SELECT l.code, COALESCE(v.counterparty_id, 0) AS cp, v.month, v.value
        FROM plans_value v JOIN plans_line l ON l.id = v.line_id
        WHERE v.version_id = %(after)s
    ), changed AS (
        SELECT COALESCE(a.code, b.code) AS code, COALESCE(a.cp, b.cp) AS cp,
               COALESCE(a.month, b.month) AS month, a.value AS before, b.value AS after
        FROM a FULL JOIN b ON a.code = b.code AND a.cp = b.cp AND a.month = b.month
        WHERE a.value IS DISTINCT FROM b.value
    )
    SELECT code, NULLIF(cp, 0), month, before, after, COUNT(*) OVER ()
    FROM changed
    ORDER BY code COLLATE "C", cp, month
    LIMIT %(limit)s
"""


def changes_between(before_id: int | None, after_id: int, limit: int) -> tuple[int, list[Change]]:
    """How many cells differ between two versions, and the first `limit` of them in the order
    plans.calculations.diff gives: worked out by the database, so a full plan's figures are
    not read into Python twice to find a handful of changes. No earlier version: every
    figure is a change."""
    with connection.cursor() as cursor:
        cursor.execute(_CHANGES_SQL, {"before": before_id or -1, "after": after_id,
                                      "limit": limit})  # fmt: skip
        rows = cursor.fetchall()
    count = rows[0][5] if rows else 0
    return count, [Change((code, cp, month), a, b) for code, cp, month, a, b, _ in rows]
