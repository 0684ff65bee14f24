"""Download the plan as Excel or CSV; upload it back."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from openbook.exports import CSV_TYPE, csv_content
from openbook.refusals import listed
from plans import excel, selectors
from plans.services import receiving
from plans.views.common import plan_context, queued_page, version_for


def _filename(ctx, version, ext: str) -> str:
    which = "draft" if version is None or version.is_draft else f"v{version.number}"
    return f"{ctx.organisation.ods_code}-{ctx.round.slug}-{which}.{ext}"


@login_required
def download_xlsx(request, slug, ods_code):
    ctx = plan_context(request, slug, ods_code)
    version = version_for(request, ctx)
    data = excel.workbook_bytes(excel.build_workbook(ctx.round, ctx.organisation, version))
    response = HttpResponse(data, content_type=excel.XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{_filename(ctx, version, "xlsx")}"'
    return response


@login_required
def download_csv(request, slug, ods_code):
    ctx = plan_context(request, slug, ods_code)
    version = version_for(request, ctx)
    response = HttpResponse(
        csv_content(excel.version_csv(ctx.round, ctx.organisation, version)), content_type=CSV_TYPE
    )
    response["Content-Disposition"] = f'attachment; filename="{_filename(ctx, version, "csv")}"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def upload(request, slug, ods_code):
    ctx = plan_context(request, slug, ods_code)
    if not ctx.can_edit:
        raise PermissionDenied(
            "Only the organisation's preparers and approvers can upload its plan."
        )
    received = None
    if request.method == "POST":
        upload_file = request.FILES.get("file")
        if upload_file is None:
            received = receiving.Received(False, "Choose a file to upload.")
        else:
            data = upload_file.read(settings.PLAN_UPLOAD_MAX_BYTES + 1)
            replace = request.POST.get("replace") == "yes"
            if receiving.is_large(data):
                try:
                    queued = receiving.upload_queue(
                        actor=request.user, plan_round=ctx.round, organisation=ctx.organisation,
                        name=upload_file.name, data=data, replace=replace,
                    )  # fmt: skip
                except excel.UploadRejected as exc:
                    received = receiving.Received(False, str(exc))
                else:
                    return redirect(
                        "plan_upload_status", ctx.round.slug, ctx.organisation.ods_code, queued.pk
                    )
            else:
                received = receiving.receive_plan(
                    actor=request.user, plan_round=ctx.round, organisation=ctx.organisation,
                    name=upload_file.name, data=data, replace=replace,
                )  # fmt: skip
        if received is not None and received.stored:
            messages.success(request, received.message)
            return redirect("plan_detail", ctx.round.slug, ctx.organisation.ods_code)
    return _upload_page(request, ctx, received)


def _upload_page(request, ctx, received, queued=None):
    refused = received is not None and not received.stored
    return render(
        request,
        "plans/upload.html",
        ctx.as_dict()
        | (listed(received.problems, received.problem_count) if refused else {})
        | {
            "error": received.message if refused else "",
            "offer_replace": refused and received.offer_replace,
            "queued": queued,
            "csv_header": ",".join(excel.CSV_HEADER),
        },  # fmt: skip
        status=422 if refused else 200,
    )


@login_required
def upload_status(request, slug, ods_code, upload_id):
    """A large file's page while the worker checks it, then its result: stored (on to the
    plan, with the message), or refused (the upload page again, with every reason)."""
    ctx = plan_context(request, slug, ods_code)
    queued = selectors.upload_get(request.user, upload_id)
    if queued.round_id != ctx.round.pk or queued.organisation_id != ctx.organisation.pk:
        raise Http404("No such upload.")
    return queued_page(
        request, queued,
        stored_url=reverse("plan_detail", args=[ctx.round.slug, ctx.organisation.ods_code]),
        page=lambda received: _upload_page(request, ctx, received, queued),
    )  # fmt: skip
