"""`openbook seed --scale national`: a synthetic national round in the configured database.

Seven regions, 42 systems and about 450 organisations of realistic kinds and sizes, each with
a full submitted plan (plausible figures, partners mostly agreeing, some mismatches). Every
name is made up. Safe to run again: it makes only what is missing.
"""

from __future__ import annotations

import datetime as dt
import sys

from django.db import transaction
from django.utils import timezone

from accounts.models import Organisation, Region, System
from accounts.second_factor import unattended
from demo.synthetic import board_approver, plan_cells
from plans.models import PlanningRound, Submission
from plans.services import (
    draft_save,
    narrative_save,
    round_save,
    submission_start,
    submission_submit,
    template_load,
)

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


@unattended("demo data: its people are not there to type a code")
def seed_national(out=sys.stdout) -> dict[str, int]:
    version, _ = template_load()
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
    made = 0
    organisations = list(Organisation.objects.filter(system__in=systems).order_by("ods_code"))
    done = set(
        Submission.objects.filter(round=plan_round, status=Submission.Status.SUBMITTED).values_list(
            "organisation_id", flat=True
        )
    )
    for n, organisation in enumerate(organisations, start=1):
        if organisation.pk in done:
            continue
        with transaction.atomic():
            approver = board_approver(organisation, "national.openbook.invalid")
            submission = submission_start(
                actor=approver, plan_round=plan_round, organisation=organisation
            )
            draft_save(
                actor=approver,
                submission=submission,
                cells=plan_cells(plan_round, organisation),
                source="seed",
            )
            narrative_save(
                actor=approver,
                submission=submission,
                section_code="summary",
                text="Synthetic plan.",
            )
            submission_submit(
                actor=approver,
                submission=submission,
                board_approval_date=timezone.localdate() - dt.timedelta(days=7),
                confirmed=True,
            )
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
    values = Value.objects.filter(
        version__submission__round=plan_round, version__number__gt=0
    ).count()
    return {
        "regions": len(REGIONS),
        "systems": len(systems),
        "organisations": len(organisations),
        "plans submitted now": made,
        "submitted values": values,
        **money,
    }
