"""Reads of planning data, scoped to the person asking through accounts.policy."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404

from accounts import policy
from accounts.models import Membership, Organisation, Role
from accounts.selectors import organisation_get
from plans.calculations import CellKey, LineSpec, change_totals, diff
from plans.models import (
    CellChange,
    Comment,
    Line,
    MonthlyReturn,
    Narrative,
    PlanningRound,
    ReturnVersion,
    Section,
    Submission,
    SystemSubmission,
    Upload,
    Value,
    Version,
)

if TYPE_CHECKING:
    from accounts.policy import AnyUser


def rounds_visible_to(user: AnyUser) -> QuerySet[PlanningRound]:
    """Rounds are national: everyone signed in sees them."""
    if not user.is_authenticated:
        return PlanningRound.objects.none()
    # Without the template's definition: hundreds of kilobytes of JSON, parsed on every page.
    rounds = PlanningRound.objects.select_related("template_version__template")
    return rounds.defer("template_version__definition")


def current_round(user: AnyUser) -> PlanningRound | None:
    """The round people are working on: the latest financial year's, the one closing last."""
    return rounds_visible_to(user).order_by("-financial_year", "-final_deadline").first()


def my_places(user: AnyUser) -> list[tuple[str, str]]:
    """The header's shortcuts, (label, URL), in the current round: "My plan" for each
    organisation the person works in, "My system plan" for each system they lead or view,
    "My region" for each region they review. One of a kind is named by its label alone."""
    from django.urls import reverse

    plan_round = current_round(user)
    if plan_round is None:
        return []
    memberships = list(
        Membership.objects.filter(user=user).select_related("organisation", "system", "region")
    )
    places = []
    for label, attr, url_name, key in (
        ("My plan", "organisation", "plan_detail", "ods_code"),
        ("My system plan", "system", "system_plan", "code"),
        ("My region", "region", "region_systems", "code"),
    ):
        found = {getattr(getattr(m, attr), key): getattr(m, attr) for m in memberships
                 if getattr(m, attr) is not None}  # fmt: skip
        for code, place in sorted(found.items()):
            name = label if len(found) == 1 else f"{label}: {place.name}"
            places.append((name, reverse(url_name, args=[plan_round.slug, code])))
    return places


def round_get(user: AnyUser, slug: str) -> PlanningRound:
    try:
        return rounds_visible_to(user).get(slug=slug)
    except PlanningRound.DoesNotExist:
        raise Http404("No such planning round.") from None


def submissions_visible_to(user: AnyUser) -> QuerySet[Submission]:
    """Own organisations' submissions, and partners' once they have submitted something."""
    own = policy.member_organisation_ids(user)
    has_submitted = Exists(Version.objects.filter(submission=OuterRef("pk"), number__gt=0))
    return (
        Submission.objects.filter(
            organisation__in=Organisation.objects.filter(policy.organisations_q(user))
        )
        .filter(Q(organisation_id__in=own) | Q(has_submitted))
        .select_related("organisation", "organisation__system", "round")
    )


def submission_find(
    user: AnyUser, plan_round: PlanningRound, ods_code: str
) -> tuple[Organisation, Submission | None]:
    """The organisation (404 if not visible) and its submission for the round, if it has one
    the person may see."""
    organisation = organisation_get(user, ods_code)
    submission = (
        submissions_visible_to(user).filter(round=plan_round, organisation=organisation).first()
    )
    return organisation, submission


def submission_get(user: AnyUser, plan_round: PlanningRound, ods_code: str) -> Submission:
    _, submission = submission_find(user, plan_round, ods_code)
    if submission is None:
        raise Http404("No such submission.")
    return submission


def versions_visible(user: AnyUser, submission: Submission) -> QuerySet[Version]:
    versions = submission.versions.select_related("created_by").order_by("number")
    if not policy.can_view_drafts(user, submission.organisation):
        versions = versions.filter(number__gt=0)
    return versions


def version_get(user: AnyUser, submission: Submission, number: int) -> Version:
    version = versions_visible(user, submission).filter(number=number).first()
    if version is None:
        raise Http404("No such version.")
    return version


def default_version(user: AnyUser, submission: Submission) -> Version | None:
    """What to show first: the draft to the organisation's own people, else the latest
    submitted version."""
    versions = versions_visible(user, submission)
    if policy.can_view_drafts(user, submission.organisation):
        return versions.filter(number=0).first()
    return versions.order_by("-number").first()


def lines_for(template_version_id: int, kind: str) -> QuerySet[Line]:
    """The lines an organisation of this kind completes, in template order."""
    return (
        Line.objects.filter(
            section__template_version_id=template_version_id, kinds__contains=[kind]
        )
        .select_related("section")
        .order_by("section__position", "position")
    )


def counterparties_for(
    organisation: Organisation, counterparty: str, only: Sequence[str] = ()
) -> list[Organisation]:
    """The partners in the organisation's system a counterparty line has one row for: every
    commissioner or provider, or `only` those kinds of them (the line's counterparty_kinds)."""
    if counterparty == "commissioner":
        kinds = [str(Organisation.Kind.COMMISSIONER)]
    elif counterparty == "provider":
        kinds = [str(k) for k in Organisation.PROVIDER_KINDS]
    else:
        return []
    if only:
        kinds = [k for k in kinds if k in only]
    return list(
        Organisation.objects.filter(system_id=organisation.system_id, kind__in=kinds)
        .exclude(pk=organisation.pk)
        .order_by("name")
    )


def partners_of(organisation: Organisation, line: Line, known: dict | None = None) -> list:
    """The partners a counterparty line has a row for, for this organisation (`known` keeps
    them for the next line with the same counterparty and kinds)."""
    key = (line.counterparty, tuple(line.counterparty_kinds or ()))
    if known is not None and key in known:
        return known[key]
    found = counterparties_for(organisation, line.counterparty, line.counterparty_kinds or ())
    if known is not None:
        known[key] = found
    return found


def line_spec(line: Line) -> LineSpec:
    return LineSpec(
        code=line.code,
        label=line.label,
        unit=line.unit,
        sign=line.sign,
        minimum=line.minimum,
        maximum=line.maximum,
        formula=tuple((int(c), str(ref)) for c, ref in line.formula) if line.formula else None,
        role=line.role,
    )


def version_cells(version: Version) -> dict[CellKey, Decimal]:
    """All figures of a version, keyed by (line code, counterparty id, month)."""
    rows = Value.objects.filter(version=version).values_list(
        "line__code", "counterparty_id", "month", "value"
    )
    return {(code, cp, month): value for code, cp, month, value in rows}


def version_narratives(version: Version) -> dict[str, str]:
    return dict(Narrative.objects.filter(version=version).values_list("section__code", "text"))


def comments_for(user: AnyUser, submission: Submission) -> QuerySet[Comment]:
    if not policy.can_read_comments(user, submission.organisation):
        raise Http404("No such submission.")
    return submission.comments.select_related("author", "line", "parent")


def version_diff(user: AnyUser, submission: Submission, a: int, b: int) -> dict:
    """What changed from version a to version b: each changed cell and the net change by unit."""

    first, second = version_get(user, submission, a), version_get(user, submission, b)
    changes = diff(version_cells(first), version_cells(second))
    codes = {c.key[0] for c in changes}
    counterparty_ids = {c.key[1] for c in changes if c.key[1]}
    lines = {
        line.code: line
        for line in Line.objects.filter(
            section__template_version_id=submission.round.template_version_id, code__in=codes
        ).select_related("section")
    }
    ods = dict(Organisation.objects.filter(pk__in=counterparty_ids).values_list("pk", "ods_code"))
    return {
        "from_version": a,
        "to_version": b,
        "changes": [
            {
                "line": c.key[0],
                "label": lines[c.key[0]].label if c.key[0] in lines else c.key[0],
                "section": lines[c.key[0]].section.name if c.key[0] in lines else "",
                "unit": lines[c.key[0]].unit if c.key[0] in lines else "",
                "counterparty": ods.get(c.key[1]) if c.key[1] else None,
                "month": c.key[2],
                "before": c.before,
                "after": c.after,
                "delta": c.delta,
            }
            for c in changes
        ],
        "totals": change_totals(changes, {code: line.unit for code, line in lines.items()}),
    }


def version_rows(version: Version) -> list[dict]:
    """A version's figures as rows for the API and exports (counterparties by ODS code)."""
    rows = (
        Value.objects.filter(version=version)
        .order_by("line__section__position", "line__position", "counterparty__ods_code", "month")
        .values_list("line__code", "counterparty__ods_code", "month", "value")
    )
    return [
        {"line": code, "counterparty": cp, "month": month, "value": value}
        for code, cp, month, value in rows
    ]


def sections_for(template_version_id: int, kind: str) -> list:
    """The sections an organisation of this kind completes: grids with at least one of its
    lines, and narratives and tables meant for it."""

    with_lines = set(
        Line.objects.filter(
            section__template_version_id=template_version_id, kinds__contains=[kind]
        )
        .values_list("section_id", flat=True)
        .distinct()
    )
    return [
        section
        for section in Section.objects.filter(template_version_id=template_version_id).order_by(
            "position"
        )
        if section.pk in with_lines or (section.kind != Section.Kind.GRID and kind in section.kinds)
    ]


def attention_for(user: AnyUser, now=None) -> list[dict[str, str]]:
    """Plans that need this person: returned or due (their organisations), awaiting their
    decision (system leads)."""
    import datetime as dt

    from django.urls import reverse
    from django.utils import timezone

    now = now or timezone.now()
    rounds = list(PlanningRound.objects.filter(final_deadline__gt=now - dt.timedelta(days=30)))
    working = policy.member_organisation_ids(user, (Role.ORG_PREPARER, Role.ORG_APPROVER))
    led = policy.system_ids_with_role(user, (Role.SYSTEM_LEAD,))
    if not rounds or not (working or led):
        return []
    submissions = {
        (s.round_id, s.organisation_id): s
        for s in Submission.objects.filter(round__in=rounds)
        .filter(Q(organisation_id__in=working) | Q(organisation__system_id__in=led))
        .select_related("organisation", "round")
    }
    items = []

    def item(
        title: str,
        detail: str,
        plan_round: PlanningRound,
        organisation: Organisation,
        due: dt.datetime | None = None,
    ) -> None:
        url = reverse("plan_detail", args=[plan_round.slug, organisation.ods_code])
        items.append(
            {"title": f"{organisation.name}: {title}", "detail": detail, "url": url, "due": due}
        )

    own = list(Organisation.objects.filter(pk__in=working).order_by("name"))
    for plan_round in rounds:
        for organisation in own:
            submission = submissions.get((plan_round.pk, organisation.pk))
            if submission and submission.status == Submission.Status.RETURNED:
                item(
                    "plan returned by the system lead",
                    f"{plan_round.name}. Read the reason and resubmit.",
                    plan_round,
                    organisation,
                    plan_round.final_deadline,
                )
            elif (submission is None or submission.is_editable) and plan_round.final_deadline > now:
                # Both deadlines, each dated: the draft one (marked once it has passed, while
                # the plan is still not in) and the final one.
                submitted_before = (
                    submission is not None and submission.versions.filter(number__gt=0).exists()
                )
                if not submitted_before:
                    item(
                        "draft plan due",
                        f"{plan_round.name}: the draft goes to the system lead by then.",
                        plan_round,
                        organisation,
                        plan_round.draft_deadline,
                    )
                item(
                    "final plan due",
                    f"{plan_round.name}, approved by the board and submitted.",
                    plan_round,
                    organisation,
                    plan_round.final_deadline,
                )
        for (round_id, _), submission in submissions.items():
            organisation = submission.organisation
            if (
                round_id == plan_round.pk
                and organisation.system_id in led
                and submission.status == Submission.Status.SUBMITTED
            ):
                item(
                    "plan waiting for your decision",
                    f"{plan_round.name}. Read its figures, then accept it or return it.",
                    plan_round,
                    organisation,
                    plan_round.final_deadline,
                )
    return items


def upload_get(user: AnyUser, upload_id: object) -> Upload:
    """A file left with the worker, for its page (404 to anyone but its uploader)."""
    found = Upload.objects.filter(policy.uploads_q(user), pk=upload_id).first()
    if found is None:
        raise Http404("No such upload.")
    return found


# --- monthly returns --------------------------------------------------------------------------


def returns_visible_to(user: AnyUser) -> QuerySet[MonthlyReturn]:
    """Own organisations' returns, and partners' once they have submitted one (open book)."""
    own = policy.member_organisation_ids(user)
    has_submitted = Exists(
        ReturnVersion.objects.filter(monthly_return=OuterRef("pk"), number__gt=0)
    )
    return (
        MonthlyReturn.objects.filter(
            organisation__in=Organisation.objects.filter(policy.organisations_q(user))
        )
        .filter(Q(organisation_id__in=own) | Q(has_submitted))
        .select_related("organisation", "organisation__system", "round")
    )


def return_get(
    user: AnyUser, plan_round: PlanningRound, ods_code: str, month: int
) -> MonthlyReturn:
    organisation = organisation_get(user, ods_code)
    found = (
        returns_visible_to(user)
        .filter(round=plan_round, organisation=organisation, month=month)
        .first()
    )
    if found is None:
        raise Http404("No such return.")
    return found


def return_versions_visible(user: AnyUser, monthly_return: MonthlyReturn) -> QuerySet:
    versions = monthly_return.versions.select_related("created_by").order_by("number")
    if not policy.can_view_drafts(user, monthly_return.organisation):
        versions = versions.filter(number__gt=0)
    return versions


def latest_submitted_returns(
    user: AnyUser, returns: list[MonthlyReturn]
) -> dict[int, ReturnVersion]:
    """Each return's latest submitted version (submitted versions are open book to whoever
    sees the return), with its figures, in two queries however many returns there are."""
    visible = returns_visible_to(user).filter(pk__in=[r.pk for r in returns])
    versions = (
        ReturnVersion.objects.filter(monthly_return__in=visible, number__gt=0)
        .select_related("created_by")
        .prefetch_related("values__line")
        .order_by("monthly_return_id", "-number")
        .distinct("monthly_return_id")
    )
    return {v.monthly_return_id: v for v in versions}


def return_version_shown(
    user: AnyUser, monthly_return: MonthlyReturn, number: int | None = None
) -> ReturnVersion:
    """?version=N if visible, else the draft to the organisation's own, else the latest."""
    versions = return_versions_visible(user, monthly_return)
    if number is not None:
        version = versions.filter(number=number).first()
    elif policy.can_view_drafts(user, monthly_return.organisation):
        version = versions.filter(number=0).first()
    else:
        version = versions.order_by("-number").first()
    if version is None:
        raise Http404("No such version.")
    return version


def system_plan_attention(user: AnyUser) -> list[dict[str, str]]:
    """System plans waiting on this person: submitted ones for the region's reviewers to
    review, returned ones for the system lead to resubmit."""
    from django.urls import reverse

    leads = policy.system_ids_with_role(user, (Role.SYSTEM_LEAD,))
    regions = policy.reviewed_region_ids(user)
    if not (leads or regions):
        return []
    S = SystemSubmission.Status
    items = []
    for submission in SystemSubmission.objects.filter(
        Q(status=S.SUBMITTED, system__region_id__in=regions)
        | Q(status=S.RETURNED, system_id__in=leads)
    ).select_related("round", "system"):
        returned = submission.status == S.RETURNED
        items.append(
            {
                "title": f"{submission.system.name}: system plan "
                + ("returned by the region" if returned else "waiting for your review"),
                "detail": f"{submission.round.name}. "
                + (
                    "Read the reasons, then resubmit."
                    if returned
                    else "Approve it or return it with reasons."
                ),
                "url": reverse("system_plan", args=[submission.round.slug, submission.system.code]),
            }
        )
    return items


def draft_changes(
    user: AnyUser, submission: Submission, section: Section | None = None
) -> QuerySet[CellChange]:
    """Changes to the working draft's figures, newest first (its private history: only the
    organisation's own people see it)."""
    if not policy.can_view_drafts(user, submission.organisation):
        raise Http404("No such plan.")
    changes = CellChange.objects.filter(
        version__submission=submission, version__number=0
    ).select_related("edit__actor", "line", "counterparty")
    if section is not None:
        changes = changes.filter(line__section=section)
    return changes.order_by("-edit__revision", "line__position", "counterparty__name", "month")


def cell_history(
    user: AnyUser,
    submission: Submission,
    line: Line,
    counterparty_id: int | None,
    month: int,
) -> QuerySet[CellChange]:
    """One figure's changes in the working draft, newest first."""
    return draft_changes(user, submission).filter(
        line=line, counterparty_id=counterparty_id, month=month
    )
