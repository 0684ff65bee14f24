"""The round owner's page for the figures it provides (last year's outturn, allocations): what
has been given so far, and a CSV file to give or change them, checked whole."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Sum
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts import policy
from accounts.models import Organisation
from openbook.csvtext import CsvUnreadable, csv_rows
from openbook.refusals import attempt
from plans import selectors
from plans.models import ProvidedFigure
from plans.services.provided import ProvidedInput, provided_lines, provided_save

# A national round's provided figures: about 450 organisations, a few lines, twelve months.
MAX_ROWS = 50_000
MAX_BYTES = 5 * 1024 * 1024
HEADER = ["organisation", "line", "month", "value"]


def _rows(upload) -> list[ProvidedInput]:
    if upload is None:
        raise CsvUnreadable("Choose a CSV file to upload.")
    if upload.size > MAX_BYTES:
        raise CsvUnreadable(f"The file is larger than {MAX_BYTES // 1024 // 1024} MB.")
    try:
        text = upload.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CsvUnreadable(
            "The file is not UTF-8 text: save it from Excel as “CSV UTF-8”."
        ) from None
    rows = csv_rows(text, max_rows=MAX_ROWS + 1)
    if not rows or [c.strip().lower() for c in rows[0]] != HEADER:
        raise CsvUnreadable(f"The first row must be the headings {', '.join(HEADER)}.")
    return [
        ProvidedInput(*(row + ["", "", "", ""])[:4], where=f"row {n}")
        for n, row in enumerate(rows[1:], start=2)
        if any(cell.strip() for cell in row)
    ]


@login_required
@require_http_methods(["GET", "POST"])
def round_provided(request, slug):
    plan_round = selectors.round_get(request.user, slug)
    if not policy.is_platform_admin(request.user):
        raise PermissionDenied("Only a platform administrator can provide a round's figures.")
    problems: list[dict] = []
    error = ""
    if request.method == "POST":
        try:
            rows = _rows(request.FILES.get("file"))
        except CsvUnreadable as exc:
            error = str(exc)
        else:
            with attempt() as call:
                result = provided_save(actor=request.user, plan_round=plan_round, rows=rows)
            if call.refusal is None:
                messages.success(
                    request,
                    f"{result.figures:,} figures given or changed for {result.organisations} "
                    f"organisations, and copied into {result.drafts} working drafts."
                    if result.figures
                    else "The file matches the figures already provided, so nothing changed.",
                )
                return redirect(request.path)
            error, problems = call.refusal.message, call.refusal.problems[:200]
    lines = provided_lines(plan_round)
    given = {
        row["line__code"]: row
        for row in ProvidedFigure.objects.filter(round=plan_round)
        .values("line__code")
        .annotate(organisations=Count("organisation", distinct=True), total=Sum("value"))
    }
    summary = [
        {
            "line": line,
            "planned_by": Organisation.objects.filter(kind__in=line.kinds).count(),
            "organisations": given.get(code, {}).get("organisations", 0),
            "total": given.get(code, {}).get("total"),
        }
        for code, line in lines.items()
    ]
    return render(
        request,
        "plans/round_provided.html",
        {
            "round": plan_round,
            "summary": summary,
            "error": error,
            "problems": problems,
            "problem_count": len(problems),
            "cell_heading": "Row",
        },  # fmt: skip
        status=422 if error else 200,
    )
