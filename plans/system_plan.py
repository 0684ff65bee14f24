"""A system's collated plan for a round: read set-based from the database, then worked out by
the pure functions in plans.collation."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.http import Http404
from django.utils import timezone

from accounts import policy
from accounts.models import Organisation, System
from plans import calculations, collation, frozen, queries
from plans.calculations import LineSpec, flatten
from plans.models import Line, PlanningRound, Section, Submission, Version
from plans.selectors import line_spec

if TYPE_CHECKING:
    from accounts.policy import AnyUser

INCLUDED = queries.COUNTED

_LATEST = "WITH " + queries.latest_counted()
# Each counted version with the moment it was made: an id alone could name another version
# in a database restored or rebuilt under a running cache.
_COUNTED_SQL = (
    _LATEST  # noqa: S608
    + """
    SELECT latest.system_id, latest.organisation_id, latest.version_id,
           EXTRACT(EPOCH FROM ver.created_at)
    FROM latest JOIN plans_version ver ON ver.id = latest.version_id
"""
)

# Twelve sums of v.value, one per month, as an array (null where a month has no figure).
_MONTH_SUMS = (
    "ARRAY[" + ", ".join(f"SUM(v.value) FILTER (WHERE v.month = {m})" for m in range(1, 13)) + "]"
)

# Built from constants only (no value is formatted into it). One statement, so one snapshot;
# a row per system and a row per organisation, each carrying its figures as arrays (far fewer
# rows to hand over than one per figure):
# - level 0, a system: each input line's twelve months (null where nobody planned one),
#   added up from the figures, a column per month;
# - level 1, an organisation: its year per line, and apart from that per line and
#   counterparty, as stored when its version was submitted;
# - level 2, a system: its providers' income from partners, by month, from commissioners
#   whose plans are in too (the intra-system flows the consolidated I&E eliminates);
# - level 3, an organisation: the version that counted, and when it was made: the sums are
#   stored under the key of what this statement read, never of what was read before it.
AGGREGATES_SQL = (
    _LATEST  # noqa: S608
    + """,
    lines AS (
        SELECT latest.system_id, v.line_id, MONTH_SUMS AS months
        FROM latest
        JOIN plans_value v ON v.version_id = latest.version_id
        GROUP BY latest.system_id, v.line_id
    )
    SELECT 0, system_id, NULL::bigint, array_agg(line_id), array_agg(months),
           NULL::bigint[], NULL::bigint[], NULL::numeric[]
    FROM lines
    GROUP BY system_id
    UNION ALL
    SELECT 1, latest.system_id, latest.organisation_id, y.lines, y.totals, y.split_lines,
           y.split_counterparties, y.split_totals
    FROM latest
    JOIN plans_yeartotals y ON y.version_id = latest.version_id
    UNION ALL
    SELECT 2, latest.system_id, NULL, NULL, MONTH_SUMS, NULL, NULL, NULL
    FROM latest
    JOIN plans_value v
      ON v.version_id = latest.version_id AND v.line_id = ANY(%(partner_income)s)
    JOIN latest AS commissioner
      ON commissioner.organisation_id = v.counterparty_id
     AND commissioner.system_id = latest.system_id
    GROUP BY latest.system_id
    UNION ALL
    SELECT 3, latest.system_id, latest.organisation_id, ARRAY[latest.version_id],
           ARRAY[EXTRACT(EPOCH FROM ver.created_at)], NULL, NULL, NULL
    FROM latest
    JOIN plans_version ver ON ver.id = latest.version_id
"""
).replace("MONTH_SUMS", _MONTH_SUMS)


@dataclass
class OrgStatus:
    organisation: Organisation
    submission: Submission | None
    late: bool
    has_submitted: bool = False

    @property
    def state(self) -> str:
        if self.submission is None:
            return "missing"
        if self.submission.status in INCLUDED:
            return self.submission.status
        if self.has_submitted:
            return self.submission.status  # returned, or recalled to draft
        return "missing"


@dataclass
class Fetched:
    """A round's submitted figures for some systems, added up by the database."""

    monthly: dict[int, dict[str, list[Decimal | None]]]  # system id → line → its 12 months
    eliminable: dict[int, list[Decimal | None]]  # system id → intra-system income by month
    plans: dict[int, list[collation.OrgPlan]]  # system id → organisations' year figures
    statuses: dict[int, list[OrgStatus]]  # system id → where each organisation stands
    keys: dict[int, str] = field(default_factory=dict)  # system id → its stored sums' key


def _statuses(plan_round: PlanningRound, system_ids: list[int]) -> dict[int, list[OrgStatus]]:
    """Every organisation of these systems and where its plan stands, in two queries."""
    versions = Version.objects.filter(submission=OuterRef("pk"), number__gt=0)
    submissions = {
        s.organisation_id: s
        for s in Submission.objects.filter(round=plan_round, organisation__system_id__in=system_ids)
        .only("organisation_id", "status")  # all a status shows
        .annotate(has_submitted=Exists(versions), late=Exists(versions.filter(late=True)))
    }
    overdue = timezone.now() > plan_round.final_deadline
    out: dict[int, list[OrgStatus]] = {sid: [] for sid in system_ids}
    for organisation in Organisation.objects.filter(system_id__in=system_ids).order_by("name"):
        submission = submissions.get(organisation.pk)
        submitted = bool(submission and submission.has_submitted)
        # Sent late, or not in (never sent, or recalled or returned) once the deadline passed.
        included = submission is not None and submission.status in INCLUDED
        late = bool(submission and submission.late) or (overdue and not included)
        out[organisation.system_id].append(OrgStatus(organisation, submission, late, submitted))
    return out


def source_digest(*files: str) -> str:
    """A digest of the code in these files. Everything stored from a collation is keyed by the
    code that worked it out, so a release that changes how anything is collated never reads
    what an older one stored (mid-deploy, old and new pods share the cache): no number to
    remember to bump."""
    digest = hashlib.sha256()
    for name in files:
        digest.update(Path(name).read_bytes())
    return digest.hexdigest()[:16]


# The code the stored sums come from: this module (the statement and how its rows are read),
# and what it reads them with.
SUMS_CODE = source_digest(__file__, collation.__file__, calculations.__file__)
SUMS_SECONDS = 24 * 3600  # each stored item expires a day after it is stored


@dataclass
class Sums:
    """One system's figures as the database adds them up from its counted plans. Worked out
    once for the plans that count, and stored under a key made of exactly those versions: a
    submitted version never changes, so the same versions always add up to the same sums,
    and a submission, recall, return or revision makes a new key rather than needing the old
    one cleared."""

    monthly: dict[str, list[Decimal | None]]  # line → its 12 months
    eliminable: list[Decimal | None] | None  # intra-system income by month
    annual: dict[int, dict[str, Decimal]]  # organisation id → line → year
    by_cp: dict[int, dict[tuple[str, int], Decimal]]  # organisation id → (line, partner) → year


Counted = list[tuple[int, int, str]]  # (organisation, version, when the version was made)


def _sums_key(plan_round: PlanningRound, system_id: int, counted: Counted, versions: tuple) -> str:
    """The key of a system's sums: the round, the system, its counted versions (read under
    the reader's row-level security, so someone who could see fewer plans would ask for other
    sums) and the template versions' stamps."""
    canonical = json.dumps(
        [SUMS_CODE, plan_round.pk, system_id, sorted(counted), versions],
        separators=(",", ":"),
    )
    return "collation:sums:" + hashlib.sha256(canonical.encode()).hexdigest()


def _counted(plan_round: PlanningRound, system_ids: list[int]) -> dict[int, Counted]:
    """Each system's counted plans and their versions, in one small query."""
    out: dict[int, Counted] = {sid: [] for sid in system_ids}
    with connection.cursor() as cursor:
        cursor.execute(_COUNTED_SQL, {"round": plan_round.pk, "systems": system_ids})
        for system_id, organisation_id, version_id, made in cursor.fetchall():
            out[system_id].append((organisation_id, version_id, str(made)))
    return out


def _add_up(
    plan_round: PlanningRound, system_ids: list[int], line_rows
) -> tuple[dict[int, Sums], dict[int, Counted]]:
    """These systems' sums from their counted plans' figures, and which versions they are
    the sums of: one set-based statement, so one snapshot."""
    code_of = {pk: code for pk, code, _ in line_rows}
    # A provider's income from commissioners in its system, by counterparty: the line with
    # that role, in whichever version (none: nothing is eliminated).
    partner_income = [pk for pk, _, role in line_rows if role == Line.Role.PARTNER_INCOME]
    with transaction.atomic(), connection.cursor() as cursor:
        # Room for the hash aggregate in memory (a national collation spills to disk at
        # PostgreSQL's default of 4MB); for this transaction only.
        cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute(
            AGGREGATES_SQL,
            {"round": plan_round.pk, "systems": system_ids, "partner_income": partner_income},
        )
        rows = cursor.fetchall()
    sums = {sid: Sums({}, None, {}, {}) for sid in system_ids}
    counted: dict[int, Counted] = {sid: [] for sid in system_ids}
    for level, system_id, org_id, line_ids, figures, cp_lines, cp_ids, cp_figures in rows:
        held = sums[system_id]
        if level == 3:
            counted[system_id].append((org_id, line_ids[0], str(figures[0])))
            continue
        if level == 2:
            held.eliminable = figures
            continue
        codes = [code_of[pk] for pk in line_ids]
        if level == 0:
            # One line's months, possibly from two versions' lines of the same code.
            by_code = held.monthly
            for code, months in zip(codes, figures, strict=True):
                earlier = by_code.get(code)
                by_code[code] = months if earlier is None else [
                    None if a is None and b is None else (a or 0) + (b or 0)
                    for a, b in zip(earlier, months, strict=True)
                ]  # fmt: skip
            continue
        held.annual[org_id] = dict(zip(codes, figures, strict=True))
        if cp_lines:
            pairs = zip([code_of[pk] for pk in cp_lines], cp_ids, strict=True)
            held.by_cp[org_id] = dict(zip(pairs, cp_figures, strict=True))
    return sums, counted


@dataclass
class Standing:
    """Where these systems' plans stand, read in a few small queries: each organisation's
    status, and the key of each system's sums (which plans count). Enough to find anything
    stored from a collation without reading the sums themselves."""

    statuses: dict[int, list[OrgStatus]]
    keys: dict[int, str]
    stamps: tuple  # the template versions', as the keys were made with them


def standing(plan_round: PlanningRound, system_ids: list[int]) -> Standing:
    # Every version of the round's template: a plan submitted before the round was revised
    # keeps the lines it was made with (its key says which).
    stamps = frozen.stamp(queries.template_versions_of(plan_round))
    counted = _counted(plan_round, system_ids)
    return Standing(
        _statuses(plan_round, system_ids),
        {sid: _sums_key(plan_round, sid, counted[sid], stamps) for sid in system_ids},
        stamps,
    )


def fetch_plans(
    plan_round: PlanningRound, system_ids: list[int], known: Standing | None = None
) -> Fetched:
    """Every included organisation's figures for these systems: each system's sums as stored
    for its counted plans, added up afresh (one set-based statement for all that are not)."""
    versions = queries.template_versions_of(plan_round)
    line_rows = frozen.memoised("line codes", versions, lambda: _line_rows(versions))
    known = known or standing(plan_round, system_ids)
    statuses, keys = known.statuses, known.keys
    stored = cache.get_many(list(keys.values()))
    sums = {sid: stored[key] for sid, key in keys.items() if key in stored}
    missing = [sid for sid in system_ids if sid not in sums]
    keys = dict(keys)
    if missing:
        added, counted = _add_up(plan_round, missing, line_rows)
        sums |= added
        for sid in missing:
            # A plan submitted, recalled or returned since the key was read: these sums are
            # of other plans. Shown as they are (they are consistent in themselves), stored
            # only under their own key, and nothing made from them is stored under the old.
            keys[sid] = _sums_key(plan_round, sid, counted[sid], known.stamps)
        cache.set_many({keys[sid]: added[sid] for sid in missing}, SUMS_SECONDS)
    ods_of = {
        o.organisation.pk: o.organisation.ods_code for sid in system_ids for o in statuses[sid]
    }
    monthly = {sid: sums[sid].monthly for sid in system_ids}
    eliminable = {sid: e for sid in system_ids if (e := sums[sid].eliminable) is not None}
    plans: dict[int, list[collation.OrgPlan]] = {sid: [] for sid in system_ids}
    for sid in system_ids:
        held = sums[sid]
        for status in statuses[sid]:
            organisation = status.organisation
            if organisation.pk not in held.annual:
                continue
            by_cp = held.by_cp.get(organisation.pk, {})
            plans[sid].append(
                collation.OrgPlan(
                    ods_code=organisation.ods_code,
                    name=organisation.name,
                    kind=organisation.kind,
                    annual=held.annual[organisation.pk],
                    by_counterparty={
                        (code, ods_of.get(cp, str(cp))): v for (code, cp), v in by_cp.items()
                    },
                )
            )
    return Fetched(monthly, eliminable, plans, statuses, keys)


def _line_rows(version_ids: list[int]) -> list[tuple[int, str, str]]:
    return [(line.pk, line.code, line.role) for line in frozen.lines_of(version_ids)]


@dataclass
class SystemPlan:
    round: PlanningRound
    system: System
    plans: list[collation.OrgPlan]
    statuses: list[OrgStatus]
    specs: list[LineSpec]
    sections: list[tuple[Section, list[Line]]]
    rows: dict[str, collation.Row]  # every line's twelve months, derived lines included
    consolidated: collation.Consolidated
    income_balances: list[collation.PairBalance]
    activity_balances: list[collation.PairBalance]
    pay_checks: list[collation.PayCheck]
    flat: dict[str, dict[str, int]] | None = None  # the template's derived lines, flattened
    sums_key: str = ""  # the key its sums are stored under: what is made from them can be too

    # Worked out once per plan: a page, its snapshot and its comparison all read them.
    @cached_property
    def surplus_by_organisation(self) -> dict[str, Decimal]:
        return collation.totals_by(self.plans, self._surplus, self.specs, "ods_code", self.flat)

    @cached_property
    def surplus_by_kind(self) -> dict[str, Decimal]:
        return collation.totals_by(self.plans, self._surplus, self.specs, "kind", self.flat)

    @property
    def _surplus(self) -> str:
        return next((spec.code for spec in self.specs if spec.role == Line.Role.SURPLUS), "")

    @property
    def flagged(self) -> list[collation.PairBalance]:
        return [p for p in self.income_balances + self.activity_balances if p.flagged]

    @property
    def awaiting(self) -> list[collation.PairBalance]:
        """Pairs whose other side has no plan in yet (not counted as mismatches)."""
        return [p for p in self.income_balances + self.activity_balances if p.awaiting]

    @cached_property
    def totals(self) -> dict[tuple[str, int], Decimal]:
        """(line, month) → the system's figure, for the pages and exports."""
        return collation.as_totals(self.rows)

    def year(self, code: str) -> Decimal:
        return sum((v for v in self.rows.get(code, ()) if v is not None), Decimal(0))


@dataclass(frozen=True)
class TemplateLines:
    """A round's template lines, read once and shared by every system collated with it."""

    lines: list[Line]
    specs: list[LineSpec]
    flat: dict[str, dict[str, int]]  # derived lines as sums of input lines
    sections: list[tuple[Section, list[Line]]]
    labels: dict[str, str]
    surplus: LineSpec  # the line with the surplus role (an empty formula if none)
    roles: dict[str, str]  # role → the code of the line that has it
    pay_groups: dict[str, tuple[list[str], list[str]]]  # staff group → (pay, WTE) lines
    activity_pairs: list[tuple[str, str]]  # (provider's line, commissioners' line it balances)


def _with_role(specs: list[LineSpec], role: str) -> LineSpec | None:
    return next((spec for spec in specs if spec.role == role), None)


def template_lines(plan_round: PlanningRound) -> TemplateLines:
    """The round's template lines and what collation needs of them, read and flattened once
    per process (plans/frozen.py)."""
    version_id = plan_round.template_version_id
    return frozen.memoised("collation", [version_id], lambda: _template_lines(version_id))


def _template_lines(version_id: int) -> TemplateLines:
    lines = frozen.lines_of([version_id])
    specs = [line_spec(line) for line in lines]
    sections: dict[int, tuple[Section, list[Line]]] = {}
    for line in lines:
        sections.setdefault(line.section_id, (line.section, []))[1].append(line)
    return TemplateLines(
        lines,
        specs,
        flatten(specs),
        list(sections.values()),
        {line.code: line.label for line in lines},
        _with_role(specs, Line.Role.SURPLUS)
        or LineSpec("", "Surplus / (deficit)", "gbp000", formula=()),
        {spec.role: spec.code for spec in specs if spec.role},
        _pay_groups(lines),
        [(line.code, line.balances_with) for line in lines if line.balances_with],
    )


def _pay_groups(lines: list[Line]) -> dict[str, tuple[list[str], list[str]]]:
    """Each staff group's input lines, as the template names them: its pay and its WTE."""
    groups: dict[str, tuple[list[str], list[str]]] = {}
    for line in lines:
        if line.staff_group and not line.is_derived:
            pay, wte = groups.setdefault(line.staff_group, ([], []))
            (wte if line.unit == Line.Unit.WTE else pay).append(line.code)
    return groups


def build(
    plan_round: PlanningRound,
    system: System,
    fetched: Fetched,
    template: TemplateLines | None = None,
) -> SystemPlan:
    plans = fetched.plans[system.pk]
    template = template or template_lines(plan_round)
    labels, specs = template.labels, template.specs
    figures = collation.counterparty_figures(plans)
    included = {plan.ods_code for plan in plans}
    activity = []
    for provider_line, commissioner_line in template.activity_pairs:
        activity += collation.balances_of(
            figures, provider_line, commissioner_line,
            measure=labels.get(provider_line, provider_line).removesuffix(" (provided)"),
            threshold_percent=plan_round.activity_threshold_percent, included=included,
        )  # fmt: skip
    pay = [
        check
        for plan in plans
        for check in collation.pay_per_wte(
            plan, template.pay_groups, plan_round.pay_per_wte_min, plan_round.pay_per_wte_max
        )
    ]
    rows = collation.system_rows(fetched.monthly[system.pk], template.flat)
    return SystemPlan(
        round=plan_round,
        system=system,
        plans=plans,
        statuses=fetched.statuses[system.pk],
        specs=specs,
        sections=template.sections,
        rows=rows,
        consolidated=collation.consolidate_rows(
            rows,
            template.surplus,
            template.roles.get(Line.Role.PARTNER_INCOME, ""),
            eliminated=fetched.eliminable.get(system.pk, [None] * 12),
        ),
        income_balances=collation.balances_of(
            figures,
            template.roles.get(Line.Role.PARTNER_INCOME, ""),
            template.roles.get(Line.Role.PARTNER_SPEND, ""),
            measure="Income and expenditure",
            threshold=plan_round.balance_threshold,
            included=included,
        ),
        activity_balances=activity,
        pay_checks=pay,
        flat=template.flat,
        sums_key=fetched.keys[system.pk],
    )


def system_plan_get(user: AnyUser, plan_round: PlanningRound, system: System) -> SystemPlan:
    """The collated plan of a system the person may see (404 otherwise)."""
    if not policy.can_view_system(user, system):
        raise Http404("No such system.")
    return build(plan_round, system, fetch_plans(plan_round, [system.pk]))
