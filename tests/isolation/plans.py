"""The matrix's rows for plans: rounds, submissions, the grid, uploads and the system plan."""

from __future__ import annotations

from tests.isolation.common import (
    API_ANONYMOUS,
    LOGIN_REDIRECT,
    OUTSIDERS,
    Route,
    _page_for_everyone,
    each,
)

# --- plans ------------------------------------------------------------------------------------

ROUND = "2026-27"


def _plans_submitted(world) -> None:
    """Org A's plan, complete and submitted (version 1), awaiting the system lead."""
    import datetime as dt

    from demo.synthetic import plan_cells
    from plans.services import draft_save, narrative_save, submission_start, submission_submit
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

ROUTES: list[Route] = [
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


def _schemes_drafted(world) -> None:
    """A round on the current template (it has scheme lists), and org A's draft with one
    efficiency scheme."""
    from plans.services import CURRENT_TEMPLATE, submission_start, table_save, template_load
    from tests.plans.conftest import make_round
    from tests.plans.test_tables import scheme

    version, _ = template_load(path=CURRENT_TEMPLATE)
    plan_round = make_round(slug=ROUND, template_version=version)
    submission = submission_start(
        actor=world.people["member"], plan_round=plan_round, organisation=world.org_a
    )
    table_save(actor=world.people["member"], submission=submission,
               section_code="efficiency_schemes", rows=[scheme()], started=None)  # fmt: skip


def _provided_file(world) -> dict:
    import io

    data = io.BytesIO(
        f"organisation,line,month,value\n{world.org_a.ods_code},LYFOT,1,-5\n".encode()
    )
    data.name = "provided.csv"
    return {"file": data}


def _revised(world) -> None:
    """The schemes' round, moved back to version 1 by an administrator."""
    from plans.models import PlanningRound, TemplateVersion
    from plans.services import round_revise

    _schemes_drafted(world)
    round_revise(actor=world.people["admin"], plan_round=PlanningRound.objects.get(),
                 to_version=TemplateVersion.objects.get(number=1), reason="Back")  # fmt: skip


def _revision_url(world) -> str:
    from plans.models import TemplateRevision

    return f"/rounds/{ROUND}/revisions/{TemplateRevision.objects.get().pk}/"


def _revise_form(world) -> dict[str, str]:
    from plans.models import TemplateVersion

    return {"to_version": str(TemplateVersion.objects.get(number=1).pk), "reason": "Back"}


def _scheme_form(world) -> dict[str, str]:
    from plans.models import Version
    from plans.table_selectors import version_tables
    from plans.tables import fingerprint

    rows = version_tables(Version.objects.get(number=0))["efficiency_schemes"]
    return {"rows": "1", "started": fingerprint(rows), "r1-name": "Theatre lists",
            "r1-category": "Clinical productivity", "r1-recurrence": "Recurrent",
            "r1-cost_type": "Pay", "r1-risk": "Low", **{f"r1-m{m}": "20" for m in range(1, 13)}}  # fmt: skip


ROUTES += [
    Route("api_draft_table", "GET", lambda w: _sub(w, "draft/tables/efficiency_schemes/"),
          _api_draft_only, 404, api=True, setup=_schemes_drafted,
          notes="the working draft is private"),
    Route("api_draft_table", "PUT", lambda w: _sub(w, "draft/tables/efficiency_schemes/"),
          {**_api_edit, "viewer": 403}, 404, data=lambda w: {"rows": [{"fields": {"name": "Lists",
          "category": "Other", "recurrence": "Recurrent", "cost_type": "Pay", "risk": "Low"},
          "amounts": [1] * 12}]}, api=True, setup=_schemes_drafted,
          notes="a plan never submitted is its organisation's own"),
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
    Route("round_provided", "GET", lambda w: f"/rounds/{ROUND}/provided/",
          {"anonymous": LOGIN_REDIRECT, "admin": 200}, 403, setup=_schemes_drafted,
          notes="the round's owner: administrators only; the round itself is national"),
    Route("round_provided", "POST", lambda w: f"/rounds/{ROUND}/provided/",
          {"anonymous": LOGIN_REDIRECT, "admin": 302}, 403, data=_provided_file,
          setup=_schemes_drafted),
    Route("round_revise", "GET", lambda w: f"/rounds/{ROUND}/revise/",
          {"anonymous": LOGIN_REDIRECT, "admin": 200}, 403, setup=_schemes_drafted,
          notes="administrators only; the round itself is national"),
    Route("round_revise", "POST", lambda w: f"/rounds/{ROUND}/revise/",
          {"anonymous": LOGIN_REDIRECT, "admin": 302}, 403, data=_revise_form,
          setup=_schemes_drafted),
    Route("round_revision", "GET", _revision_url, {"anonymous": LOGIN_REDIRECT, "admin": 200},
          404, setup=_revised, notes="it lists every organisation's draft: administrators only"),
    Route("plan_table", "GET", lambda w: _plan(w, "tables/efficiency_schemes/"), _page_a, 200,
          setup=_schemes_drafted),
    Route("plan_table", "POST", lambda w: _plan(w, "tables/efficiency_schemes/"), _page_edit,
          403, data=_scheme_form, setup=_schemes_drafted),
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
    # A file left with the worker is seen by the person who uploaded it, and nobody else.
    Route("plan_upload_status", "GET", lambda w: _plan(w, f"upload/{UPLOAD_ID}/"),
          {"anonymous": LOGIN_REDIRECT, "member": 200}, 404,
          setup=lambda w: (_plans_returned(w), upload_waiting(w))),
]  # fmt: skip

UPLOAD_ID = "6d1f0c2e-0d1e-4c4b-9a57-5e3f1c2d0a01"


def upload_waiting(world, month: int | None = None) -> None:
    """A large file of the member's, waiting for the worker (none runs in the matrix)."""
    from plans.models import PlanningRound, Upload

    Upload.objects.update_or_create(
        pk=UPLOAD_ID,
        defaults={
            "target": Upload.Target.RETURN if month else Upload.Target.PLAN,
            "actor": world.people["member"],
            "round": PlanningRound.objects.get(),
            "organisation": world.org_a,
            "month": month,
            "name": "plan.xlsx",
            "size": 300_000,
        },
    )


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
