"""`openbook bench submit`: an acute trust submits its full plan on the current template (every
figure, its efficiency and capital schemes and its narrative), against the bare SQL that
freezes the same draft as a new version.

Each repeat recalls the plan, changes a few figures as a trust does between submissions, and
submits again: the submission as the service does it (checks, the frozen copy, the year totals
collation reads, the changes since the last version, the audit record, the recalculation asked
for) and committed. The baseline copies the same draft's figures, narratives and scheme rows
into a new version and stores its year totals, in plain SQL, committed; its version is then
taken away again (untimed).
"""

from __future__ import annotations

import datetime as dt
import statistics
import time

from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Organisation
from accounts.second_factor import unattended
from demo.bench.upload import bench_trust
from demo.national import _tables
from demo.schemes import as_provided, as_schemes
from demo.synthetic import board_approver
from plans.cells import CellInput
from plans.models import PlanningRound, Submission, Value, Version
from plans.services import (
    draft_save,
    narrative_save,
    round_save,
    submission_recall,
    submission_start,
    submission_submit,
    template_load,
)
from plans.services.provided import provided_save
from plans.services.templates import CURRENT_TEMPLATE

SLUG = "bench-submit"

# The irreducible work of a submission: the draft frozen as a new version, and its year per
# line (whole and by counterparty) stored for collation. Constants only.
BASELINE_SQL = [
    """INSERT INTO plans_version (submission_id, number, created_at, created_by_id,
                                  board_approval_date, late, late_reason, revision)
       SELECT submission_id, %(number)s, now(), created_by_id, CURRENT_DATE, false, '', revision
       FROM plans_version WHERE id = %(draft)s RETURNING id""",
    """INSERT INTO plans_value (version_id, line_id, counterparty_id, month, value)
       SELECT %(new)s, line_id, counterparty_id, month, value
       FROM plans_value WHERE version_id = %(draft)s""",
    """INSERT INTO plans_yeartotals
           (version_id, lines, totals, split_lines, split_counterparties, split_totals)
       SELECT %(new)s,
              COALESCE(array_agg(line_id) FILTER (WHERE counterparty_id IS NULL), '{}'),
              COALESCE(array_agg(total) FILTER (WHERE counterparty_id IS NULL), '{}'),
              COALESCE(array_agg(line_id) FILTER (WHERE counterparty_id IS NOT NULL), '{}'),
              COALESCE(array_agg(counterparty_id) FILTER (WHERE counterparty_id IS NOT NULL),
                       '{}'),
              COALESCE(array_agg(total) FILTER (WHERE counterparty_id IS NOT NULL), '{}')
       FROM (SELECT line_id, NULL::bigint AS counterparty_id, SUM(value) AS total
             FROM plans_value WHERE version_id = %(new)s GROUP BY line_id
             UNION ALL
             SELECT line_id, counterparty_id, SUM(value)
             FROM plans_value WHERE version_id = %(new)s AND counterparty_id IS NOT NULL
             GROUP BY line_id, counterparty_id) AS year""",
    """INSERT INTO plans_narrative (version_id, section_id, text)
       SELECT %(new)s, section_id, text FROM plans_narrative WHERE version_id = %(draft)s""",
    """INSERT INTO plans_tablerow (version_id, section_id, position, fields, amounts)
       SELECT %(new)s, section_id, position, fields, amounts
       FROM plans_tablerow WHERE version_id = %(draft)s""",
]


def _setup() -> tuple[PlanningRound, Organisation]:
    """A bench system (an acute trust, its commissioners and neighbours) and a round on the
    current template; made once, reused."""
    trust = bench_trust()
    version, _ = template_load(path=CURRENT_TEMPLATE)
    plan_round = PlanningRound.objects.filter(slug=SLUG).first()
    if plan_round is None:
        now = timezone.now()
        plan_round = round_save(
            actor=None,
            plan_round=PlanningRound(
                name="Bench submit round", slug=SLUG, financial_year=2026,
                template_version=version, draft_deadline=now + dt.timedelta(days=300),
                final_deadline=now + dt.timedelta(days=301),
            ),
        )  # fmt: skip
    return plan_round, trust


def _ready(plan_round: PlanningRound, organisation: Organisation, approver) -> Submission:
    """The trust's plan, complete in its draft (figures, schemes, narrative)."""
    from demo import realistic

    every, given = as_provided(
        plan_round, organisation, realistic.plan_cells(plan_round, organisation)
    )
    provided_save(actor=None, plan_round=plan_round, rows=given)
    submission = submission_start(actor=approver, plan_round=plan_round, organisation=organisation)
    submission.refresh_from_db()
    if submission.status == Submission.Status.SUBMITTED:
        submission_recall(actor=approver, submission=submission)
    cells, tables = as_schemes(plan_round, organisation, every)
    draft_save(actor=approver, submission=submission, cells=cells, source="bench")
    _tables(approver, submission, tables)
    narrative_save(actor=approver, submission=submission, section_code="summary",
                   text="Bench plan.")  # fmt: skip
    return submission


def _edit(approver, submission: Submission, n: int) -> None:
    """Between submissions a trust changes a handful of figures: recall, change, untimed."""
    submission.refresh_from_db()
    if submission.status == Submission.Status.SUBMITTED:
        submission_recall(actor=approver, submission=submission)
    draft = Version.objects.get(submission=submission, number=0)
    values = Value.objects.filter(version=draft, counterparty=None, line__provided=False)
    changed = [
        CellInput(line=code, month=month, value=value + n + 1)
        for code, month, value in values.filter(line__fed_by="")
        .order_by("line__code", "month")
        .values_list("line__code", "month", "value")[:10]
    ]
    draft_save(actor=approver, submission=submission, cells=changed, source="bench")


def _baseline(draft: Version, number: int) -> float:
    """The bare SQL freeze of the draft, committed; its version then removed (untimed)."""
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(BASELINE_SQL[0], {"number": number, "draft": draft.pk})
        new = cursor.fetchone()[0]
        for sql in BASELINE_SQL[1:]:
            cursor.execute(sql, {"new": new, "draft": draft.pk})
    elapsed = time.perf_counter() - started
    Version.objects.filter(pk=new).delete()
    return elapsed


@unattended("a benchmark: its trust is not there to type a code")
def run(repeats: int = 20) -> dict:
    plan_round, organisation = _setup()
    approver = board_approver(organisation)
    submission = _ready(plan_round, organisation, approver)
    draft = Version.objects.get(submission=submission, number=0)
    values = Value.objects.filter(version=draft).count()
    board = timezone.localdate() - dt.timedelta(days=7)
    ours, base = [], []
    for n in range(repeats + 1):
        _edit(approver, submission, n)
        started = time.perf_counter()
        version = submission_submit(actor=approver, submission=submission,
                                    board_approval_date=board, confirmed=True)  # fmt: skip
        elapsed = time.perf_counter() - started
        # A fast submission that froze less than the draft would be no result.
        frozen = Value.objects.filter(version=version).count()
        if frozen != values:
            raise SystemExit(f"Version {version.number} froze {frozen} figures, not {values}.")
        base_elapsed = _baseline(draft, 100_000 + n)
        if n:  # the first of each is untimed: caches warm, as on a live server
            ours.append(elapsed)
            base.append(base_elapsed)
    ours.sort()
    p95 = ours[max(0, int(round(0.95 * len(ours))) - 1)]
    seconds, baseline = statistics.median(ours), statistics.median(base)
    return {
        "bench": "submit",
        "values": values,
        "template": plan_round.template_version.label,
        "repeats": repeats,
        "seconds": round(seconds, 4),
        "p95_ms": round(p95 * 1000, 1),
        "baseline_seconds": round(baseline, 4),
        "ratio": round(seconds / baseline, 2),
        "ours": "submission_submit, committed: checks and readiness, the draft frozen as a "
        "new version (figures, schemes, narrative), its year totals stored, the changes "
        "since the last version, the audit record, the recalculation queued",
        "baseline": "plain SQL, committed: a new version row, the draft's figures, "
        "narratives and scheme rows copied into it, and its year totals stored",
    }
