"""Monthly finance returns: the list of an organisation's returns, one return's grid (actuals
to date, forecast after), its upload and download, and submitting it."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from accounts import policy
from accounts.selectors import organisation_get
from openbook import numbers
from openbook.exports import CSV_TYPE
from openbook.refusals import attempt, listed
from plans import monthly_returns, return_files, selectors
from plans.calculations import MONTHS, derive_from_totals
from plans.excel import XLSX_TYPE, UploadRejected
from plans.models import MONTH_LABELS, MonthlyReturn
from plans.services import receiving
from plans.services import returns as services
from plans.views.common import queued_page


def _list_url(plan_round, organisation) -> str:
    return reverse("return_list", args=[plan_round.slug, organisation.ods_code])


def _detail_url(monthly_return: MonthlyReturn) -> str:
    return reverse(
        "return_detail",
        args=[
            monthly_return.round.slug,
            monthly_return.organisation.ods_code,
            monthly_return.month,
        ],
    )


@login_required
def return_list(request, slug, ods_code):
    plan_round = selectors.round_get(request.user, slug)
    organisation = organisation_get(request.user, ods_code)
    lines = services.return_lines(plan_round, organisation.kind)
    rows = []
    returns = selectors.returns_visible_to(request.user).filter(
        round=plan_round, organisation=organisation
    )
    returns = list(returns.order_by("month"))
    latest_of = selectors.latest_submitted_returns(request.user, returns)
    for monthly_return in returns:
        latest = latest_of.get(monthly_return.pk)
        position = None
        if latest is not None:
            cells = {(v.line.code, v.month): v.value for v in latest.values.all()}
            position = monthly_returns.position(
                cells, monthly_return.month, lines.flat, lines.surplus
            )
        rows.append({"return": monthly_return, "latest": latest, "position": position})
    can_prepare = policy.can_prepare(request.user, organisation)
    started = {row["return"].month for row in rows}
    return render(
        request,
        "plans/monthly_returns.html",
        {
            "round": plan_round,
            "organisation": organisation,
            "rows": rows,
            "can_prepare": can_prepare,
            "months": [(m, MONTH_LABELS[m - 1]) for m in MONTHS if m not in started],
            "next_month": next((m for m in MONTHS if m not in started), None),
        },
    )


@login_required
@require_POST
def return_start(request, slug, ods_code):
    plan_round = selectors.round_get(request.user, slug)
    organisation = organisation_get(request.user, ods_code)
    with attempt(request) as call:
        try:
            month = int(request.POST.get("month", ""))
        except ValueError:
            raise ValidationError("Choose the month the return is for.") from None
        monthly_return = services.return_start(
            actor=request.user, plan_round=plan_round, organisation=organisation, month=month
        )
    if call.refusal:
        return redirect(_list_url(plan_round, organisation))
    return redirect(_detail_url(monthly_return))


def _grid(lines, month: int, cells: dict, typed: dict | None = None) -> list[dict]:
    """Rows for the template: each cell's shown text (what was typed, if the form came
    back) and the worked-out lines."""
    totals = {key: value for key, value in cells.items()}
    derived = derive_from_totals(lines.flat, totals)
    rows = []
    for line in lines.lines:
        row_cells = []
        for m in MONTHS:
            key = (line.code, m)
            if line.formula:
                shown = derived.get(key)
            elif typed is not None:
                shown = typed.get(key, "")
            else:
                shown = cells.get(key)
            row_cells.append({"month": m, "name": f"c-{line.code}-{m}", "value": shown,
                              "actual": m <= month, "label": MONTH_LABELS[m - 1]})  # fmt: skip
        year = (
            sum((derived.get((line.code, m), Decimal(0)) for m in MONTHS), Decimal(0))
            if line.formula
            else sum((cells.get((line.code, m), Decimal(0)) for m in MONTHS), Decimal(0))
        )
        rows.append({"line": line, "cells": row_cells, "year": year})
    return rows


def _context(request, monthly_return, version, lines, **extra):
    user = request.user
    own = policy.can_view_drafts(user, monthly_return.organisation)
    cells = services.version_cells(version)
    return {
        "round": monthly_return.round,
        "organisation": monthly_return.organisation,
        "ret": monthly_return,
        "version": version,
        "versions": selectors.return_versions_visible(user, monthly_return),
        "months": [(m, MONTH_LABELS[m - 1], m <= monthly_return.month) for m in MONTHS],
        "rows": _grid(lines, monthly_return.month, cells, extra.pop("typed", None)),
        "position": monthly_returns.position(
            cells, monthly_return.month, lines.flat, lines.surplus
        ),
        "can_edit": own
        and version.number == 0
        and policy.can_prepare(user, monthly_return.organisation),
        "can_submit": own and policy.can_approve(user, monthly_return.organisation),
        **extra,
    }


@login_required
@require_http_methods(["GET", "POST"])
def return_detail(request, slug, ods_code, month):
    plan_round = selectors.round_get(request.user, slug)
    monthly_return = selectors.return_get(request.user, plan_round, ods_code, month)
    lines = services.return_lines(plan_round, monthly_return.organisation.kind)
    number = request.GET.get("version")
    try:
        version = selectors.return_version_shown(
            request.user, monthly_return, int(number) if number is not None else None
        )
    except ValueError:
        raise Http404("No such version.") from None
    if request.method == "GET":
        return render(
            request, "plans/monthly_return.html", _context(request, monthly_return, version, lines)
        )
    if not policy.can_prepare(request.user, monthly_return.organisation):
        raise PermissionDenied("Only the organisation's preparers and approvers can change it.")
    typed = {
        (line.code, m): request.POST.get(f"c-{line.code}-{m}", "").strip()
        for line in lines.inputs
        for m in MONTHS
    }
    checked = monthly_returns.check_cells(
        typed, lines.specs, lambda code, m: f"{code}, {MONTH_LABELS[m - 1]}"
    )
    try:
        expected = int(request.POST.get("revision", ""))
    except ValueError:
        expected = -1
    error, problems, conflict = "", checked.problems, None
    if not problems:
        with attempt() as call:
            services.return_save(
                actor=request.user,
                monthly_return=monthly_return,
                cells=checked.cells,
                expected_revision=expected,
            )
        if call.refusal is not None and call.refusal.conflict:
            error = call.refusal.message
            monthly_return.refresh_from_db()
            theirs = services.version_cells(monthly_return.versions.get(number=0))
            conflict = [
                {
                    "cell": f"{code}, {MONTH_LABELS[m - 1]}",
                    "theirs": theirs.get((code, m)),
                    "yours": checked.cells.get((code, m)),
                }  # fmt: skip
                for code, m in sorted(set(theirs) | set(checked.cells))
                if theirs.get((code, m)) != checked.cells.get((code, m))
            ]
        elif call.refusal is not None:
            error, problems = call.refusal.message, call.refusal.problems
        else:
            messages.success(request, "Saved the draft return.")
            return redirect(_detail_url(monthly_return))
    else:
        error = f"{len(problems)} figure(s) could not be accepted; nothing was saved."
    context = _context(request, monthly_return, version, lines, typed=typed)
    context |= {
        "error": error,
        "problems": problems,
        "conflict": conflict,
        # After a conflict the person has seen the other figures: saving again replaces
        # them. Otherwise the form keeps the revision it was opened at.
        "form_revision": monthly_return.revision if conflict is not None else expected,
    }
    return render(request, "plans/monthly_return.html", context, status=422)


@login_required
@require_POST
def return_submit(request, slug, ods_code, month):
    plan_round = selectors.round_get(request.user, slug)
    monthly_return = selectors.return_get(request.user, plan_round, ods_code, month)
    try:
        expected = int(request.POST.get("revision", ""))
    except ValueError:
        expected = -1
    with attempt(request) as call:
        version = services.return_submit(
            actor=request.user, monthly_return=monthly_return, expected_revision=expected
        )
    if call.ok:
        messages.success(
            request,
            f"Submitted the {monthly_return.month_label} return as version {version.number}. "
            "The system's figures will be recalculated in a moment.",
        )
    return redirect(_detail_url(monthly_return))


@login_required
def return_download(request, slug, ods_code, month, fmt):
    if fmt not in ("csv", "xlsx"):
        raise Http404("No such format.")
    plan_round = selectors.round_get(request.user, slug)
    monthly_return = selectors.return_get(request.user, plan_round, ods_code, month)
    lines = services.return_lines(plan_round, monthly_return.organisation.kind)
    number = request.GET.get("version")
    version = selectors.return_version_shown(request.user, monthly_return, numbers.whole(number))
    # The CSV is one long table (a row per figure); the workbook is the grid, a row per line.
    make = return_files.long_table if fmt == "csv" else return_files.table
    rows = make(
        plan_round.slug,
        monthly_return.organisation.ods_code,
        monthly_return.month,
        lines.lines,
        services.version_cells(version),
        monthly_return.revision,
    )
    name = f"{monthly_return.organisation.ods_code}-{plan_round.slug}-{monthly_return.month_label}"
    if fmt == "csv":
        response = HttpResponse(return_files.csv_bytes(rows), content_type=CSV_TYPE)
    else:
        response = HttpResponse(
            return_files.xlsx_bytes(rows, monthly_return.month, lines.lines),
            content_type=XLSX_TYPE,
        )
    response["Content-Disposition"] = f'attachment; filename="return-{name}.{fmt}"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def return_upload(request, slug, ods_code, month):
    plan_round = selectors.round_get(request.user, slug)
    monthly_return = selectors.return_get(request.user, plan_round, ods_code, month)
    if not policy.can_prepare(request.user, monthly_return.organisation):
        raise PermissionDenied("Only the organisation's preparers and approvers can upload it.")
    received = None
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            received = receiving.Received(False, "Choose a file to upload.")
        else:
            data = upload.read(settings.PLAN_UPLOAD_MAX_BYTES + 1)
            replace = request.POST.get("replace") == "yes"
            if receiving.is_large(data):
                try:
                    queued = receiving.upload_queue(
                        actor=request.user, plan_round=plan_round,
                        organisation=monthly_return.organisation, name=upload.name, data=data,
                        replace=replace, monthly_return=monthly_return,
                    )  # fmt: skip
                except UploadRejected as exc:
                    received = receiving.Received(False, str(exc))
                else:
                    return redirect(
                        "return_upload_status", plan_round.slug, ods_code, month, queued.pk
                    )
            else:
                received = receiving.receive_return(
                    actor=request.user, monthly_return=monthly_return, name=upload.name,
                    data=data, replace=replace,
                )  # fmt: skip
        if received is not None and received.stored:
            messages.success(request, received.message)
            return redirect(_detail_url(monthly_return))
    return _upload_page(request, monthly_return, received)


def _upload_page(request, monthly_return, received, queued=None):
    refused = received is not None and not received.stored
    return render(
        request,
        "plans/monthly_return_upload.html",
        (listed(received.problems, received.problem_count) if refused else {})
        | {
            "round": monthly_return.round,
            "organisation": monthly_return.organisation,
            "ret": monthly_return,
            "error": received.message if refused else "",
            "offer_replace": refused and received.offer_replace,
            "queued": queued,
        },
        status=422 if refused else 200,
    )


@login_required
def return_upload_status(request, slug, ods_code, month, upload_id):
    """A large return file's page while the worker checks it, then its result."""
    plan_round = selectors.round_get(request.user, slug)
    monthly_return = selectors.return_get(request.user, plan_round, ods_code, month)
    queued = selectors.upload_get(request.user, upload_id)
    if (queued.round_id, queued.organisation_id, queued.month) != (
        plan_round.pk, monthly_return.organisation_id, monthly_return.month
    ):  # fmt: skip
        raise Http404("No such upload.")
    return queued_page(
        request, queued, stored_url=_detail_url(monthly_return),
        page=lambda received: _upload_page(request, monthly_return, received, queued),
    )  # fmt: skip
