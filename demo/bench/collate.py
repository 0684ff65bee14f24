"""`openbook bench collate`: collate every system of the national round, against hand-written
SQL giving the same outputs from the same stored tables; and the largest system's page time,
for an administrator and for the system's lead.

The product adds each system's sums up once per set of counted plans and stores them (Redis;
plans/system_plan.py): it is timed both ways, adding up afresh (its stored sums taken away
first) and reading them stored. The baseline reads what the product's statement reads, as
plain SQL: each system's line-by-month sums from the figures, each counted plan's year per
line and per counterparty from the year totals stored at submission, and each system's
partner income from commissioners in it by month.

The collation runs as the platform does (the application role in the platform scope, under
row-level security: accounts/rowsecurity.py); the baseline as the tables' owner, which no
policy binds. The lead's page is row-level security's cost for one person's scope.

Run `openbook seed --scale national` first.
"""

from __future__ import annotations

import statistics
import time
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.test import Client

from accounts import rowsecurity
from accounts.models import Membership, Role, System, User
from demo.national import ROUND_SLUG
from plans import frozen
from plans.models import Line, PlanningRound
from plans.queries import latest_counted, template_versions_of
from plans.system_plan import _counted, _sums_key, build, fetch_plans, template_lines

BASELINE_SQL = [
    "WITH "  # noqa: S608 (constants only)
    + latest_counted()
    + """
    SELECT o.system_id, v.line_id, v.month, SUM(v.value)
    FROM latest
    JOIN plans_value v ON v.version_id = latest.version_id
    JOIN accounts_organisation o ON o.id = latest.organisation_id
    GROUP BY 1, 2, 3
""",
    "WITH "  # noqa: S608
    + latest_counted()
    + """
    SELECT latest.organisation_id, y.lines, y.totals, y.split_lines, y.split_counterparties,
           y.split_totals
    FROM latest JOIN plans_yeartotals y ON y.version_id = latest.version_id
""",
    "WITH "  # noqa: S608
    + latest_counted()
    + """
    SELECT provider.system_id, v.month, SUM(v.value)
    FROM latest AS provider
    JOIN plans_value v
      ON v.version_id = provider.version_id AND v.line_id = ANY(%(partner_income)s)
    JOIN latest AS commissioner
      ON commissioner.organisation_id = v.counterparty_id
     AND commissioner.system_id = provider.system_id
    GROUP BY 1, 2
""",
]


def _collate_all(plan_round: PlanningRound, systems: list[System]) -> tuple[Decimal, int]:
    """Collate every system; return the sum of every input line's system totals and how many
    plans were collated (a check)."""
    with rowsecurity.platform():
        return _collate(plan_round, systems)


def _collate(plan_round: PlanningRound, systems: list[System]) -> tuple[Decimal, int]:
    fetched = fetch_plans(plan_round, [s.pk for s in systems])
    template = template_lines(plan_round)
    inputs = {spec.code for spec in template.specs if not spec.is_derived}
    total, plans = Decimal(0), 0
    for system in systems:
        plan = build(plan_round, system, fetched, template)
        plans += len(plan.plans)
        total += sum(
            (v for code, row in plan.rows.items() if code in inputs for v in row if v is not None),
            Decimal(0),
        )
    return total, plans


def _baseline(plan_round: PlanningRound, systems: list[System]) -> tuple[Decimal, int]:
    """The same outputs in plain SQL: returns the sum of every system month (the check) and
    how many plans' years were read."""
    partner_income = list(
        Line.objects.filter(
            section__template_version_id__in=template_versions_of(plan_round),
            role=Line.Role.PARTNER_INCOME,
        ).values_list("pk", flat=True)
    )
    params = {"round": plan_round.pk, "systems": [s.pk for s in systems],
              "partner_income": partner_income}  # fmt: skip
    # The same memory for the aggregate as the collation gives itself, for a fair comparison.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute(BASELINE_SQL[0], params)
        total = sum((row[3] for row in cursor.fetchall()), Decimal(0))
        cursor.execute(BASELINE_SQL[1], params)
        plans = len(cursor.fetchall())
        cursor.execute(BASELINE_SQL[2], params)
        cursor.fetchall()
    return total, plans


def _forget_sums(plan_round: PlanningRound, systems: list[System]) -> None:
    """Take away the systems' stored sums, so the next collation adds them up afresh."""
    ids = [s.pk for s in systems]
    with rowsecurity.platform():
        stamps = frozen.stamp(template_versions_of(plan_round))
        counted = _counted(plan_round, ids)
        cache.delete_many([_sums_key(plan_round, sid, counted[sid], stamps) for sid in ids])


def _timed(work) -> tuple[float, object]:
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


def run(repeats: int = 7, round_slug: str = ROUND_SLUG) -> dict:
    plan_round = PlanningRound.objects.filter(slug=round_slug).first()
    if plan_round is None:
        raise SystemExit(f"No round {round_slug!r}: run `openbook seed --scale national` first.")
    systems = list(System.objects.filter(organisations__submissions__round=plan_round).distinct())
    with connection.cursor() as cursor:  # the figures of the plans that count, collated
        cursor.execute(
            "WITH " + latest_counted() + " SELECT COUNT(*) FROM latest JOIN plans_value v "  # noqa: S608
            "ON v.version_id = latest.version_id",
            {"round": plan_round.pk, "systems": [s.pk for s in systems]},
        )
        values = cursor.fetchone()[0]
    # One untimed pass of each first, so neither is timed with cold caches.
    _collate_all(plan_round, systems)
    _baseline(plan_round, systems)
    afresh, stored, base = [], [], []
    for _ in range(repeats):
        _forget_sums(plan_round, systems)
        seconds, collated = _timed(lambda: _collate_all(plan_round, systems))
        afresh.append(seconds)
        seconds, again = _timed(lambda: _collate_all(plan_round, systems))
        stored.append(seconds)
        seconds, (expected, plans) = _timed(lambda: _baseline(plan_round, systems))
        base.append(seconds)
        # A fast collation that lost figures would be no result: all must add up the same.
        if not collated[0] == again[0] == expected or collated[1] != plans:
            raise SystemExit(
                f"Collation {collated} (stored: {again}) differs from the SQL ({expected}, "
                f"{plans} plans)."
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
    seconds, baseline = statistics.median(afresh), statistics.median(base)
    from_store = statistics.median(stored)
    return {
        "bench": "collate",
        "systems": len(systems),
        "values": values,
        "seconds": round(seconds, 4),
        "baseline_seconds": round(baseline, 4),
        "ratio": round(seconds / baseline, 2),
        "stored_seconds": round(from_store, 4),
        "stored_ratio": round(from_store / baseline, 2),
        "ours": "every system collated as its page is (figures summed by month, each plan's "
        "year per line and counterparty from stored year totals, intra-system income; then "
        "derived lines, consolidation, balances and pay checks): 'seconds' adding the sums "
        "up afresh, 'stored_seconds' reading them stored",
        "baseline": "plain SQL giving the same sums from the same tables, rows fetched",
        "largest_system_page_ms": _page_ms(admin, url, repeats),
        "largest_system_page_lead_ms": _page_ms(lead, url, repeats),
        "page": "the largest system's page as its lead and an administrator ask for it, its "
        "sums stored (as after the first view or the worker's recalculation)",
    }


def _page_ms(user: User, url: str, repeats: int) -> float:
    """The page's median time as a browser would ask for it: a host the settings allow, over
    HTTPS when the settings redirect plain HTTP."""
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    secure = settings.SECURE_SSL_REDIRECT  # the client's default scheme would override it
    client.get(url, secure=secure)
    renders = []
    for _ in range(repeats):
        started = time.perf_counter()
        response = client.get(url, secure=secure)
        renders.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise SystemExit(
                f"The system page answered {response.status_code}, not 200. With DEBUG off, "
                "run `openbook collectstatic` first (the production static storage needs it)."
            )
    return round(statistics.median(renders) * 1000, 1)
