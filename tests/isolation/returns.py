"""The matrix's rows for monthly returns (pages and API)."""

from __future__ import annotations

from tests.isolation.common import (
    API_ANONYMOUS,
    LOGIN_REDIRECT,
    OUTSIDERS,
    Route,
    each,
)
from tests.isolation.plans import (
    ROUND,
    UPLOAD_ID,
    _api_read_a,
    _page_a,
    _page_approver,
    _page_edit,
    _plan,
    _plans_submitted,
    upload_waiting,
)

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

ROUTES: list[Route] = [
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
    Route("return_upload_status", "GET", lambda w: _ret(w, f"1/upload/{UPLOAD_ID}/"),
          {"anonymous": LOGIN_REDIRECT, "member": 200}, 404,
          setup=lambda w: (_return_submitted(w), upload_waiting(w, month=1))),
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
