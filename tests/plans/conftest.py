"""A planning round over the built-in template, on top of the shared world."""

import datetime as dt

import pytest
from django.utils import timezone

from plans.models import PlanningRound
from plans.services import round_save, submission_start, template_load


def make_round(**overrides) -> PlanningRound:
    version, _ = template_load()
    now = timezone.now()
    fields = {
        "name": "2026/27 operational plan",
        "slug": "2026-27",
        "financial_year": 2026,
        "template_version": version,
        "draft_deadline": now + dt.timedelta(days=20),
        "final_deadline": now + dt.timedelta(days=40),
    } | overrides
    return round_save(actor=None, plan_round=PlanningRound(**fields))


@pytest.fixture
def plan_round(world):
    return make_round()


@pytest.fixture
def submission(world, plan_round):
    """Alpha's (org A's) submission, started by its preparer."""
    return submission_start(
        actor=world.people["member"], plan_round=plan_round, organisation=world.org_a
    )


def submit_plan(organisation, cells, approver=None):
    """Start, fill and submit an organisation's plan in the (only) round, as its approver."""
    import datetime as dt

    from demo.synthetic import board_approver
    from plans.services import draft_save, narrative_save, submission_submit

    plan_round = PlanningRound.objects.get()
    approver = approver or board_approver(organisation)
    submission = submission_start(actor=approver, plan_round=plan_round, organisation=organisation)
    draft_save(actor=approver, submission=submission, cells=cells)
    narrative_save(actor=approver, submission=submission, section_code="summary", text="Plan")
    submission_submit(
        actor=approver, submission=submission, board_approval_date=dt.date.today(), confirmed=True
    )
    return submission
