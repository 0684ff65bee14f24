"""`openbook bench collate`: collate every system of the national round, against one
hand-written SQL aggregate of the same inputs; and the largest system's page render time,
for an administrator and for the system's lead.

The collation runs as the platform does (the application role in the platform scope, under
row-level security: accounts/rowsecurity.py); the aggregate as the tables' owner, which no
policy binds. The lead's page is row-level security's cost for one person's scope.

Run `openbook seed --scale national` first.
"""

from __future__ import annotations

import statistics
import time
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.test import Client

from accounts import rowsecurity
from accounts.models import Membership, Role, System, User
from demo.national import ROUND_SLUG
from plans.models import PlanningRound
from plans.queries import latest_counted
from plans.system_plan import build, fetch_plans, template_lines

BASELINE_SQL = (
    "WITH "  # noqa: S608 (constants only)
    + latest_counted()
    + """
    SELECT o.system_id, v.line_id, v.month, SUM(v.value)
    FROM latest
    JOIN plans_value v ON v.version_id = latest.version_id
    JOIN accounts_organisation o ON o.id = latest.organisation_id
    GROUP BY 1, 2, 3
"""
)


def _collate_all(plan_round: PlanningRound, systems: list[System]) -> Decimal:
    """Collate every system; return the sum of every input line's system totals (a check)."""
    with rowsecurity.platform():
        return _collate(plan_round, systems)


def _collate(plan_round: PlanningRound, systems: list[System]) -> Decimal:
    fetched = fetch_plans(plan_round, [s.pk for s in systems])
    template = template_lines(plan_round)
    inputs = {spec.code for spec in template.specs if not spec.is_derived}
    total = Decimal(0)
    for system in systems:
        plan = build(plan_round, system, fetched, template)
        total += sum(
            (v for code, row in plan.rows.items() if code in inputs for v in row if v is not None),
            Decimal(0),
        )
    return total


def _baseline(plan_round: PlanningRound, systems: list[System]) -> Decimal:
    # The same memory for the aggregate as the collation gives itself, for a fair comparison.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute(BASELINE_SQL, {"round": plan_round.pk, "systems": [s.pk for s in systems]})
        return sum((row[3] for row in cursor.fetchall()), Decimal(0))


def run(repeats: int = 7, round_slug: str = ROUND_SLUG) -> dict:
    plan_round = PlanningRound.objects.filter(slug=round_slug).first()
    if plan_round is None:
        raise SystemExit(f"No round {round_slug!r}: run `openbook seed --scale national` first.")
    systems = list(System.objects.filter(organisations__submissions__round=plan_round).distinct())
    values = (
        plan_round.submissions.filter(versions__number__gt=0).values("versions__values").count()
    )
    # One untimed pass of each first, so neither is timed with cold caches.
    _collate_all(plan_round, systems)
    _baseline(plan_round, systems)
    ours, base = [], []
    for _ in range(repeats):
        started = time.perf_counter()
        collated = _collate_all(plan_round, systems)
        ours.append(time.perf_counter() - started)
        started = time.perf_counter()
        expected = _baseline(plan_round, systems)
        base.append(time.perf_counter() - started)
        # A fast collation that lost figures would be no result: both must add up the same.
        if collated != expected:
            raise SystemExit(
                f"Collation total {collated} differs from the SQL aggregate {expected}."
            )
    largest = max(systems, key=lambda s: s.organisations.count())
    admin = User.objects.filter(is_superuser=True).first() or User.objects.create_superuser(
        "bench-admin@openbook.invalid", None, full_name="Bench administrator"
    )
    lead = User.objects.filter(
        memberships__role=Role.SYSTEM_LEAD, memberships__system=largest
    ).first()
    if lead is None:
        lead = User.objects.create_user(
            f"bench-lead-{largest.code}@openbook.invalid", None, full_name="Bench system lead"
        )
        Membership.objects.create(user=lead, role=Role.SYSTEM_LEAD, system=largest)
    url = f"/rounds/{plan_round.slug}/systems/{largest.code}/"
    seconds, baseline = statistics.median(ours), statistics.median(base)
    return {
        "bench": "collate",
        "systems": len(systems),
        "values": values,
        "seconds": round(seconds, 4),
        "baseline_seconds": round(baseline, 4),
        "ratio": round(seconds / baseline, 2),
        "largest_system_page_ms": _page_ms(admin, url, repeats),
        "largest_system_page_lead_ms": _page_ms(lead, url, repeats),
    }


def _page_ms(user: User, url: str, repeats: int) -> float:
    """The page's median time as a browser would ask for it: a host the settings allow, over
    HTTPS when the settings redirect plain HTTP."""
    secure = {"wsgi.url_scheme": "https"} if settings.SECURE_SSL_REDIRECT else {}
    client = Client(HTTP_HOST="localhost", **secure)
    client.force_login(user)
    client.get(url)
    renders = []
    for _ in range(repeats):
        started = time.perf_counter()
        response = client.get(url)
        renders.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise SystemExit(
                f"The system page answered {response.status_code}, not 200. With DEBUG off, "
                "run `openbook collectstatic` first (the production static storage needs it)."
            )
    return round(statistics.median(renders) * 1000, 1)
