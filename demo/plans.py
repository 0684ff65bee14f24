"""Demo planning data: the built-in template (its current version), a round, and plans at
every stage.

Borsetshire shows the open book working: most partners have submitted, the ICB's plan is
accepted, and Borchester General (whose people are demo logins) has a draft a third done.
Felpersham plans 4% more income from the ICB than the ICB plans to pay it: a mismatch for the
system lead to find before accepting.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import Membership, Organisation, Role
from accounts.second_factor import unattended
from demo.synthetic import board_approver, plan_cells, plan_with_tables, provided_for
from plans.models import Line, PlanningRound, Submission
from plans.services import (
    CURRENT_TEMPLATE,
    draft_save,
    narrative_save,
    round_save,
    submission_accept,
    submission_start,
    submission_submit,
    table_save,
    template_load,
)
from plans.services.provided import provided_save

ROUND_SLUG = "2026-27"
SUBMITTED = ["ZB2", "ZB3", "ZB4", "ZB5", "ZB6", "ZL4"]
ACCEPTED = ["ZB6"]
DRAFTS = {"ZB1": False, "ZL1": False}  # partial drafts
# (line role, counterparty, factor): one provider's income from its commissioner, scaled
MISMATCHED = {"ZB2": (Line.Role.PARTNER_INCOME, "ZB6", Decimal("1.04"))}


def _cells(plan_round, organisation, complete):
    cells = plan_cells(plan_round, organisation, complete=complete)
    if organisation.ods_code not in MISMATCHED:
        return cells
    role, counterparty, factor = MISMATCHED[organisation.ods_code]
    line = Line.objects.get(section__template_version=plan_round.template_version, role=role).code
    return [
        replace(c, value=(Decimal(c.value) * factor).quantize(Decimal("0.001")))
        if c.line == line and c.counterparty == counterparty
        else c
        for c in cells
    ]


@transaction.atomic
@unattended("demo data: its people are not there to type a code")
def seed_plans() -> dict[str, int]:
    made = {"templates": 0, "rounds": 0, "plans": 0}
    version, created = template_load(path=CURRENT_TEMPLATE)
    made["templates"] += created
    plan_round = PlanningRound.objects.filter(slug=ROUND_SLUG).first()
    if plan_round is None:
        now = timezone.now().replace(minute=0, second=0, microsecond=0)
        plan_round = round_save(
            actor=None,
            plan_round=PlanningRound(
                name="2026/27 operational plan",
                slug=ROUND_SLUG,
                financial_year=2026,
                template_version=version,
                draft_deadline=now + dt.timedelta(days=14),
                final_deadline=now + dt.timedelta(days=45),
            ),
        )
        made["rounds"] += 1
    for ods_code in SUBMITTED + list(DRAFTS):
        organisation = Organisation.objects.get(ods_code=ods_code)
        if Submission.objects.filter(round=plan_round, organisation=organisation).exists():
            continue
        approver = board_approver(organisation)
        # NHS England's figures first, so the plan starts with them.
        provided_save(actor=None, plan_round=plan_round,
                      rows=provided_for(plan_round, organisation))  # fmt: skip
        submission = submission_start(
            actor=approver, plan_round=plan_round, organisation=organisation
        )
        complete = ods_code in SUBMITTED
        draft_save(
            actor=approver,
            submission=submission,
            cells=_cells(plan_round, organisation, complete),
            source="demo",
        )
        if complete:  # a draft part way through has not listed its schemes yet
            for code, rows in plan_with_tables(plan_round, organisation)[1].items():
                table_save(actor=approver, submission=submission, section_code=code, rows=rows,
                           started=None, source="demo")  # fmt: skip
        if complete:
            narrative_save(
                actor=approver,
                submission=submission,
                section_code="summary",
                text=f"{organisation.name} plans to deliver its activity within its "
                "financial envelope.",
            )
            submission_submit(
                actor=approver,
                submission=submission,
                board_approval_date=timezone.localdate() - dt.timedelta(days=3),
                confirmed=True,
            )
        if ods_code in ACCEPTED:
            lead = Membership.objects.filter(
                system=organisation.system, role=Role.SYSTEM_LEAD
            ).first()
            submission_accept(
                actor=lead.user,
                submission=submission,
                note="Accepted at the system finance meeting; Felpersham's income from us "
                "is being reconciled.",
            )
        made["plans"] += 1
    return made
