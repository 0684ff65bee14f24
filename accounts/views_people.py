"""Bringing people on board from a file, for platform administrators: upload, see what it
would do (or every problem in it), then confirm (accounts/people_import.py)."""

from __future__ import annotations

import base64

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts import invitations, people_csv, policy, selectors
from accounts.people_import import PeoplePlan, people_import, people_import_check
from openbook.exports import CSV_TYPE, csv_content
from openbook.refusals import Refusal, attempt, listed


def _may_import(request) -> None:
    if not policy.can_import_people(request.user):
        raise PermissionDenied("Only platform administrators can import people.")


def _page(request, *, refusal: Refusal | None = None, plan: PeoplePlan | None = None,
          data: bytes = b"", name: str = "", notice: str = "") -> HttpResponse:  # fmt: skip
    context = {
        "max_rows": f"{settings.PEOPLE_IMPORT_MAX_ROWS:,}",
        "max_mb": people_csv.MAX_BYTES // (1024 * 1024),
        "days": invitations.INVITATION_DAYS,
        "roles": people_csv.KIND_ROLES,
        "systems": selectors.systems_visible_to(request.user).select_related("region"),
        "regions": selectors.regions_visible_to(request.user),
        "name": name,
        "notice": notice,
    }
    if refusal is not None:
        context |= {"error": refusal.message} | listed(refusal.problems)
    if plan is not None:
        # The file itself goes back with the confirmation (as sent, so the audit trail's
        # fingerprint of it is the file's own), and is checked again then.
        context |= {"plan": plan, "file": base64.b64encode(data).decode(), "shown": plan.digest}
    return render(request, "accounts/people_import.html", context,
                  status=422 if refusal is not None else 200)  # fmt: skip


@login_required
@require_http_methods(["GET", "POST"])
def people_import_upload(request):
    _may_import(request)
    if request.method == "GET":
        return _page(request)
    upload = request.FILES.get("file")
    if upload is None:
        return _page(request, refusal=Refusal("Choose a CSV file to upload."))
    # One byte more than may be sent, so a larger file is refused, not cut short.
    data = upload.read(people_csv.MAX_BYTES + 1)
    with attempt() as call:
        plan = people_import_check(actor=request.user, data=data)
    if not call.ok:
        return _page(request, refusal=call.refusal, name=upload.name)
    return _page(request, plan=plan, data=data, name=upload.name)


@login_required
@require_POST
def people_import_confirm(request):
    _may_import(request)
    name = request.POST.get("name", "")[:200]
    try:
        data = base64.b64decode(request.POST.get("file", ""), validate=True)
    except ValueError:
        return _page(request, refusal=Refusal("The file did not come back whole; upload it again."))
    with attempt() as call:
        plan = people_import(actor=request.user, data=data, shown=request.POST.get("shown", ""))
    if call.ok:
        messages.success(request, _done(plan))
        return redirect("people_import")
    assert call.refusal is not None
    if call.refusal.conflict:
        # Show what the file would do now, to confirm again (or its problems, if it has some).
        with attempt() as again:
            plan = people_import_check(actor=request.user, data=data)
        if again.ok:
            return _page(request, plan=plan, data=data, name=name, notice=call.refusal.message)
        return _page(request, refusal=again.refusal, name=name)
    return _page(request, refusal=call.refusal, name=name)


def _done(plan: PeoplePlan) -> str:
    invited, added, unchanged = len(plan.invites), len(plan.adds), len(plan.unchanged)
    parts = []
    if invited:
        parts.append(f"{invited} {'person' if invited == 1 else 'people'} invited: the "
                     f"invitations are being e-mailed now, each link working for "
                     f"{invitations.INVITATION_DAYS} days")  # fmt: skip
    if added:
        parts.append(f"{added} role{'s' if added != 1 else ''} given to people with accounts")
    if unchanged:
        parts.append(f"{unchanged} row{'s' if unchanged != 1 else ''} unchanged")
    return "Imported. " + "; ".join(parts) + "."


@login_required
def people_import_template(request):
    """The example file, to fill in: the heading and a row for each kind of place."""
    _may_import(request)
    response = HttpResponse(csv_content(people_csv.template_csv()), content_type=CSV_TYPE)
    response["Content-Disposition"] = 'attachment; filename="openbook-people.csv"'
    return response
