"""The write behind `openbook import_ods`: regions, systems and organisations brought into line
with the NHS Organisation Data Service files (read by accounts/ods.py).

All or nothing: every row is checked before anything is written, and any problem refuses the
whole import. Each region, system or organisation created or changed is audited on the
platform chain (reference data belongs to no one system; a trust's move between systems is
one event, not one in each). Nothing that is already as the files say is written, so a second
run of the same files writes nothing and records nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction

from accounts import ods
from accounts.models import Organisation, Region, System
from accounts.ods import Layout, OdsRow, Problem
from openbook.audit import audit_record

ACTOR_LABEL = "command line"


class OdsImportRefused(Exception):
    """The files have problems; nothing was stored."""

    def __init__(self, problems: list[Problem]):
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


@dataclass
class OdsReport:
    """What an import did (or, in a dry run, would have done), one line per thing."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)

    @property
    def writes(self) -> int:
        return len(self.created) + len(self.updated)


def ods_import_problems(rows: list[OdsRow], today: date) -> list[Problem]:
    """What the files cannot say together: a code twice, or a trust or sub-ICB location whose
    ICB is neither in these files nor already in Openbook."""
    problems = []
    first: dict[str, OdsRow] = {}
    for row in rows:
        if row.code in first:
            problems.append(
                Problem(row.source, row.line, f"{row.code} is also at {first[row.code].where}")
            )
        else:
            first[row.code] = row
    open_icbs = {r.code for r in rows if r.layout is Layout.ICBS and not r.is_closed(today)}
    wanted = {
        r.icb for r in rows if r.layout is not Layout.ICBS and not r.is_closed(today)
    } - open_icbs
    known = set(
        Organisation.objects.filter(ods_code__in=wanted).values_list("ods_code", flat=True)
    ) | {
        code.upper()
        for code in System.objects.filter(
            code__in=[ods.system_code(c) for c in wanted]
        ).values_list("code", flat=True)
    }
    for row in rows:
        if row.icb in wanted - known and row.layout is not Layout.ICBS and not row.is_closed(today):
            problems.append(
                Problem(
                    row.source,
                    row.line,
                    f"{row.code}: its ICB {row.icb} is not in the ICB file given, nor in "
                    "Openbook (import the ICB file with it)",
                )
            )
    return problems


def _audit(action: str, obj: Any, row: OdsRow | None, **changes: Any) -> None:
    audit_record(
        action=action,
        actor=None,
        actor_label=ACTOR_LABEL,
        obj=obj,
        payload={"source": row.where} if row else None,
        **changes,
    )


def _region(code: str, report: OdsReport, row: OdsRow) -> Region:
    slug = code.lower()
    name = ods.REGIONS[code]
    region = (
        Region.objects.filter(code=slug).first() or Region.objects.filter(name__iexact=name).first()
    )
    if region is None:
        region = Region.objects.create(code=slug, name=name)
        _audit("region.created", region, row, after={"code": slug, "name": name})
        report.created.append(f"region {slug} {name}")
    return region


def _system_for_icb(row: OdsRow, region: Region, report: OdsReport) -> System:
    """The ICB's system: the one its organisation is already in, else the one with its code,
    else one of the same name (set up by hand before), else a new one. Only a system with the
    ICB's code is renamed or moved region by the import; one set up by hand keeps its own."""
    code = ods.system_code(row.code)
    name = ods.system_name(row.name)
    organisation = Organisation.objects.filter(ods_code=row.code).select_related("system")
    system = (
        (organisation[0].system if organisation else None)
        or System.objects.filter(code=code).first()
        or System.objects.filter(name__iexact=name).first()
    )
    if system is None:
        system = System.objects.create(code=code, name=name, region=region)
        _audit(
            "system.created",
            system,
            row,
            after={"code": code, "name": name, "region": region.code},
        )
        report.created.append(f"system {code} {name} (region {region.code})")
        return system
    if system.code != code:
        return system
    before = {"name": system.name, "region": system.region.code}
    after = {"name": name, "region": region.code}
    changed = [key for key in before if before[key] != after[key]]
    if changed:
        system.name, system.region = name, region
        system.save(update_fields=["name", "region"])
        _audit(
            "system.updated",
            system,
            row,
            before={k: before[k] for k in changed},
            after={k: after[k] for k in changed},
        )
        report.updated.append(f"system {code}: " + _describe(before, after, changed))
    return system


def _describe(before: dict[str, Any], after: dict[str, Any], changed: list[str]) -> str:
    return "; ".join(f"{key} {before[key]!r} → {after[key]!r}" for key in changed)


def _organisation(
    row: OdsRow, system: System, kind: str | None, report: OdsReport, existing: dict
) -> None:
    organisation = existing.get(row.code)
    if organisation is None:
        if kind is None:
            kind = ods.COMMISSIONER if row.layout is not Layout.TRUSTS else ods.trust_kind(row.name)
        organisation = Organisation(ods_code=row.code, name=row.name, kind=kind, system=system)
        organisation.full_clean(validate_unique=False, validate_constraints=False)
        organisation.save()
        _audit(
            "organisation.created",
            organisation,
            row,
            after={"ods_code": row.code, "name": row.name, "kind": kind, "system": system.code},
        )
        report.created.append(f"organisation {row.code} {row.name} ({kind}, system {system.code})")
        return
    before = {
        "name": organisation.name,
        "system": organisation.system.code,
        "kind": organisation.kind,
    }
    after = {"name": row.name, "system": system.code, "kind": kind or organisation.kind}
    changed = [key for key in before if before[key] != after[key]]
    if not changed:
        report.unchanged.append(f"organisation {row.code}")
        return
    organisation.name, organisation.system, organisation.kind = row.name, system, after["kind"]
    organisation.save(update_fields=["name", "system", "kind"])
    _audit(
        "organisation.updated",
        organisation,
        row,
        before={k: before[k] for k in changed},
        after={k: after[k] for k in changed},
    )
    report.updated.append(f"organisation {row.code}: " + _describe(before, after, changed))


@transaction.atomic
def ods_import(
    *,
    rows: list[OdsRow],
    today: date,
    kinds: dict[str, str] | None = None,
    dry_run: bool = False,
) -> OdsReport:
    """Bring Openbook's regions, systems and organisations into line with the ODS rows: ICBs
    first (each an organisation of kind commissioner in its own system), then trusts and
    sub-ICB locations in their ICB's system. An organisation's name and system follow the
    files; its kind is guessed only when it is made, and changed later only by `kinds`
    (ODS code → kind). A closed organisation is not made, and one already here is left and
    reported. A dry run does everything, reports it and rolls it back."""
    kinds = kinds or {}
    problems = ods_import_problems(rows, today)
    if problems:
        raise OdsImportRefused(problems)
    report = OdsReport()
    existing = {
        o.ods_code: o
        for o in Organisation.objects.filter(ods_code__in=[r.code for r in rows]).select_related(
            "system"
        )
    }
    open_rows = []
    for row in rows:
        if not row.is_closed(today):
            open_rows.append(row)
            continue
        left = "left in Openbook" if row.code in existing else "not created"
        report.closed.append(f"{row.code} {row.name}: closed {row.closed}, {left}")
    systems: dict[str, System] = {}
    try:
        with transaction.atomic():
            for row in sorted(open_rows, key=lambda r: r.layout is not Layout.ICBS):
                if row.layout is Layout.ICBS:
                    region = _region(row.region, report, row)
                    systems[row.code] = _system_for_icb(row, region, report)
                elif row.icb not in systems:
                    systems[row.icb] = _known_system(row.icb)
                _organisation(row, systems[row.icb], kinds.get(row.code), report, existing)
    except IntegrityError as exc:
        # Another system already has the name a new or renamed one would take.
        raise OdsImportRefused([Problem("the files", 0, f"cannot be stored: {exc}")]) from exc
    if dry_run:
        transaction.set_rollback(True)
    return report


def _known_system(icb_code: str) -> System:
    organisation = Organisation.objects.filter(ods_code=icb_code).select_related("system").first()
    if organisation is not None:
        return organisation.system
    return System.objects.get(code=ods.system_code(icb_code))
