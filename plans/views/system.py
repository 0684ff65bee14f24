"""The system lead's and regional reviewer's views of a system: the collated plan and the
agreement-of-balances report, on screen and as exports."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from decimal import Decimal
from pathlib import Path

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from openpyxl import Workbook
from openpyxl.styles import Font

from accounts import policy
from accounts.models import Organisation
from accounts.selectors import system_get
from openbook import numbers
from openbook.exports import CSV_TYPE, Figure, csv_content, long_rows, put_row, raw
from openbook.templatetags import openbook as openbook_tags
from plans import evidence, grid_html, selectors
from plans.calculations import MONTHS, row_total
from plans.excel import XLSX_TYPE
from plans.models import MONTH_LABELS, SystemSubmission, SystemVersion
from plans.services.system import changes_since_sent, snapshot, snapshot_changes
from plans.system_plan import SUMS_SECONDS, source_digest, system_plan_get


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
    figures = _section_figures(plan, section, lines)
    by_org = plan.surplus_by_organisation
    names = {p.ods_code: p.name for p in plan.plans}
    bridge = [{"label": names[ods], "value": str(value)} for ods, value in sorted(by_org.items())]
    consolidated = plan.consolidated
    system_submission = SystemSubmission.objects.filter(
        round=plan.round, system=plan.system
    ).first()
    latest, changes = changes_since_sent(plan)
    return render(
        request,
        "plans/system_plan.html",
        {
            "plan": plan,
            "round": plan.round,
            "system": plan.system,
            "section": section,
            "figures": figures,
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
            "system_versions": system_submission.versions.select_related("created_by")
            if system_submission
            else [],
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


# The code a section's figures are written by (the sums' key names the collation's).
FIGURES_CODE = source_digest(
    __file__, grid_html.__file__, numbers.__file__, openbook_tags.__file__,
    str(Path(__file__).parents[1] / "templates" / "plans" / "includes" / "system_figures.html"),
)  # fmt: skip


def _section_figures(plan, section, lines) -> str:
    """A section's rows of system totals, written once for each collation (and each way of
    showing figures) and stored beside its sums: the same sums always give the same rows."""
    key = (
        "collation:figures:"
        + hashlib.sha256(
            json.dumps(
                [FIGURES_CODE, plan.sums_key, section.pk, numbers.showing_more_places()]
            ).encode()
        ).hexdigest()
    )
    figures = cache.get(key)
    if figures is None:
        rows = [_collated_row(plan, line) for line in lines]
        for row in rows:  # each row's figures written in one go (plans/grid_html.py)
            unit = row["line"].unit
            row["cells"] = grid_html.figure_cells(
                row["months"], unit, "nhsuk-table__cell ob-num"
            ) + grid_html.figure_cells([row["year"]], unit, "nhsuk-table__cell ob-num ob-year")
        figures = render_to_string("plans/includes/system_figures.html", {"rows": rows})
        cache.set(key, figures, SUMS_SECONDS)
    return mark_safe(figures)  # noqa: S308  (written by the template above, escaped there)


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
    review = None
    if policy.can_review_system_plan(request.user, plan.system):
        review = _system_review(request, version)
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
            "review": review,
            "is_latest": version.number == max(numbers_of(version.submission)),
            "can_review_system": policy.can_review_system_plan(request.user, plan.system),
        },
    )


def numbers_of(submission) -> list[int]:
    return list(submission.versions.order_by("number").values_list("number", flat=True))


def _system_review(request, version: SystemVersion) -> dict:
    """For the region's reviewers: the version's evidence, and what changed since the version
    they last opened."""
    submission = version.submission
    numbers = numbers_of(submission)
    seen = evidence.last_seen(request.user, system_submission=submission)
    base = evidence.compare_base(version.number, seen, numbers)
    changes = None
    if base is not None:
        earlier = submission.versions.get(number=base)
        changes = snapshot_changes(earlier.snapshot, version.snapshot)
    evidence.seen_record(request.user, version.number, system_submission=submission)
    return {
        "evidence": evidence.system_evidence(submission.round, submission.system, version.snapshot),
        "seen": seen,
        "base": base,
        "changes": changes,
    }


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
        "year": row_total(line.unit, by_month, line.role) if by_month else None,
    }


def _collated_rows(plan):
    yield ["Section", "Code", "Line", "Unit", *MONTH_LABELS, "Year"]
    for section, lines in plan.sections:
        for line in lines:
            row = _collated_row(plan, line)
            if not any(row["months"]):
                continue
            unit = line.get_unit_display()
            figures = [Figure(v, line.unit) for v in [*row["months"], row["year"]]]
            yield [section.name, line.code, line.label, unit, *figures]


def _status_rows(plan):
    yield ["Organisation", "ODS code", "Kind", "Plan", "Late", "Surplus / (deficit), £000"]
    by_org = plan.surplus_by_organisation
    for s in plan.statuses:
        o = s.organisation
        yield [o.name, o.ods_code, o.get_kind_display(), s.state, "yes" if s.late else "",
               Figure(by_org.get(o.ods_code))]  # fmt: skip
    yield ["System", "", "", "", "", Figure(sum(by_org.values(), Decimal(0)))]


def _kind_rows(plan):
    yield ["Kind of organisation", "Surplus / (deficit), £000"]
    for kind, value in sorted(plan.surplus_by_kind.items()):
        yield [Organisation.Kind(kind).label, Figure(value)]


def _consolidated_rows(plan):
    c = plan.consolidated
    yield ["Line, £000", *MONTH_LABELS, "Year"]
    for label, by_month in (
        ("Income (after eliminations)", c.income),
        ("Expenditure (after eliminations)", c.expenditure),
        ("Eliminated (partners' payments to each other)", c.eliminated),
        ("Surplus / (deficit) before eliminations", c.surplus_before),
        ("Surplus / (deficit)", c.surplus_after),
    ):
        months = [by_month[m] for m in MONTHS]
        yield [label, *(Figure(v) for v in [*months, sum(months, Decimal(0))])]


def _balance_rows(plan, names):
    yield [
        "Measure",
        "Provider",
        "Provider ODS code",
        "Commissioner",
        "Commissioner ODS code",
        "Provider plans",
        "Commissioner plans",
        "Difference",
        "Difference %",
        "Status",
        "Agreed figure",
    ]
    for pair in plan.income_balances + plan.activity_balances:
        unit = "gbp000" if pair in plan.income_balances else "count"
        yield [
            pair.measure,
            names.get(pair.provider, pair.provider),
            pair.provider,
            names.get(pair.commissioner, pair.commissioner),
            pair.commissioner,
            Figure(pair.known_provider_figure, unit),
            Figure(pair.known_commissioner_figure, unit),
            Figure(pair.known_difference, unit),
            Figure(pair.known_percent, "percent"),
            pair.status_label,
            Figure(pair.agreed_figure, unit),
        ]


def _pay_rows(plan, names):
    yield ["Organisation", "ODS code", "Staff group", "Pay, £000", "Average WTE",
           "Pay per WTE, £", "Check"]  # fmt: skip
    for c in plan.pay_checks:
        yield [names.get(c.ods_code, c.ods_code), c.ods_code, c.group, Figure(c.pay),
               Figure(c.wte, "wte"),
               Figure(None if c.per_wte is None else c.per_wte * 1000, "pounds"),
               "Check" if c.flagged else "In range"]  # fmt: skip


def _export(blocks, fmt: str, filename: str) -> HttpResponse:
    """An export of the page's tables, `blocks` of (title, rows): in Excel a sheet each, the
    header row frozen; in CSV one table in long format, a row per figure. Every text cell is
    neutralised against formula injection."""
    if fmt not in ("csv", "xlsx"):
        raise Http404("Exports are .xlsx or .csv.")
    if fmt == "csv":
        out = io.StringIO()
        columns, rows = long_rows(blocks)
        writer = csv.DictWriter(out, fieldnames=columns, restval="")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: raw(v) for k, v in row.items()})
        response = HttpResponse(csv_content(out.getvalue()), content_type=CSV_TYPE)
    else:
        wb = Workbook()
        wb.remove(wb.active)
        for title, rows in blocks:
            ws = wb.create_sheet(title[:31])
            for row in rows:
                put_row(ws, row)
            for cell in ws[1]:
                cell.font = Font(bold=True)
            ws.freeze_panes = "A2"  # the headings stay in view as the figures scroll
        out = io.BytesIO()
        wb.save(out)

        response = HttpResponse(out.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return response


@login_required
def system_plan_export(request, slug, code, fmt):
    plan = _plan(request, slug, code)
    blocks = [
        ("System plan", list(_collated_rows(plan))),
        ("Where each plan stands", list(_status_rows(plan))),
        ("By kind", list(_kind_rows(plan))),
        ("Consolidated I&E", list(_consolidated_rows(plan))),
    ]
    return _export(blocks, fmt, f"{plan.system.code}-{plan.round.slug}-system-plan")


@login_required
def system_balances_export(request, slug, code, fmt):
    plan = _plan(request, slug, code)
    names = {o.organisation.ods_code: o.organisation.name for o in plan.statuses}
    blocks = [
        ("Balances", list(_balance_rows(plan, names))),
        ("Pay per WTE", list(_pay_rows(plan, names))),
    ]
    return _export(blocks, fmt, f"{plan.system.code}-{plan.round.slug}-balances")
