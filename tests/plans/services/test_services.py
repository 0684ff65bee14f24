"""Drafts and the submission workflow: every allowed and forbidden transition, conflicts,
all-or-nothing saves, idempotency, audit."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from demo.synthetic import plan_cells
from openbook.errors import Conflict, ProblemList
from openbook.models import AuditEvent
from plans import selectors
from plans.cells import CellInput
from plans.models import Comment, Submission, Value
from plans.services import (
    comment_add,
    draft_save,
    narrative_save,
    submission_accept,
    submission_recall,
    submission_return,
    submission_start,
    submission_submit,
)

pytestmark = pytest.mark.django_db
D = Decimal
YESTERDAY = dt.date.today() - dt.timedelta(days=1)


def complete(world, submission):
    """Fill every input cell and the narratives, as the preparer."""
    draft_save(
        actor=world.people["member"],
        submission=submission,
        cells=plan_cells(submission.round, world.org_a),
    )
    narrative_save(
        actor=world.people["member"],
        submission=submission,
        section_code="summary",
        text="Our plan.",
    )


def submit(world, submission, **kwargs):
    return submission_submit(
        actor=world.people["approver"], submission=submission,
        board_approval_date=YESTERDAY, confirmed=True, **kwargs,
    )  # fmt: skip


def test_a_preparer_saves_figures_and_the_surplus_follows(world, submission):
    member = world.people["member"]
    cp = world.commissioner.ods_code
    result = draft_save(
        actor=member,
        submission=submission,
        cells=[
            CellInput("F100", 1, "1,000", counterparty=cp),
            CellInput("F2MEDS", 1, "600"),
            CellInput("F3DRG", 1, "150.5"),
        ],
    )
    assert result.changed == 3
    draft = submission.versions.get(number=0)
    cells = selectors.version_cells(draft)
    from plans.calculations import derive

    lines = [
        selectors.line_spec(line)
        for line in selectors.lines_for(submission.round.template_version_id, "acute")
    ]
    assert derive(lines, cells)[("F900", 1)] == D("249.5")
    assert AuditEvent.objects.filter(action="draft.saved", organisation=world.org_a).count() == 1


def test_saving_the_same_cells_twice_changes_nothing_the_second_time(world, submission):
    cells = [CellInput("F110", m, "10") for m in range(1, 13)]
    first = draft_save(actor=world.people["member"], submission=submission, cells=cells)
    second = draft_save(actor=world.people["member"], submission=submission, cells=cells)
    assert (first.changed, second.changed) == (12, 0)
    assert second.revision == first.revision
    assert AuditEvent.objects.filter(action="draft.saved").count() == 1


def test_one_bad_cell_stores_nothing_and_each_problem_is_named(world, submission):
    cells = [
        CellInput("F110", 1, "10"),
        CellInput("F110", 2, "ten"),
        CellInput("F110", 3, "-5"),
        CellInput("F900", 1, "1"),
        CellInput("F100", 1, "5", counterparty="ZX1"),  # not a commissioner in this system
        CellInput("NOPE", 1, "5"),
        CellInput("F110", 13, "5"),
    ]
    with pytest.raises(ProblemList) as excinfo:
        draft_save(actor=world.people["member"], submission=submission, cells=cells)
    problems = {p["cell"]: p["problem"] for p in excinfo.value.problems}
    assert problems["F110, May"] == "is not a number"
    assert problems["F110, Jun"] == "must be zero or more"
    assert "worked out" in problems["F900, Apr"]
    assert "counterparty" in problems["F100 (ZX1), Apr"]
    assert "no line NOPE" in problems["NOPE, Apr"]
    assert len(problems) == 6
    assert not Value.objects.exists()


def test_a_later_save_of_a_changed_cell_is_refused_showing_both_values(world, submission):
    member, approver = world.people["member"], world.people["approver"]
    draft_save(actor=member, submission=submission, cells=[CellInput("F110", 1, "10")])
    # Both open the grid showing 10; the approver saves 12 first.
    draft_save(
        actor=approver, submission=submission, cells=[CellInput("F110", 1, "12", expected="10")]
    )
    with pytest.raises(Conflict) as excinfo:
        draft_save(
            actor=member, submission=submission, cells=[CellInput("F110", 1, "15", expected="10")]
        )
    assert excinfo.value.conflicts == [{"cell": "F110, Apr", "yours": "15.000", "theirs": "12.000"}]
    assert Value.objects.get().value == D("12")
    # Typing the value the other person saved is not a conflict.
    draft_save(
        actor=member, submission=submission, cells=[CellInput("F110", 1, "12", expected="10")]
    )


def test_clearing_a_cell_removes_the_figure(world, submission):
    draft_save(
        actor=world.people["member"], submission=submission, cells=[CellInput("F110", 1, "10")]
    )
    draft_save(
        actor=world.people["member"], submission=submission, cells=[CellInput("F110", 1, "")]
    )
    assert not Value.objects.exists()


@pytest.mark.parametrize("who", ["viewer", "partner", "lead", "outsider"])
def test_only_preparers_and_approvers_edit_the_draft(world, submission, who):
    with pytest.raises(PermissionDenied):
        draft_save(
            actor=world.people[who], submission=submission, cells=[CellInput("F110", 1, "1")]
        )


def test_submitting_an_incomplete_plan_names_what_is_missing(world, submission):
    with pytest.raises(ProblemList) as excinfo:
        submit(world, submission)
    text = " ".join(p["problem"] for p in excinfo.value.problems)
    assert "F100" in text and "the narrative is empty" in text


def test_submit_freezes_a_version_that_later_edits_do_not_touch(world, submission):
    complete(world, submission)
    version = submit(world, submission)
    submission.refresh_from_db()
    assert submission.status == Submission.Status.SUBMITTED
    assert version.number == 1
    frozen = selectors.version_cells(version)
    assert frozen == selectors.version_cells(submission.versions.get(number=0))
    assert selectors.version_narratives(version) == {"summary": "Our plan."}
    # The draft cannot change while submitted.
    with pytest.raises(ValidationError, match="submitted"):
        draft_save(
            actor=world.people["member"], submission=submission, cells=[CellInput("F110", 1, "1")]
        )
    event = AuditEvent.objects.get(action="submission.submitted")
    assert event.after["version"] == 1
    assert event.after["board_approval_date"] == YESTERDAY.isoformat()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"confirmed": False}, "confirmed"),
        ({"board_approval_date": dt.date.today() + dt.timedelta(days=2)}, "board_approval_date"),
    ],
)
def test_submit_needs_a_past_board_date_and_confirmation(world, submission, kwargs, field):
    complete(world, submission)
    args = {"board_approval_date": YESTERDAY, "confirmed": True} | kwargs
    with pytest.raises(ValidationError) as excinfo:
        submission_submit(actor=world.people["approver"], submission=submission, **args)
    assert field in excinfo.value.message_dict


@pytest.mark.parametrize("who", ["member", "viewer", "lead", "partner"])
def test_only_approvers_submit(world, submission, who):
    complete(world, submission)
    with pytest.raises(PermissionDenied):
        submission_submit(
            actor=world.people[who],
            submission=submission,
            board_approval_date=YESTERDAY,
            confirmed=True,
        )


def test_late_submission_needs_a_reason_and_is_flagged(world, submission):
    complete(world, submission)
    after_deadline = submission.round.final_deadline + dt.timedelta(hours=1)
    with pytest.raises(ValidationError, match="say why"):
        submit(world, submission, now=after_deadline)
    version = submit(world, submission, now=after_deadline, late_reason="Board met late.")
    assert version.late and version.late_reason == "Board met late."
    assert Comment.objects.get(kind=Comment.Kind.LATE_REASON).body == "Board met late."


def test_lead_accepts(world, submission):
    complete(world, submission)
    submit(world, submission)
    submission_accept(actor=world.people["lead"], submission=submission)
    submission.refresh_from_db()
    assert submission.status == Submission.Status.ACCEPTED
    with pytest.raises(ValidationError):
        submission_return(actor=world.people["lead"], submission=submission, reason="late change")
    with pytest.raises(ValidationError):
        submission_recall(actor=world.people["approver"], submission=submission)
    # Editing it says what can be done, which is neither of those.
    with pytest.raises(ValidationError) as refused:
        draft_save(actor=world.people["member"], submission=submission,
                   cells=[CellInput("F110", 1, "5")])  # fmt: skip
    said = " ".join(refused.value.messages)
    assert "can no longer be recalled or returned" in said and "comment on the plan" in said
    assert "An approver can recall it" not in said


def test_a_draft_narrative_edit_stays_in_the_organisations_own_trail(world, submission):
    """A draft is the organisation's own: partners' trail does not show that its narrative
    was edited, nor how long it is."""
    from openbook.models import organisation_chain

    complete(world, submission)
    event = AuditEvent.objects.get(action="draft.narrative_saved")
    assert event.chain == organisation_chain(world.org_a.pk)


def test_lead_returns_with_a_reason_which_becomes_a_comment_and_a_new_version_follows(
    world, submission
):
    complete(world, submission)
    submit(world, submission)
    with pytest.raises(ValidationError):
        submission_return(actor=world.people["lead"], submission=submission, reason="  ")
    submission_return(
        actor=world.people["lead"], submission=submission, reason="Income does not match the ICB."
    )
    submission.refresh_from_db()
    assert submission.status == Submission.Status.RETURNED
    assert (
        submission.comments.get(kind=Comment.Kind.RETURN_REASON).body
        == "Income does not match the ICB."
    )
    draft_save(
        actor=world.people["member"], submission=submission, cells=[CellInput("F110", 1, "999")]
    )
    second = submit(world, submission)
    assert second.number == 2
    assert (
        AuditEvent.objects.get(action="submission.returned").reason
        == "Income does not match the ICB."
    )


@pytest.mark.parametrize("who", ["approver", "member", "partner", "other_lead", "reviewer"])
def test_only_the_systems_lead_decides(world, submission, who):
    complete(world, submission)
    submit(world, submission)
    with pytest.raises(PermissionDenied):
        submission_accept(actor=world.people[who], submission=submission)


def test_recall_before_the_lead_acts_and_before_the_deadline(world, submission):
    complete(world, submission)
    submit(world, submission)
    with pytest.raises(PermissionDenied):
        submission_recall(actor=world.people["member"], submission=submission)
    late = submission.round.final_deadline + dt.timedelta(minutes=1)
    with pytest.raises(ValidationError, match="deadline has passed"):
        submission_recall(actor=world.people["approver"], submission=submission, now=late)
    submission_recall(actor=world.people["approver"], submission=submission)
    submission.refresh_from_db()
    assert submission.status == Submission.Status.DRAFT
    with pytest.raises(ValidationError):
        submission_recall(actor=world.people["approver"], submission=submission)


def test_cannot_accept_a_draft(world, submission):
    with pytest.raises(ValidationError):
        submission_accept(actor=world.people["lead"], submission=submission)


def test_open_book_partners_see_submitted_versions_never_drafts(world, submission):
    partner = world.people["partner"]
    assert not selectors.submissions_visible_to(partner).filter(pk=submission.pk).exists()
    complete(world, submission)
    submit(world, submission)
    assert selectors.submissions_visible_to(partner).filter(pk=submission.pk).exists()
    assert [v.number for v in selectors.versions_visible(partner, submission)] == [1]
    assert [v.number for v in selectors.versions_visible(world.people["viewer"], submission)] == [
        0,
        1,
    ]
    assert (
        not selectors.submissions_visible_to(world.people["outsider"])
        .filter(pk=submission.pk)
        .exists()
    )


def test_comments_thread_on_lines(world, submission):
    first = comment_add(
        actor=world.people["member"], submission=submission, body="Check F110", line_code="F110"
    )
    reply = comment_add(
        actor=world.people["approver"], submission=submission, body="Done", parent=first
    )
    assert reply.parent == first and first.line.code == "F110"
    with pytest.raises(PermissionDenied):
        comment_add(actor=world.people["outsider"], submission=submission, body="Hello")
    with pytest.raises(ValidationError):
        comment_add(actor=world.people["member"], submission=submission, body="x", line_code="ZZZ")


def test_only_the_organisation_starts_its_plan(world, plan_round):
    with pytest.raises(PermissionDenied):
        submission_start(
            actor=world.people["lead"], plan_round=plan_round, organisation=world.org_a
        )


def test_a_plan_left_without_its_draft_gets_one_when_started_again(world, plan_round):
    """A crash used to be able to leave a plan with no draft, and then every save failed."""
    Submission.objects.create(round=plan_round, organisation=world.org_a)  # as the crash left it
    submission = submission_start(
        actor=world.people["member"], plan_round=plan_round, organisation=world.org_a
    )
    assert submission.versions.filter(number=0).count() == 1
    result = draft_save(actor=world.people["member"], submission=submission,
                        cells=[CellInput(line="F110", month=1, value="5")])  # fmt: skip
    assert result.changed == 1


def test_a_changed_template_version_is_refused(tmp_path, db):
    from plans.services import BUILTIN_TEMPLATE, template_load

    template_load()
    changed = tmp_path / "changed.yaml"
    changed.write_text(
        BUILTIN_TEMPLATE.read_text().replace("Other operating income", "Other income")
    )
    with pytest.raises(ValidationError, match="new version number"):
        template_load(path=changed)


def test_timezone_is_aware(plan_round):
    assert timezone.is_aware(plan_round.final_deadline)


def test_an_edit_arriving_after_the_plan_was_submitted_is_refused(world, submission):
    complete(world, submission)
    stale = Submission.objects.get(pk=submission.pk)  # loaded while still a draft
    submit(world, submission)
    with pytest.raises(ValidationError, match="submitted"):
        draft_save(
            actor=world.people["member"], submission=stale, cells=[CellInput("F110", 1, "1")]
        )


def test_a_rounds_template_cannot_change_once_plans_have_started(world, submission):
    from plans.models import Template, TemplateVersion
    from plans.services import round_save

    other = TemplateVersion.objects.create(
        template=Template.objects.create(code="other", name="Other"),
        number=1,
        definition={},
        checksum="x",
    )
    plan_round = submission.round
    plan_round.template_version = other
    with pytest.raises(ValidationError, match="changes only by a revision"):
        round_save(actor=None, plan_round=plan_round)


def test_each_line_carries_help_and_a_reload_brings_it_up_to_date(plan_round):
    from plans.models import Line
    from plans.services import template_load

    line = Line.objects.get(section__template_version=plan_round.template_version, code="F2MEDB")
    assert "bank" in line.help
    checksum = plan_round.template_version.checksum
    Line.objects.filter(pk=line.pk).update(help="Out of date.")
    version, created = template_load()
    assert not created and version.checksum == checksum
    line.refresh_from_db()
    assert "bank" in line.help


def test_a_resubmissions_audit_lists_its_changes_as_a_diff_of_the_two_versions(world, submission):
    """The database finds the changes (plans.queries.changes_between); they are what
    plans.calculations.diff finds in the two versions' figures, cleared, new and changed."""
    from plans.calculations import diff

    complete(world, submission)
    first = submit(world, submission)
    submission_recall(actor=world.people["approver"], submission=submission)
    cp = world.commissioner.ods_code
    draft_save(
        actor=world.people["member"],
        submission=submission,
        cells=[
            CellInput("F110", 1, "12345.5"),  # changed
            CellInput("F110", 2, None),  # cleared
            CellInput("F100", 3, "7", counterparty=cp),  # changed, by counterparty
        ],
    )
    second = submit(world, submission)
    expected = diff(selectors.version_cells(first), selectors.version_cells(second))
    assert 2 <= len(expected) <= 3  # a cleared line may be required: then it stays
    event = AuditEvent.objects.filter(action="submission.submitted").latest("pk")
    assert event.payload["cells_changed_since_last_version"] == len(expected)
    assert event.payload["changes"] == [
        [c.key[0], c.key[1], c.key[2],
         None if c.before is None else str(c.before), None if c.after is None else str(c.after)]
        for c in expected
    ]  # fmt: skip
    assert event.after["values"] == Value.objects.filter(version=second).count()
    # The first version's audit counts every figure as a change.
    opened = AuditEvent.objects.filter(action="submission.submitted").earliest("pk")
    assert opened.payload["cells_changed_since_last_version"] == opened.after["values"]
