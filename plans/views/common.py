"""What the planning pages share: finding the round and submission, permissions in context."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django_htmx.http import HttpResponseClientRedirect

from accounts import policy
from accounts.models import Organisation
from accounts.selectors import system_get
from payments import selectors as payments_selectors
from payments.calculations.positions import Position
from plans import selectors
from plans.grid import Grid
from plans.models import Line, PlanningRound, Submission


def round_and_system(request, slug: str, code: str):
    """The round and system a page is about, through the selectors (an outsider gets 404)."""
    return selectors.round_get(request.user, slug), system_get(request.user, code)


@dataclass
class PlanContext:
    """The round, organisation and (if visible) submission a page is about, and what the
    person may do with it."""

    round: PlanningRound
    organisation: Organisation
    submission: Submission | None
    can_edit: bool
    can_submit: bool
    can_decide: bool
    can_comment: bool
    is_own: bool

    def as_dict(self) -> dict:
        return {
            "round": self.round,
            "organisation": self.organisation,
            "submission": self.submission,
            "can_edit": self.can_edit,
            "can_submit": self.can_submit,
            "can_decide": self.can_decide,
            "can_comment": self.can_comment,
            "is_own": self.is_own,
        }


def plan_context(request, slug: str, ods_code: str) -> PlanContext:
    """404 unless the person may see the organisation; the submission is None when there is
    none they may see (not started, or a partner's plan not yet submitted)."""
    plan_round = selectors.round_get(request.user, slug)
    organisation, submission = selectors.submission_find(request.user, plan_round, ods_code)
    user = request.user
    editable = submission is None or submission.is_editable
    return PlanContext(
        round=plan_round,
        organisation=organisation,
        submission=submission,
        can_edit=policy.can_edit_draft(user, organisation) and editable,
        can_submit=policy.can_submit(user, organisation),
        can_decide=policy.can_decide_submission(user, organisation),
        can_comment=policy.can_comment(user, organisation),
        is_own=policy.can_view_drafts(user, organisation),
    )


def version_for(request, ctx: PlanContext):
    """The version a page shows: ?version=N, else the draft (own) or the latest submitted."""
    if ctx.submission is None:
        if ctx.is_own:
            return None
        raise Http404("No submitted plan.")
    number = request.GET.get("version")
    if number is not None:
        try:
            return selectors.version_get(request.user, ctx.submission, int(number))
        except ValueError:
            raise Http404("No such version.") from None
    version = selectors.default_version(request.user, ctx.submission)
    if version is None:
        raise Http404("No submitted plan.")
    return version


def compared_with(request, ctx, version):
    """What a version is shown against: the draft against the last submitted version, a
    submitted version against the one before it."""
    if version is None or ctx.submission is None:
        return None
    earlier = [
        v
        for v in selectors.versions_visible(request.user, ctx.submission)
        if v.number > 0 and (version.is_draft or v.number < version.number)
    ]
    return earlier[-1] if earlier else None


def plan_position(request, ctx, grid: Grid):
    """For a section holding the surplus line: the organisation's control total, this plan's
    surplus and the difference, at the top of the grid."""
    row = next((r for r in grid.rows if r.line.role == Line.Role.SURPLUS), None)
    if row is None:
        return None
    control_total = payments_selectors.control_total_of(request.user, ctx.round, ctx.organisation)
    surplus = row.total if row.total is not None else Decimal(0)
    # The same worked-out position as the control totals page (payments.calculations).
    position = Position(ctx.organisation.ods_code, control_total, surplus)
    return {"control_total": control_total, "surplus": surplus, "against": position.variance}


def queued_page(request, queued, *, stored_url: str, page) -> HttpResponse:
    """The page of a file left with the worker. While it is being checked: the upload page
    with its progress; each second htmx asks again, and gets the progress only when it has
    moved (204 otherwise, so a screen reader is not told the same thing every second). Once
    stored: on to `stored_url`, with the message (once). Once refused: `page(received)`, the
    upload page with every reason, as a small file's refusal is shown."""
    from plans.services.receiving import INTERRUPTED, Received, give_up

    if queued.interrupted and give_up(queued):
        queued.refresh_from_db()
    if not queued.finished:
        if request.htmx and request.GET.get("part") == "progress":
            if request.GET.get("seen") == queued.progress_key:
                return HttpResponse(status=204)
            return render(request, "plans/includes/upload_progress_now.html", {"queued": queued})
        return page(None)
    received = Received(
        queued.state == queued.State.STORED,
        queued.message or INTERRUPTED,
        queued.problems,
        offer_replace=queued.offer_replace,
        problem_count=queued.problem_count,
    )
    if received.stored:
        # Told once: a second look (Back, or a poll already on its way) is not a second save.
        if type(queued).objects.filter(pk=queued.pk, told=False).update(told=True):
            messages.success(request, received.message)
        if request.htmx:
            return HttpResponseClientRedirect(stored_url)
        return redirect(stored_url)
    if request.htmx:  # the whole page, with the reasons and the form again
        return HttpResponseClientRedirect(request.path)
    return page(received)
