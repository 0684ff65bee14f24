"""The system lead's and regional reviewer's views of a system: the collated plan and the
agreement-of-balances report, on screen and as exports."""

from __future__ import annotations

import csv
import io

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from openpyxl import Workbook
from openpyxl.styles import Font

from accounts import policy
from accounts.models import Organisation
from accounts.selectors import system_get
from openbook.exports import CSV_TYPE, csv_content, neutralise
from plans import selectors
from plans.calculations import MONTHS, row_total
from plans.models import MONTH_LABELS, SystemSubmission, SystemVersion
from plans.services.system import snapshot, snapshot_changes
from plans.system_plan import system_plan_get


def _plan(request, slug, code):
    plan_round = selectors.round_get(request.user, slug)
    system = system_get(request.user, code)
    return system_plan_get(request.user, plan_round, system)


@login_required
def system_plan(request, slug, code):
    plan = _plan(request, slug, code)
    section_code = request.GET.get("section") or "finance"
    section, lines = next(
        ((s, ls) for s, ls in plan.sections if s.code == section_code), plan.sections[0]
    )
    rows = [_collated_row(plan, line) for line in lines]
    by_org = plan.surplus_by_organisation
    names = {p.ods_code: p.name for p in plan.plans}
    bridge = [{"label": names[ods], "value": str(value)} for ods, value in sorted(by_org.items())]
    consolidated = plan.consolidated
    system_submission = SystemSubmission.objects.filter(
        round=plan.round, system=plan.system
    ).first()
    versions = (
        list(system_submission.versions.select_related("created_by")) if system_submission else []
    )
    latest = max(versions, key=lambda v: v.number, default=None)
    changes = snapshot_changes(latest.snapshot, snapshot(plan)) if latest else []
    return render(
        request,
        "plans/system_plan.html",
        {
            "plan": plan,
            "round": plan.round,
            "system": plan.system,
            "section": section,
            "rows": rows,
            "months": MONTH_LABELS,
            "surplus_rows": [(names[ods], ods, value) for ods, value in sorted(by_org.items())],
            "surplus_total": sum(by_org.values()),
            "kind_rows": sorted(
                (Organisation.Kind(kind).label, value)
                for kind, value in plan.surplus_by_kind.items()
            ),
            "consolidated": [
                ("Income (after eliminations)", [consolidated.income[m] for m in MONTHS]),
                ("Expenditure (after eliminations)", [consolidated.expenditure[m] for m in MONTHS]),
                (
                    "Eliminated (partners' payments to each other)",
                    [consolidated.eliminated[m] for m in MONTHS],
                ),
                ("Surplus / (deficit)", [consolidated.surplus_after[m] for m in MONTHS]),
            ],
            "system_submission": system_submission,
            "system_versions": versions,
            "latest_version": latest,
            "changes": changes,
            "system_comments": system_submission.comments.select_related("author")
            if system_submission
            else [],
            "can_submit_system": policy.can_submit_system_plan(request.user, plan.system),
            "can_review_system": policy.can_review_system_plan(request.user, plan.system),
            "chart": {
                "bridge": bridge,
                "months": list(MONTH_LABELS),
                "surplus": [str(consolidated.surplus_after[m]) for m in MONTHS],
            },
        },
    )


@login_required
def system_version(request, slug, code, number):
    """A version sent to the region, as it was frozen: what the region was asked to approve,
    with its full narrative, and what has changed in the live plan since."""
    plan = _plan(request, slug, code)
    version = (
        SystemVersion.objects.filter(
            submission__round=plan.round, submission__system=plan.system, number=number
        )
        .select_related("created_by", "submission")
        .first()
    )
    if version is None:
        raise Http404("No such version of the system plan.")
    data = version.snapshot
    consolidated = data.get("consolidated", {})
    return render(
        request,
        "plans/system_version.html",
        {
            "round": plan.round,
            "system": plan.system,
            "version": version,
            "data": data,
            "names": {o["ods_code"]: o["name"] for o in data.get("organisations", [])},
            "consolidated": [
                (label, [consolidated.get(str(m), {}).get(key) for m in MONTHS])
                for label, key in (
                    ("Income (after eliminations)", "income"),
                    ("Expenditure (after eliminations)", "expenditure"),
                    ("Eliminated (partners' payments to each other)", "eliminated"),
                    ("Surplus / (deficit)", "surplus"),
                )
            ],
            "months": MONTH_LABELS,
            "changes": snapshot_changes(data, snapshot(plan)),
        },
    )


@login_required
def system_balances(request, slug, code):
    plan = _plan(request, slug, code)
    names = {o.organisation.ods_code: o.organisation.name for o in plan.statuses}
    return render(
        request,
        "plans/system_balances.html",
        {"plan": plan, "round": plan.round, "system": plan.system, "names": names},
    )


def _collated_row(plan, line) -> dict:
    """A line's system figures: money, activity and WTE add up across partners (the year is
    the sum, or for WTE the March position); percentages do not add up, so none are shown."""
    if line.unit == "percent":
        return {"line": line, "months": [None] * 12, "year": None}
    by_month = {m: plan.totals[(line.code, m)] for m in MONTHS if (line.code, m) in plan.totals}
    return {
        "line": line,
        "months": [by_month.get(m) for m in MONTHS],
        "year": row_total(line.unit, by_month, line.section.code) if by_month else None,
    }


def _collated_rows(plan):
    yield ["Section", "Code", "Line", "Unit", *MONTH_LABELS, "Year"]
    for section, lines in plan.sections:
        for line in lines:
            row = _collated_row(plan, line)
            if not any(row["months"]):
                continue
            unit = line.get_unit_display()
            yield [section.name, line.code, line.label, unit, *row["months"], row["year"]]


def _balance_rows(plan):
    yield [
        "Measure",
        "Provider",
        "Commissioner",
        "Provider plans",
        "Commissioner plans",
        "Difference",
        "Difference %",
        "Status",
        "Agreed figure",
    ]
    for pair in plan.income_balances + plan.activity_balances:
        yield [
            pair.measure,
            pair.provider,
            pair.commissioner,
            pair.provider_figure,
            pair.commissioner_figure,
            pair.difference,
            pair.percent,
            pair.status_label,
            pair.agreed_figure,
        ]


def _export(rows, fmt: str, filename: str, sheet: str) -> HttpResponse:
    """An export as CSV or xlsx; every text cell neutralised against formula injection."""
    if fmt not in ("csv", "xlsx"):
        raise Http404("Exports are .xlsx or .csv.")
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        for row in rows:
            writer.writerow([neutralise("" if v is None else v) for v in row])
        response = HttpResponse(csv_content(out.getvalue()), content_type=CSV_TYPE)
    else:
        wb = Workbook()
        ws = wb.active
        ws.title = sheet
        for row in rows:
            ws.append([neutralise(v) for v in row])
        for cell in ws[1]:
            cell.font = Font(bold=True)
        out = io.BytesIO()
        wb.save(out)
        from plans.excel import XLSX_TYPE

        response = HttpResponse(out.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return response


@login_required
def system_plan_export(request, slug, code, fmt):
    plan = _plan(request, slug, code)
    return _export(
        _collated_rows(plan),
        fmt,
        f"{plan.system.code}-{plan.round.slug}-system-plan",
        "System plan",
    )


@login_required
def system_balances_export(request, slug, code, fmt):
    plan = _plan(request, slug, code)
    return _export(
        _balance_rows(plan), fmt, f"{plan.system.code}-{plan.round.slug}-balances", "Balances"
    )
