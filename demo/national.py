"""`openbook seed --scale national`: a synthetic national round in the configured database.

Seven regions, 42 systems and about 450 organisations of realistic kinds and sizes, on the
built-in template's current version. Each organisation submits twice, as the national exercise
asks: a draft plan by the draft deadline, then (recalled, with more efficiency found and less
agency staff) its final plan. Figures are plausible (demo/realistic.py): most providers in
deficit, partners mostly agreeing, a few mismatches. Every name is made up. Safe to run again:
it makes only what is missing.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from dataclasses import replace
from decimal import Decimal

from django.core.management.base import CommandError
from django.db import transaction
from django.utils import timezone

from accounts.models import Organisation, Region, System
from accounts.second_factor import unattended
from demo import realistic
from demo.schemes import as_provided, as_schemes
from demo.synthetic import board_approver
from plans.cells import CellInput
from plans.models import PlanningRound, Submission, Version
from plans.services import (
    CURRENT_TEMPLATE,
    draft_save,
    narrative_save,
    round_save,
    submission_recall,
    submission_start,
    submission_submit,
    table_save,
    template_load,
)
from plans.services.provided import provided_save

K = Organisation.Kind
REGIONS = ["Northmoor", "Eastmarsh", "Westvale", "Southdown", "Midfield", "Highcombe", "Lowmead"]
SYSTEMS_PER_REGION = 6
# About eleven partners a system: the ICB, acute, community, mental health and ambulance
# trusts, councils, a primary care network and a voluntary sector partner.
SHAPE = [
    (K.COMMISSIONER, "NHS {s} Integrated Care Board"),
    (K.ACUTE, "{s} General Hospital NHS Trust"),
    (K.ACUTE, "{s} University Hospitals NHS Foundation Trust"),
    (K.ACUTE, "{s} Royal Infirmary NHS Trust"),
    (K.COMMUNITY, "{s} Community Health NHS Trust"),
    (K.MENTAL_HEALTH, "{s} Mind and Wellbeing NHS Foundation Trust"),
    (K.AMBULANCE, "{s} Ambulance Service NHS Trust"),
    (K.LOCAL_AUTHORITY, "{s} County Council"),
    (K.LOCAL_AUTHORITY, "{s} City Council"),
    (K.PRIMARY_CARE_NETWORK, "{s} Central Primary Care Network"),
    (K.VOLUNTARY, "{s} Community Voluntary Services"),
]
ROUND_SLUG = "2026-27-national"
Q = Decimal("0.001")
PLACES = ["Ashford", "Brackley", "Carwood", "Dunmere", "Elston", "Fernley"]


def _structure() -> list[System]:
    systems = []
    for r, region_name in enumerate(REGIONS, start=1):
        region, _ = Region.objects.get_or_create(
            code=f"nat{r}", defaults={"name": f"{region_name} (synthetic region)"}
        )
        for s in range(1, SYSTEMS_PER_REGION + 1):
            number = (r - 1) * SYSTEMS_PER_REGION + s
            place = f"{PLACES[s - 1]} {region_name}"
            system, _ = System.objects.get_or_create(
                code=f"nat{number:02d}", defaults={"name": f"{place} ICS", "region": region}
            )
            shape = SHAPE if number % 3 else SHAPE[:-2]  # some systems are smaller
            for i, (kind, pattern) in enumerate(shape):
                Organisation.objects.get_or_create(
                    ods_code=f"Y{number:02d}{chr(65 + i)}",
                    defaults={"name": pattern.format(s=place), "kind": kind, "system": system},
                )
            systems.append(system)
    return systems


def final_changes(cells: list[CellInput]) -> list[CellInput]:
    """What changes between an organisation's draft and final plans: 10% more efficiency,
    found in other non-pay, and a tenth less agency staff and pay."""
    by_key = {(c.line, c.counterparty, c.month): c for c in cells}
    changed = []
    for cell in cells:
        value = Decimal(cell.value)
        if cell.line.startswith("EF"):
            more = (value / 10).quantize(Q)
            other = by_key.get(("NPOTH", None, cell.month))
            changed.append(replace(cell, value=value + more))
            if other is not None:
                by_key[("NPOTH", None, cell.month)] = replace(
                    other, value=max(Decimal(other.value) - more, Decimal(0))
                )
        elif re.fullmatch(r"(PAY|WTE)[A-Z]{3}A", cell.line):
            changed.append(replace(cell, value=(value * Decimal("0.9")).quantize(Q)))
    return changed + [c for c in by_key.values() if c.line == "NPOTH"]


def _with(cells: list[CellInput], changes: list[CellInput]) -> list[CellInput]:
    changed = {(c.line, c.counterparty, c.month): c for c in changes}
    return [changed.get((c.line, c.counterparty, c.month), c) for c in cells]


def _tables(approver, submission: Submission, tables: dict) -> None:
    for code, rows in tables.items():
        table_save(actor=approver, submission=submission, section_code=code, rows=rows,
                   started=None, source="seed")  # fmt: skip


def _submit_twice(plan_round: PlanningRound, organisation: Organisation) -> None:
    """The draft submission, then the final one (version 2). A plan left part way by an
    earlier run carries on from where it stopped."""
    approver = board_approver(organisation, "national.openbook.invalid")
    every, given = as_provided(
        plan_round, organisation, realistic.plan_cells(plan_round, organisation)
    )
    # NHS England's figures (last year's outturn, the allocations) before the plan starts.
    provided_save(actor=None, plan_round=plan_round, rows=given)
    submission = submission_start(actor=approver, plan_round=plan_round, organisation=organisation)
    cells, tables = as_schemes(plan_round, organisation, every)
    submitted = submission.versions.filter(number__gt=0).count()
    board = timezone.localdate() - dt.timedelta(days=7)
    if submitted == 0:
        draft_save(actor=approver, submission=submission, cells=cells, source="seed")
        _tables(approver, submission, tables)
        narrative_save(actor=approver, submission=submission, section_code="summary",
                       text="Synthetic plan: the draft submission.")  # fmt: skip
        submission_submit(actor=approver, submission=submission, board_approval_date=board,
                          confirmed=True)  # fmt: skip
    submission.refresh_from_db()
    if submission.status == Submission.Status.SUBMITTED:
        submission_recall(actor=approver, submission=submission)
    changes = final_changes(every)
    # More efficiency is more schemes' savings: the lines the schemes feed change with them.
    typed, tables = as_schemes(plan_round, organisation, _with(every, changes))
    fed = {c.line for c in every} - {c.line for c in typed}
    changes = [c for c in changes if c.line not in fed]
    if changes:
        draft_save(actor=approver, submission=submission, cells=changes, source="seed")
    _tables(approver, submission, tables)
    narrative_save(actor=approver, submission=submission, section_code="summary",
                   text="Synthetic plan: the final submission, more efficiency found.")  # fmt: skip
    submission_submit(actor=approver, submission=submission, board_approval_date=board,
                      confirmed=True)  # fmt: skip


@unattended("demo data: its people are not there to type a code")
def seed_national(out=sys.stdout) -> dict[str, int]:
    version, _ = template_load(path=CURRENT_TEMPLATE)
    with transaction.atomic():
        systems = _structure()
        plan_round = PlanningRound.objects.filter(slug=ROUND_SLUG).first()
        if plan_round is None:
            now = timezone.now()
            plan_round = round_save(
                actor=None,
                plan_round=PlanningRound(
                    name="2026/27 operational plan (national synthetic)",
                    slug=ROUND_SLUG,
                    financial_year=2026,
                    template_version=version,
                    draft_deadline=now + dt.timedelta(days=60),
                    final_deadline=now + dt.timedelta(days=90),
                ),
            )
        elif plan_round.template_version_id != version.pk:
            raise CommandError(
                f"The national round in this database is on {plan_round.template_version}, "
                f"made by an earlier version of this command; the seed now makes it on "
                f"{version}. Seed a fresh database (or delete the round {ROUND_SLUG!r})."
            )
    made = 0
    organisations = list(Organisation.objects.filter(system__in=systems).order_by("ods_code"))
    done = set(
        Version.objects.filter(submission__round=plan_round, number=2).values_list(
            "submission__organisation_id", flat=True
        )
    )
    for n, organisation in enumerate(organisations, start=1):
        if organisation.pk in done:
            continue
        with transaction.atomic():
            _submit_twice(plan_round, organisation)
        made += 1
        if n % 50 == 0:
            out.write(f"  {n}/{len(organisations)} organisations\n")
    from django.db import connection

    from demo.national_money import seed_payments
    from plans.models import Value

    money = seed_payments(plan_round, systems, out)

    with connection.cursor() as cursor:
        # Fresh statistics after a bulk load, so the planner sizes the collation's aggregates.
        cursor.execute(
            "ANALYZE plans_value, plans_version, plans_submission, accounts_organisation, "
            "plans_returnvalue, plans_returnversion, plans_monthlyreturn"
        )
    submitted = Value.objects.filter(version__submission__round=plan_round, version__number__gt=0)
    return {
        "regions": len(REGIONS),
        "systems": len(systems),
        "organisations": len(organisations),
        "plans submitted now (draft and final)": made,
        "submitted versions": Version.objects.filter(
            submission__round=plan_round, number__gt=0
        ).count(),
        "submitted values": submitted.count(),
        "values in the final plans": submitted.filter(version__number=2).count(),
        **money,
    }
