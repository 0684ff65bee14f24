"""The isolation matrix: every route × every kind of person → the status they must get.

Every URL the platform serves appears in ROUTES (or in EXEMPT, with the reason). Each later
capability adds its routes here; test_isolation_matrix fails if a route is missing.

Expectations are written per actor with a default for the rest, so a row reads as the policy:
"a partner in the same system sees it; an outsider from another system gets 404".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# Who is who (see tests/conftest.py): same-system people, then the ones who must see nothing.
SYSTEM_S1 = ["member", "approver", "viewer", "partner", "lead", "system_viewer"]
REGION_R1 = ["reviewer"]
OUTSIDERS = ["outsider", "other_lead", "other_reviewer"]
SIGNED_IN = [*SYSTEM_S1, *REGION_R1, *OUTSIDERS, "admin"]


@dataclass(frozen=True)
class Route:
    """One (URL pattern, method) with the status each actor must get."""

    name: str  # URL pattern name, as in reverse()
    method: str
    url: Callable[[Any], str]  # world → URL
    expect: dict[str, int]
    default: int
    data: Callable[[Any], dict] | None = None  # world → request body
    setup: Callable[[Any], None] | None = None
    api: bool = False
    notes: str = ""
    tags: tuple[str, ...] = field(default_factory=tuple)

    def status_for(self, actor: str) -> int:
        return self.expect.get(actor, self.default)


def _every_choice(frequency: str) -> dict[str, str]:
    from notifications.models import Kind

    return {kind: frequency for kind in Kind.values}


def _lead_notification() -> int:
    from notifications.models import Notification

    return Notification.objects.get(recipient__email="lead@example.nhs.uk").pk


def each(actors: list[str], status: int) -> dict[str, int]:
    return {a: status for a in actors}


LOGIN_REDIRECT = 302
API_ANONYMOUS = 401


def _member_token(world) -> str:
    from accounts.models import PersonalToken

    token = PersonalToken.objects.filter(user=world.people["member"]).first()
    if token is None:
        from accounts.services import token_create

        token, _ = token_create(actor=world.people["member"], name="matrix", lifetime_days=30)
    return token.token_key


def _setup_member_token(world) -> None:
    _member_token(world)


# Pages visible to everybody signed in.
_page_for_everyone = {"anonymous": LOGIN_REDIRECT}
# An object in system S1: its people, the region's reviewers and administrators see it.
_s1_object_page = {"anonymous": LOGIN_REDIRECT, **each(OUTSIDERS, 404)}
_s1_object_api = {"anonymous": API_ANONYMOUS, **each(OUTSIDERS, 404)}

ROUTES: list[Route] = [
    # --- accounts: pages -------------------------------------------------------------
    Route("home", "GET", lambda w: "/", _page_for_everyone, 200),
    Route("organisation_list", "GET", lambda w: "/organisations/", _page_for_everyone, 200),
    Route(
        "organisation_detail",
        "GET",
        lambda w: f"/organisations/{w.org_a.ods_code}/",
        _s1_object_page,
        200,
    ),
    Route("system_detail", "GET", lambda w: f"/systems/{w.s1.code}/", _s1_object_page, 200),
    Route(
        "region_detail",
        "GET",
        lambda w: f"/regions/{w.r1.code}/",
        # People in S2 (same region) see the region page, showing only their own system.
        {"anonymous": LOGIN_REDIRECT, "other_reviewer": 404},
        200,
    ),
    Route("token_list", "GET", lambda w: "/account/tokens/", _page_for_everyone, 200),
    Route(
        "token_list",
        "POST",
        lambda w: "/account/tokens/",
        _page_for_everyone,
        200,
        data=lambda w: {"name": "script", "lifetime_days": "30"},
    ),
    Route(
        "token_revoke",
        "POST",
        lambda w: f"/account/tokens/{_member_token(w)}/revoke/",
        # Only the owner can revoke; to anyone else the token does not exist.
        {"anonymous": LOGIN_REDIRECT, "member": 302},
        404,
        setup=_setup_member_token,
    ),
    Route(
        "places_set",
        "POST",
        lambda w: "/account/places/",
        _page_for_everyone,
        302,
        data=lambda w: {"more": "1", "next": "/"},
    ),  # fmt: skip
    # --- notifications: each person's own ------------------------------------------------
    Route(
        "notification_list",
        "GET",
        lambda w: "/notifications/",
        _page_for_everyone,
        200,
        setup=lambda w: _plans_submitted(w),
    ),
    Route(
        "notification_open",
        "GET",
        lambda w: f"/notifications/{_lead_notification()}/",
        # The lead's notification: to anyone else it does not exist.
        {"anonymous": LOGIN_REDIRECT, "lead": 302},
        404,
        setup=lambda w: _plans_submitted(w),
    ),
    Route("notifications_read", "POST", lambda w: "/notifications/read/", _page_for_everyone, 302),
    Route(
        "notification_settings",
        "GET",
        lambda w: "/notifications/settings/",
        _page_for_everyone,
        200,
    ),
    Route(
        "notification_settings",
        "POST",
        lambda w: "/notifications/settings/",
        _page_for_everyone,
        302,
        data=lambda w: _every_choice("daily"),
    ),
    # --- accounts: API ----------------------------------------------------------------
    Route("api_me", "GET", lambda w: "/api/v1/me/", {"anonymous": API_ANONYMOUS}, 200, api=True),
    Route(
        "membership-list",
        "GET",
        lambda w: "/api/v1/memberships/",
        {"anonymous": API_ANONYMOUS},
        200,
        api=True,
    ),
    Route(
        "membership-detail",
        "GET",
        lambda w: f"/api/v1/memberships/{w.people['member'].memberships.first().pk}/",
        {"anonymous": API_ANONYMOUS, "member": 200},
        404,
        api=True,
        notes="a membership is visible to its holder only",
    ),
    Route(
        "organisation-list",
        "GET",
        lambda w: "/api/v1/organisations/",
        {"anonymous": API_ANONYMOUS},
        200,
        api=True,
    ),
    Route(
        "organisation-detail",
        "GET",
        lambda w: f"/api/v1/organisations/{w.org_a.ods_code}/",
        _s1_object_api,
        200,
        api=True,
    ),
    Route(
        "system-list",
        "GET",
        lambda w: "/api/v1/systems/",
        {"anonymous": API_ANONYMOUS},
        200,
        api=True,
    ),
    Route(
        "system-detail",
        "GET",
        lambda w: f"/api/v1/systems/{w.s1.code}/",
        _s1_object_api,
        200,
        api=True,
    ),
    Route(
        "token-list",
        "GET",
        lambda w: "/api/v1/tokens/",
        {"anonymous": API_ANONYMOUS},
        200,
        api=True,
    ),
    Route(
        "token-list",
        "POST",
        lambda w: "/api/v1/tokens/",
        {"anonymous": API_ANONYMOUS},
        201,
        data=lambda w: {"name": "matrix script", "lifetime_days": 30},
        api=True,
    ),
    Route(
        "token-detail",
        "DELETE",
        lambda w: f"/api/v1/tokens/{_member_token(w)}/",
        {"anonymous": API_ANONYMOUS, "member": 204},
        404,
        setup=_setup_member_token,
        api=True,
    ),
]

# Routes outside the matrix, and why.
EXEMPT = {
    "login": "public: the sign-in page",
    "logout": "ends whatever session there is; tested in test_login",
    "password_change": "acts on the signed-in person only; tested in test_login",
    "password_change_done": "a confirmation page",
    "password_reset": "public by design; tested in test_login",
    "password_reset_done": "public confirmation",
    "password_reset_confirm": "guarded by its one-time token; tested in test_login",
    "password_reset_complete": "public confirmation",
    "healthz": "public health check; tested in test_health",
    "api_schema": "public description of the API; tested by the schemathesis test",
    "api_docs": "public API reference page",
    "api-root": "DRF's index of API links",
}


# --- plans ------------------------------------------------------------------------------------

ROUND = "2026-27"


def _plans_submitted(world) -> None:
    """Org A's plan, complete and submitted (version 1), awaiting the system lead."""
    import datetime as dt

    from plans.services import draft_save, narrative_save, submission_start, submission_submit
    from plans.synthetic import plan_cells
    from tests.plans.conftest import make_round

    plan_round = make_round(slug=ROUND)
    submission = submission_start(
        actor=world.people["member"], plan_round=plan_round, organisation=world.org_a
    )
    draft_save(
        actor=world.people["member"],
        submission=submission,
        cells=plan_cells(plan_round, world.org_a),
    )
    narrative_save(
        actor=world.people["member"], submission=submission, section_code="summary", text="Plan"
    )
    submission_submit(
        actor=world.people["approver"], submission=submission,
        board_approval_date=dt.date.today(), confirmed=True,
    )  # fmt: skip


def _plans_returned(world) -> None:
    """As above, then returned by the lead: editable again, and partners see version 1."""
    from plans.models import Submission
    from plans.services import submission_return

    _plans_submitted(world)
    submission_return(
        actor=world.people["lead"], submission=Submission.objects.get(), reason="Fix it"
    )


def _template_version_id() -> int:
    from plans.models import TemplateVersion

    return TemplateVersion.objects.get().pk


def _sub(world, rest: str = "") -> str:
    return f"/api/v1/rounds/{ROUND}/submissions/{world.org_a.ods_code}/{rest}"


_api_read_a = {"anonymous": API_ANONYMOUS, **each(OUTSIDERS, 404)}
_api_draft_only = {"anonymous": API_ANONYMOUS, "member": 200, "approver": 200, "viewer": 200}
_api_edit = {
    "anonymous": API_ANONYMOUS, **each(OUTSIDERS, 404),
    "member": 200, "approver": 200,
}  # fmt: skip
_api_lead = {"anonymous": API_ANONYMOUS, **each(OUTSIDERS, 404), "lead": 200}
_api_comment = {
    "anonymous": API_ANONYMOUS, **each(OUTSIDERS, 404),
    "member": 201, "approver": 201, "partner": 201, "lead": 201, "reviewer": 201,
}  # fmt: skip

ROUTES += [
    Route("round-list", "GET", lambda w: "/api/v1/rounds/", {"anonymous": API_ANONYMOUS}, 200,
          api=True, setup=_plans_submitted),
    Route("round-detail", "GET", lambda w: f"/api/v1/rounds/{ROUND}/", {"anonymous": API_ANONYMOUS},
          200, api=True, setup=_plans_submitted),
    Route("template-list", "GET", lambda w: "/api/v1/templates/", {"anonymous": API_ANONYMOUS}, 200,
          api=True, setup=_plans_submitted),
    Route("template-detail", "GET",
          lambda w: f"/api/v1/templates/{_template_version_id()}/",
          {"anonymous": API_ANONYMOUS}, 200, api=True, setup=_plans_submitted),
    Route("api_submission_list", "GET", lambda w: f"/api/v1/rounds/{ROUND}/submissions/",
          {"anonymous": API_ANONYMOUS}, 200, api=True, setup=_plans_submitted),
    Route("api_submission_detail", "GET", lambda w: _sub(w), _api_read_a, 200, api=True,
          setup=_plans_submitted),
    Route("api_version_detail", "GET", lambda w: _sub(w, "versions/1/"), _api_read_a, 200,
          api=True, setup=_plans_submitted),
    Route("api_version_detail", "GET", lambda w: _sub(w, "versions/0/"), _api_draft_only, 404,
          api=True, setup=_plans_submitted, notes="the working draft is private"),
    Route("api_draft_values", "PUT", lambda w: _sub(w, "draft/values/"), _api_edit, 403,
          data=lambda w: {"values": [{"line": "F110", "month": 1, "value": "12.5"}]},
          api=True, setup=_plans_returned),
    Route("api_draft_narrative", "PUT", lambda w: _sub(w, "draft/narratives/risks/"),
          {**_api_edit, "member": 204, "approver": 204}, 403,
          data=lambda w: {"text": "Risks"}, api=True, setup=_plans_returned),
    Route("api_submit", "POST", lambda w: _sub(w, "submit/"),
          {"anonymous": API_ANONYMOUS, **each(OUTSIDERS, 404), "approver": 201}, 403,
          data=lambda w: {"board_approval_date": "2026-11-01", "confirmed": True},
          api=True, setup=_plans_returned),
    Route("api_accept", "POST", lambda w: _sub(w, "accept/"), _api_lead, 403, api=True,
          setup=_plans_submitted),
    Route("api_return", "POST", lambda w: _sub(w, "return/"), _api_lead, 403,
          data=lambda w: {"reason": "Please check income"}, api=True, setup=_plans_submitted),
    Route("api_recall", "POST", lambda w: _sub(w, "recall/"),
          {"anonymous": API_ANONYMOUS, **each(OUTSIDERS, 404), "approver": 200}, 403,
          api=True, setup=_plans_submitted),
    Route("api_comments", "GET", lambda w: _sub(w, "comments/"), _api_read_a, 200, api=True,
          setup=_plans_submitted),
    Route("api_comments", "POST", lambda w: _sub(w, "comments/"), _api_comment, 403,
          data=lambda w: {"body": "Looks right", "line": "F110"}, api=True, setup=_plans_submitted),
    Route("api_diff", "GET", lambda w: _sub(w, "diff/?from=1&to=1"), _api_read_a, 200, api=True,
          setup=_plans_submitted),
]  # fmt: skip


def _plans_round_only(world) -> None:
    from tests.plans.conftest import make_round

    make_round(slug=ROUND)


def _plan(world, rest: str = "") -> str:
    return f"/rounds/{ROUND}/{world.org_a.ods_code}/{rest}"


_page_a = {"anonymous": LOGIN_REDIRECT, **each(OUTSIDERS, 404)}
_page_edit = {"anonymous": LOGIN_REDIRECT, **each(OUTSIDERS, 404), "member": 302, "approver": 302}
_page_approver = {"anonymous": LOGIN_REDIRECT, **each(OUTSIDERS, 404), "approver": 302}
_page_lead = {"anonymous": LOGIN_REDIRECT, **each(OUTSIDERS, 404), "lead": 302}


def _draft_revision() -> str:
    from plans.models import Version

    return str(Version.objects.get(number=0).revision)


def _cell(world) -> dict[str, str]:
    """A changed figure, posted with the value it started from (so it is no conflict)."""
    from plans.models import Value

    current = Value.objects.get(version__number=0, line__code="F110", month=1).value
    return {"v:F110::1": "42", "e:F110::1": str(current)}


ROUTES += [
    Route("round_list", "GET", lambda w: "/rounds/", _page_for_everyone, 200,
          setup=_plans_round_only),
    Route("round_detail", "GET", lambda w: f"/rounds/{ROUND}/", _page_for_everyone, 200,
          setup=_plans_submitted),
    Route("plan_detail", "GET", lambda w: _plan(w), _page_a, 200, setup=_plans_submitted),
    Route("plan_start", "POST", lambda w: _plan(w, "start/"), _page_edit, 403,
          setup=_plans_round_only),
    Route("plan_section", "GET", lambda w: _plan(w, "sections/finance/"), _page_a, 200,
          setup=_plans_submitted),
    Route("plan_section", "POST", lambda w: _plan(w, "sections/finance/"), _page_edit, 403,
          data=_cell, setup=_plans_returned),
    Route("plan_section_cells", "POST", lambda w: _plan(w, "sections/finance/cells/"),
          {**_page_edit, "member": 200, "approver": 200}, 403, data=_cell, setup=_plans_returned),
    Route("plan_section_cell", "GET",
          lambda w: _plan(w, "sections/finance/cell/?line=F110&month=1"), _page_a, 200,
          setup=_plans_submitted),
    Route("plan_section_history", "GET", lambda w: _plan(w, "sections/finance/history/"),
          {**_page_a, **each(["member", "approver", "viewer"], 200)}, 404,
          setup=_plans_returned, notes="the draft's history is the organisation's own"),
    Route("plan_section_spread", "GET", lambda w: _plan(w, "sections/finance/spread/"),
          {**_page_a, "member": 200, "approver": 200}, 403, setup=_plans_returned),
    Route("plan_section_spread", "POST", lambda w: _plan(w, "sections/finance/spread/"),
          _page_edit, 403, data=lambda w: {"row": "F110-x", "total": "120", "method": "even",
                                           "revision": _draft_revision()},
          setup=_plans_returned),
    Route("plan_narrative", "GET", lambda w: _plan(w, "narratives/summary/"), _page_a, 200,
          setup=_plans_submitted),
    Route("plan_narrative", "POST", lambda w: _plan(w, "narratives/summary/"), _page_edit, 403,
          data=lambda w: {"text": "Changed"}, setup=_plans_returned),
    Route("plan_compare", "GET", lambda w: _plan(w, "compare/?from=1&to=1"), _page_a, 200,
          setup=_plans_submitted),
    Route("plan_board_pack", "GET", lambda w: _plan(w, "board-pack/"), _page_a, 200,
          setup=_plans_submitted),
    Route("plan_comment", "POST", lambda w: _plan(w, "comments/"),
          {**_page_a, **each(["member", "approver", "partner", "lead", "reviewer"], 302)}, 403,
          data=lambda w: {"body": "A question"}, setup=_plans_submitted),
    Route("plan_submit", "GET", lambda w: _plan(w, "submit/"), {**_page_a, "approver": 200}, 403,
          setup=_plans_returned),
    Route("plan_submit", "POST", lambda w: _plan(w, "submit/"), _page_approver, 403,
          data=lambda w: {"board_approval_date_0": "1", "board_approval_date_1": "11",
                          "board_approval_date_2": "2026", "confirmed": "on"},
          setup=_plans_returned),
    Route("plan_accept", "GET", lambda w: _plan(w, "accept/"), {**_page_a, "lead": 200}, 403,
          setup=_plans_submitted),
    Route("plan_accept", "POST", lambda w: _plan(w, "accept/"), _page_lead, 403,
          data=lambda w: {"note": "Agreed at the finance meeting", "confirmed": "on"},
          setup=_plans_submitted),
    Route("plan_return", "GET", lambda w: _plan(w, "return/"), {**_page_a, "lead": 200}, 403,
          setup=_plans_submitted),
    Route("plan_return", "POST", lambda w: _plan(w, "return/"), _page_lead, 403,
          data=lambda w: {"reason": "Please check"}, setup=_plans_submitted),
    Route("plan_recall", "POST", lambda w: _plan(w, "recall/"), _page_approver, 403,
          setup=_plans_submitted),
]  # fmt: skip


def _csv_upload(world) -> dict:
    import io

    data = io.BytesIO(b"round,organisation,line,counterparty,month,value\n2026-27,ZA1,F120,,1,5\n")
    data.name = "plan.csv"
    return {"file": data}


ROUTES += [
    Route("plan_download_xlsx", "GET", lambda w: _plan(w, "download.xlsx"), _page_a, 200,
          setup=_plans_submitted),
    Route("plan_download_csv", "GET", lambda w: _plan(w, "download.csv"), _page_a, 200,
          setup=_plans_submitted),
    Route("plan_upload", "GET", lambda w: _plan(w, "upload/"),
          {**_page_a, "member": 200, "approver": 200}, 403, setup=_plans_returned),
    Route("plan_upload", "POST", lambda w: _plan(w, "upload/"), _page_edit, 403,
          data=_csv_upload, setup=_plans_returned),
]  # fmt: skip


_system_page = {
    "anonymous": LOGIN_REDIRECT,
    "outsider": 404,
    "other_lead": 404,
    "other_reviewer": 404,
}
_system_api = {
    "anonymous": API_ANONYMOUS,
    "outsider": 404,
    "other_lead": 404,
    "other_reviewer": 404,
}

ROUTES += [
    Route("system_plan", "GET", lambda w: f"/rounds/{ROUND}/systems/{w.s1.code}/", _system_page, 200,
          setup=_plans_submitted),
    Route("system_balances", "GET", lambda w: f"/rounds/{ROUND}/systems/{w.s1.code}/balances/",
          _system_page, 200, setup=_plans_submitted),
    Route("system_plan_export", "GET", lambda w: f"/rounds/{ROUND}/systems/{w.s1.code}/system-plan.xlsx",
          _system_page, 200, setup=_plans_submitted),
    Route("system_balances_export", "GET", lambda w: f"/rounds/{ROUND}/systems/{w.s1.code}/balances.csv",
          _system_page, 200, setup=_plans_submitted),
    Route("api_system_plan", "GET", lambda w: f"/api/v1/rounds/{ROUND}/systems/{w.s1.code}/plan/",
          _system_api, 200, api=True, setup=_plans_submitted),
    Route("api_system_balances", "GET", lambda w: f"/api/v1/rounds/{ROUND}/systems/{w.s1.code}/balances/",
          _system_api, 200, api=True, setup=_plans_submitted),
]  # fmt: skip


def _system_submitted(world) -> None:
    from plans.models import PlanningRound
    from plans.services.system import system_plan_submit
    from plans.system_plan import system_plan_get

    _plans_submitted(world)
    plan = system_plan_get(world.people["lead"], PlanningRound.objects.get(), world.s1)
    system_plan_submit(actor=world.people["lead"], plan=plan, narrative="Our system plan")


def _sys(world, rest: str) -> str:
    return f"/rounds/{ROUND}/systems/{world.s1.code}/{rest}"


_sys_lead = {"anonymous": LOGIN_REDIRECT, "outsider": 404, "other_lead": 404, "other_reviewer": 404}

ROUTES += [
    Route("system_submit", "GET", lambda w: _sys(w, "submit/"), {**_sys_lead, "lead": 200}, 403,
          setup=_plans_submitted),
    Route("system_submit", "POST", lambda w: _sys(w, "submit/"), {**_sys_lead, "lead": 302}, 403,
          data=lambda w: {"narrative": "Plan"}, setup=_plans_submitted),
    Route("system_approve", "GET", lambda w: _sys(w, "approve/"), {**_sys_lead, "reviewer": 200}, 403,
          setup=_system_submitted),
    Route("system_approve", "POST", lambda w: _sys(w, "approve/"), {**_sys_lead, "reviewer": 302}, 403,
          data=lambda w: {"note": "Mismatches being resolved", "confirmed": "on"},
          setup=_system_submitted),
    Route("system_return", "GET", lambda w: _sys(w, "return/"), {**_sys_lead, "reviewer": 200}, 403,
          setup=_system_submitted),
    Route("system_return", "POST", lambda w: _sys(w, "return/"), {**_sys_lead, "reviewer": 302}, 403,
          data=lambda w: {"reason": "Fix"}, setup=_system_submitted),
    Route("system_comment", "POST", lambda w: _sys(w, "comments/"),
          {**_sys_lead, "reviewer": 302, "lead": 302}, 403,
          data=lambda w: {"body": "A question"}, setup=_system_submitted),
    Route("system_version", "GET", lambda w: _sys(w, "versions/1/"), _system_page, 200,
          setup=_system_submitted),
    Route("region_systems", "GET", lambda w: f"/rounds/{ROUND}/regions/{w.r1.code}/",
          {"anonymous": LOGIN_REDIRECT, "other_reviewer": 404}, 200, setup=_plans_submitted),
]  # fmt: skip


# --- payments ---------------------------------------------------------------------------------


def _with_control_totals(world) -> None:
    from decimal import Decimal

    from payments.services.control_totals import control_total_set

    _plans_submitted(world)
    from plans.models import PlanningRound

    plan_round = PlanningRound.objects.get()
    for organisation, amount in ((world.org_a, Decimal(2)), (world.org_b, Decimal(-10))):
        control_total_set(
            actor=None, plan_round=plan_round, organisation=organisation, amount=amount
        )


def _with_transfer(world) -> None:
    _with_control_totals(world)
    _with_transfer_only(world)


def _with_transfer_only(world) -> None:
    """A transfer proposed by the lead, where the round and control totals already are."""
    from decimal import Decimal

    from payments.services.transfers import transfer_propose
    from plans.models import PlanningRound

    transfer_propose(
        actor=world.people["lead"],
        plan_round=PlanningRound.objects.get(),
        system=world.s1,
        moves=[("ZA1", Decimal(1)), ("ZA2", Decimal(-1))],
        reason="Rebalance",
    )


def _transfer_id() -> int:
    from payments.models import Transfer

    return Transfer.objects.get().pk


_ct_write = {"anonymous": LOGIN_REDIRECT, "outsider": 404, "other_lead": 404, "other_reviewer": 404}

ROUTES += [
    Route("control_totals", "GET", lambda w: _sys(w, "control-totals/"), _system_page, 200,
          setup=_with_control_totals),
    Route("control_totals_save", "POST", lambda w: _sys(w, "control-totals/save/"),
          {**_ct_write, "reviewer": 302, "admin": 302}, 403,
          data=lambda w: {"ct:ZA1": "3"}, setup=_with_control_totals),
    Route("transfer_propose", "POST", lambda w: _sys(w, "transfers/"),
          {**_ct_write, "lead": 302, "approver": 302}, 403,
          data=lambda w: {"organisation": ["ZA1", "ZA2"], "amount": ["1", "-1"], "reason": "x"},
          setup=_with_control_totals),
    # The lead proposed (and so agreed); Alpha's approver decides for Alpha.
    Route("transfer_decide", "POST", lambda w: _sys(w, f"transfers/{_transfer_id()}/decide/"),
          {**_ct_write, "approver": 302, "lead": 302}, 403,
          data=lambda w: {"decision": "agree"}, setup=_with_transfer),
    Route("transfer_withdraw", "POST", lambda w: _sys(w, f"transfers/{_transfer_id()}/withdraw/"),
          {**_ct_write, "lead": 302}, 403, setup=_with_transfer),
]  # fmt: skip


# --- monthly returns --------------------------------------------------------------------------


def _return_submitted(world) -> None:
    """Org A's April return, started from its plan and submitted (version 1)."""
    from plans.models import PlanningRound
    from plans.services.returns import return_start, return_submit

    _plans_submitted(world)
    monthly_return = return_start(
        actor=world.people["member"],
        plan_round=PlanningRound.objects.get(),
        organisation=world.org_a,
        month=1,
    )
    return_submit(actor=world.people["approver"], monthly_return=monthly_return,
                  expected_revision=monthly_return.revision)  # fmt: skip


def _return_changed(world) -> None:
    """As above, then a draft change waiting to be submitted."""
    from plans.models import MonthlyReturn
    from plans.services.returns import return_save, version_cells

    _return_submitted(world)
    monthly_return = MonthlyReturn.objects.get()
    cells = version_cells(monthly_return.versions.get(number=0))
    cells[("F110", 1)] = cells.get(("F110", 1), 0) + 1
    return_save(actor=world.people["member"], monthly_return=monthly_return, cells=cells,
                expected_revision=monthly_return.revision)  # fmt: skip


def _revision() -> int:
    from plans.models import MonthlyReturn

    return MonthlyReturn.objects.get().revision


def _return_csv(world) -> dict:
    import io

    from plans.models import PlanningRound

    data = io.BytesIO(
        f"Openbook monthly return,{ROUND},{world.org_a.ods_code},Apr,revision {_revision()}\n"
        "Line,Description,Apr,May,Jun,Jul,Aug,Sep,Oct,Nov,Dec,Jan,Feb,Mar\n"
        "F110,Other patient care income,5,5,5,5,5,5,5,5,5,5,5,5\n".encode()
    )
    data.name = "return.csv"
    assert PlanningRound.objects.filter(slug=ROUND).exists()
    return {"file": data}


def _ret(world, rest: str = "") -> str:
    return _plan(world, f"returns/{rest}")


def _api_ret(world, rest: str = "") -> str:
    return f"/api/v1/rounds/{ROUND}/returns/{world.org_a.ods_code}/{rest}"


_api_write_a = {"anonymous": API_ANONYMOUS, **each(OUTSIDERS, 404)}

ROUTES += [
    Route("return_list", "GET", lambda w: _ret(w), _page_a, 200, setup=_return_submitted),
    Route("return_start", "POST", lambda w: _ret(w, "start/"), _page_edit, 403,
          data=lambda w: {"month": "2"}, setup=_return_submitted),
    Route("return_detail", "GET", lambda w: _ret(w, "1/"), _page_a, 200,
          setup=_return_submitted, notes="partners see the submitted version (open book)"),
    Route("return_detail", "POST", lambda w: _ret(w, "1/"), _page_edit, 403,
          data=lambda w: {"revision": str(_revision()), "c-F110-1": "7"},
          setup=_return_submitted),
    Route("return_submit", "POST", lambda w: _ret(w, "1/submit/"), _page_approver, 403,
          data=lambda w: {"revision": str(_revision())}, setup=_return_changed),
    Route("return_download", "GET", lambda w: _ret(w, "1/return.csv"), _page_a, 200,
          setup=_return_submitted),
    Route("return_upload", "GET", lambda w: _ret(w, "1/upload/"),
          {**_page_a, "member": 200, "approver": 200}, 403, setup=_return_submitted),
    Route("return_upload", "POST", lambda w: _ret(w, "1/upload/"), _page_edit, 403,
          data=_return_csv, setup=_return_submitted),
    Route("api_return_list", "GET", lambda w: _api_ret(w), _api_read_a, 200, api=True,
          setup=_return_submitted),
    Route("api_return_list", "POST", lambda w: _api_ret(w),
          {**_api_write_a, "member": 201, "approver": 201}, 403,
          data=lambda w: {"month": 2}, api=True, setup=_return_submitted),
    Route("api_return_detail", "GET", lambda w: _api_ret(w, "1/"), _api_read_a, 200, api=True,
          setup=_return_submitted),
    Route("api_return_detail", "PUT", lambda w: _api_ret(w, "1/"),
          {**_api_write_a, "member": 200, "approver": 200}, 403,
          data=lambda w: {"revision": _revision(),
                          "values": [{"line": "F110", "month": 1, "value": "9"}]},
          api=True, setup=_return_submitted),
    Route("api_return_submit", "POST", lambda w: _api_ret(w, "1/submit/"),
          {**_api_write_a, "approver": 201}, 403,
          data=lambda w: {"revision": _revision()}, api=True, setup=_return_changed),
]  # fmt: skip


# --- the fund ---------------------------------------------------------------------------------


def _with_fund(world) -> None:
    """Control totals (Beta in deficit), the fund, Beta's allocation and a release awaiting
    the region."""
    from decimal import Decimal

    from payments.services.fund import allocations_set, fund_save, release_propose
    from plans.models import PlanningRound

    _with_control_totals(world)
    fund = fund_save(actor=None, plan_round=PlanningRound.objects.get(), name="Recovery fund",
                     system_share=Decimal("0.5"), phasing=[Decimal("0.25")] * 4, taper="none",
                     taper_zero_at=None)  # fmt: skip
    allocations_set(actor=None, fund=fund, system=world.s1, amounts={"ZA2": Decimal(1000)})
    release_propose(actor=world.people["lead"], fund=fund, organisation=world.org_b, quarter=1,
                    reason="Winter pressures")  # fmt: skip


def _release_id() -> int:
    from payments.models import DiscretionaryRelease

    return DiscretionaryRelease.objects.get().pk


ROUTES += [
    Route("fund", "GET", lambda w: _sys(w, "fund/"), _system_page, 200, setup=_with_fund),
    Route("fund_rules", "POST", lambda w: _sys(w, "fund/rules/"), {**_ct_write, "admin": 302},
          403, data=lambda w: {"name": "Fund", "system_share": "60", "q1": "25", "q2": "25",
                               "q3": "25", "q4": "25", "taper": "none"},
          setup=_with_fund, notes="the fund's rules are national: administrators only"),
    Route("fund_share", "POST", lambda w: _sys(w, "fund/share/"), {**_ct_write, "lead": 302},
          403, data=lambda w: {"system_share": "75"}, setup=_with_fund),
    Route("fund_allocations", "POST", lambda w: _sys(w, "fund/allocations/"),
          {**_ct_write, "reviewer": 302, "admin": 302}, 403,
          data=lambda w: {"alloc:ZA2": "1200"}, setup=_with_fund),
    Route("release_propose", "POST", lambda w: _sys(w, "fund/releases/"),
          {**_ct_write, "lead": 302}, 403,
          data=lambda w: {"organisation": "ZA2", "quarter": "2", "reason": "Flu"},
          setup=_with_fund),
    Route("release_decide", "POST", lambda w: _sys(w, f"fund/releases/{_release_id()}/decide/"),
          {**_ct_write, "reviewer": 302}, 403, data=lambda w: {"decision": "agree"},
          setup=_with_fund, notes="the region's reviewer agrees; administrators do not"),
    Route("release_withdraw", "POST",
          lambda w: _sys(w, f"fund/releases/{_release_id()}/withdraw/"),
          {**_ct_write, "lead": 302}, 403, setup=_with_fund),
]  # fmt: skip


ROUTES += [
    Route("national_recalculation", "GET", lambda w: f"/rounds/{ROUND}/recalculation/",
          {"anonymous": LOGIN_REDIRECT, "admin": 200}, 403, setup=_plans_submitted,
          notes="administrators only; the round itself is national"),
    Route("national_recalculation", "POST", lambda w: f"/rounds/{ROUND}/recalculation/",
          {"anonymous": LOGIN_REDIRECT, "admin": 302}, 403, setup=_plans_submitted),
]  # fmt: skip


def _with_fund_results(world) -> None:
    from payments.services import recalculation
    from plans.models import PlanningRound

    _with_fund(world)
    recalculation.recalculate(system_id=world.s1.pk, round_id=PlanningRound.objects.get().pk,
                       trigger="matrix")  # fmt: skip


ROUTES += [
    Route("api_system_results", "GET", lambda w: f"/api/v1/rounds/{ROUND}/systems/s1/results/",
          _system_api, 200, api=True, setup=_with_fund_results),
]  # fmt: skip


# --- risk-share agreements --------------------------------------------------------------------

POOL = {"kind": "risk_pool", "params": {"budget": "1000", "shares": {"ZA1": "50", "ZA2": "50"}}}


def _with_agreement(world) -> None:
    from payments.services.agreements import agreement_create
    from plans.models import PlanningRound

    _with_control_totals(world)
    agreement_create(actor=world.people["lead"], plan_round=PlanningRound.objects.get(),
                     system=world.s1, name="Urgent care pool", partners=["ZA1", "ZA2"],
                     mechanisms=[POOL])  # fmt: skip


def _agreement_id() -> int:
    from payments.models import Agreement

    return Agreement.objects.get().pk


def _agreement_form(world) -> dict:
    return {"action": "save", "name": "Pool", "partners": ["ZA1", "ZA2"], "version": "1",
            "m1-kind": "risk_pool", "m1-budget": "1000", "m1-shares-ZA1": "60",
            "m1-shares-ZA2": "40"}  # fmt: skip


_lead_only = {**_ct_write, "lead": 302}

ROUTES += [
    Route("agreement_list", "GET", lambda w: _sys(w, "agreements/"), _system_page, 200,
          setup=_with_agreement),
    Route("agreement_new", "GET", lambda w: _sys(w, "agreements/new/"),
          {**_ct_write, "lead": 200}, 403, setup=_with_control_totals),
    Route("agreement_new", "POST", lambda w: _sys(w, "agreements/new/"), _lead_only, 403,
          data=_agreement_form, setup=_with_control_totals),
    Route("agreement_detail", "GET", lambda w: _sys(w, f"agreements/{_agreement_id()}/"),
          _system_page, 200, setup=_with_agreement),
    Route("agreement_edit", "GET", lambda w: _sys(w, f"agreements/{_agreement_id()}/edit/"),
          {**_ct_write, "lead": 200}, 403, setup=_with_agreement),
    Route("agreement_edit", "POST", lambda w: _sys(w, f"agreements/{_agreement_id()}/edit/"),
          _lead_only, 403, data=_agreement_form, setup=_with_agreement),
    Route("agreement_sign", "POST", lambda w: _sys(w, f"agreements/{_agreement_id()}/sign/"),
          {**_ct_write, "approver": 302}, 403,
          data=lambda w: {"organisation": "ZA1", "version": "1", "confirmed": "yes"},
          setup=_with_agreement,
          notes="Alpha's approver signs for Alpha; nobody else can"),
]  # fmt: skip


def _api_agr(world, rest: str = "") -> str:
    return f"/api/v1/rounds/{ROUND}/systems/s1/agreements/{rest}"


ROUTES += [
    Route("api_agreement_list", "GET", lambda w: _api_agr(w), _system_api, 200, api=True,
          setup=_with_agreement),
    Route("api_agreement_list", "POST", lambda w: _api_agr(w), {**_system_api, "lead": 201}, 403,
          data=lambda w: {"name": "Pool", "partners": ["ZA1", "ZA2"], "mechanisms": [POOL]},
          api=True, setup=_with_control_totals),
    Route("api_agreement_detail", "GET", lambda w: _api_agr(w, f"{_agreement_id()}/"),
          _system_api, 200, api=True, setup=_with_agreement),
    Route("api_agreement_detail", "PUT", lambda w: _api_agr(w, f"{_agreement_id()}/"),
          {**_system_api, "lead": 200}, 403,
          data=lambda w: {"name": "Pool", "partners": ["ZA1", "ZA2"], "mechanisms": [POOL],
                          "version": 1},
          api=True, setup=_with_agreement),
    Route("api_agreement_what_if", "GET", lambda w: _api_agr(w, f"{_agreement_id()}/what-if/"),
          _system_api, 200, api=True, setup=_with_agreement),
    Route("api_agreement_sign", "POST", lambda w: _api_agr(w, f"{_agreement_id()}/sign/"),
          {**_system_api, "approver": 201}, 403,
          data=lambda w: {"organisation": "ZA1", "version": 1}, api=True,
          setup=_with_agreement),
]  # fmt: skip


# --- settlements and decisions ----------------------------------------------------------------


def _with_settlement(world) -> None:
    """The pool agreed by Alpha's approver and a Beta approver (not one of the matrix's people),
    and a year's settlement worked out and proposed."""
    from accounts.models import Role
    from accounts.services import membership_create
    from payments.models import Agreement
    from payments.services import settlements
    from payments.services.agreements import agreement_sign
    from tests.factories import UserFactory

    _with_agreement(world)
    agreement = Agreement.objects.get()
    beta = UserFactory(email="beta.approver@example.nhs.uk")
    membership_create(actor=None, user=beta, role=Role.ORG_APPROVER, organisation=world.org_b)
    agreement_sign(actor=world.people["approver"], agreement=agreement, organisation=world.org_a,
                   version_number=1)  # fmt: skip
    agreement_sign(actor=beta, agreement=agreement, organisation=world.org_b, version_number=1)
    settlement = settlements.settlement_enter(actor=world.people["lead"], agreement=agreement,
                                              period="year", measures=["1100"],
                                              outcomes_met=True)  # fmt: skip
    settlements.compute(settlement.pk)
    settlements.settlement_propose(actor=world.people["lead"], settlement=settlement)


def _settlement(world, rest: str = "") -> str:
    from payments.models import Settlement

    s = Settlement.objects.get()
    return _sys(world, f"agreements/{s.agreement_id}/settlements/{s.pk}/{rest}")


ROUTES += [
    Route("settlement_enter", "POST", lambda w: _sys(w, f"agreements/{_agreement_id()}/settlements/"),
          _lead_only, 403, data=lambda w: {"period": "Q1", "measure-1": "300"},
          setup=_with_settlement),
    Route("settlement_detail", "GET", lambda w: _settlement(w), _system_page, 200,
          setup=_with_settlement),
    Route("settlement_propose", "POST", lambda w: _settlement(w, "propose/"), _lead_only, 403,
          setup=_with_settlement),
    Route("settlement_withdraw", "POST", lambda w: _settlement(w, "withdraw/"), _lead_only, 403,
          setup=_with_settlement),
    Route("settlement_respond", "POST", lambda w: _settlement(w, "respond/"),
          {**_ct_write, "approver": 302}, 403,
          data=lambda w: {"organisation": "ZA1", "answer": "accept"}, setup=_with_settlement),
    Route("settlement_decide", "POST", lambda w: _settlement(w, "decide/"),
          {**_ct_write, "reviewer": 302}, 403,
          data=lambda w: {"decision": "uphold", "reason": "Fair"}, setup=_with_settlement,
          notes="the region's reviewer decides; a decision on an undisputed settlement is "
                "refused with a message"),
]  # fmt: skip


def _api_settlement(world, rest: str = "") -> str:
    from payments.models import Settlement

    s = Settlement.objects.get()
    return _api_agr(world, f"{s.agreement_id}/settlements/{s.pk}/{rest}")


ROUTES += [
    Route("api_settlement_list", "GET",
          lambda w: _api_agr(w, f"{_agreement_id()}/settlements/"), _system_api, 200, api=True,
          setup=_with_settlement),
    Route("api_settlement_list", "POST",
          lambda w: _api_agr(w, f"{_agreement_id()}/settlements/"), {**_system_api, "lead": 201},
          403, data=lambda w: {"period": "Q1", "measures": ["300"], "outcomes_met": True},
          api=True, setup=_with_settlement),
    Route("api_settlement_detail", "GET", lambda w: _api_settlement(w), _system_api, 200,
          api=True, setup=_with_settlement),
    Route("api_settlement_propose", "POST", lambda w: _api_settlement(w, "propose/"),
          {**_system_api, "lead": 400}, 403, api=True, setup=_with_settlement,
          notes="already proposed: the lead is told why (400); anyone else may not (403)"),
    Route("api_settlement_withdraw", "POST", lambda w: _api_settlement(w, "withdraw/"),
          {**_system_api, "lead": 200}, 403, api=True, setup=_with_settlement,
          notes="proposed, not yet answered: the lead withdraws it"),
    Route("api_settlement_respond", "POST", lambda w: _api_settlement(w, "respond/"),
          {**_system_api, "approver": 200}, 403,
          data=lambda w: {"organisation": "ZA1", "accepted": True}, api=True,
          setup=_with_settlement),
    Route("api_settlement_decide", "POST", lambda w: _api_settlement(w, "decide/"),
          {**_system_api, "reviewer": 400}, 403, data=lambda w: {"uphold": True, "reason": "x"},
          api=True, setup=_with_settlement, notes="not disputed: the reviewer is told why"),
    Route("audit_timeline", "GET", lambda w: "/systems/s1/audit/", _s1_object_page, 200,
          setup=_with_settlement),
    Route("audit_export", "GET", lambda w: "/systems/s1/audit.json", _s1_object_page, 200,
          setup=_with_settlement),
    Route("audit_export", "GET", lambda w: "/systems/s1/audit.csv", _s1_object_page, 200,
          setup=_with_settlement),
    Route("api_audit_events", "GET", lambda w: "/api/v1/systems/s1/audit/", _s1_object_api, 200,
          api=True, setup=_with_settlement),
    Route("api_audit_verify", "GET", lambda w: "/api/v1/systems/s1/audit/verify/",
          _s1_object_api, 200, api=True, setup=_with_settlement),
]  # fmt: skip
