"""Download the plan as Excel or CSV; upload it back."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from openbook.exports import CSV_TYPE, csv_content
from openbook.refusals import attempt
from plans import excel, services
from plans.views.common import plan_context, version_for


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
    error = ""
    problems: list[dict] = []
    offer_replace = False
    if request.method == "POST":
        upload_file = request.FILES.get("file")
        if upload_file is None:
            error = "Choose a file to upload."
        else:
            with attempt() as call:
                data = upload_file.read(settings.PLAN_UPLOAD_MAX_BYTES + 1)
                try:
                    kind = excel.sniff(upload_file.name, data)
                    parse = excel.parse_xlsx if kind == "xlsx" else excel.parse_csv
                    parsed = parse(data, ctx.round, ctx.organisation)
                except excel.UploadRejected as exc:
                    raise ValidationError(str(exc)) from None
                result = services.start_and_upload(
                    actor=request.user,
                    plan_round=ctx.round,
                    organisation=ctx.organisation,
                    submission=ctx.submission,
                    parsed=parsed,
                    source=kind,
                    replace_newer_draft=request.POST.get("replace") == "yes",
                )
            if call.refusal:
                error, problems = call.refusal.message, call.refusal.problems
                offer_replace = call.refusal.conflict
            else:
                if result.changed:
                    plural = "s" if result.changed != 1 else ""
                    messages.success(request, f"Uploaded: {result.changed} figure{plural} changed.")
                else:
                    messages.success(
                        request, "Uploaded: the file matches the draft, so nothing changed."
                    )
                return redirect(
                    reverse("plan_detail", args=[ctx.round.slug, ctx.organisation.ods_code])
                )
    return render(
        request,
        "plans/upload.html",
        ctx.as_dict()
        | {
            "error": error,
            "problems": problems,
            "offer_replace": offer_replace,
            "csv_header": ",".join(excel.CSV_HEADER),
        },  # fmt: skip
        status=422 if error else 200,
    )
