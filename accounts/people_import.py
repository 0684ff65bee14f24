"""Bringing many people on board from one file (accounts/people_csv.py reads it): a platform
administrator's page and `openbook import_people`.

All or nothing: every row is checked before anything is written, and any bad row refuses
the whole file, each problem named by row and column. A good file is shown first as what it
would do; the import then does exactly that, in one transaction:

- someone without an account is invited (accounts/invitations.py, as one invitation at a
  time is: the same link, expiry, single use and audit), the worker e-mailing the links;
- someone with an account is given the role straight away, as an administrator gives one
  in the administration pages (audited as a role given);
- a role the person already has, or an invitation to it still waiting, is left as it is,
  so a second run of the same file changes nothing.

A deactivated account is a bad row: it is reactivated (or the row taken out) first.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from accounts import invitations, policy
from accounts.models import Invitation, Membership, Organisation, Region, Role, System, User
from accounts.people_csv import (
    CODE,
    EMAIL,
    NAME,
    ROLE,
    ROLE_NAMES,
    ROLE_WORDS,
    Line,
    file_text,
    kind_of,
    read_sheet,
    words,
)
from accounts.services import membership_create
from openbook.audit import audit_record
from openbook.errors import Conflict, ProblemList

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

INVITE, ADD, UNCHANGED = "invite", "add", "unchanged"
Place = Organisation | System | Region


@dataclass
class Planned:
    """What one good row does."""

    row: int
    email: str
    name: str
    role: Role
    place: Place
    outcome: str  # INVITE, ADD or UNCHANGED
    note: str = ""
    user: User | None = None

    @property
    def kind(self) -> str:
        return kind_of(self.role)

    @property
    def where(self) -> dict[str, Any]:  # organisation=, system= or region=, as services take
        return {self.kind: self.place}

    @property
    def code(self) -> str:
        return self.place.ods_code if isinstance(self.place, Organisation) else self.place.code


@dataclass
class PeoplePlan:
    """What a file would do, row by row; `digest` names it, so the import can make sure it
    does what was shown."""

    rows: list[Planned]
    ignored: list[str] = field(default_factory=list)

    def _with(self, outcome: str) -> list[Planned]:
        return [p for p in self.rows if p.outcome == outcome]

    @property
    def invites(self) -> list[Planned]:
        return self._with(INVITE)

    @property
    def adds(self) -> list[Planned]:
        return self._with(ADD)

    @property
    def unchanged(self) -> list[Planned]:
        return self._with(UNCHANGED)

    @property
    def digest(self) -> str:
        shown = [[p.row, p.email, p.name, p.role.value, p.code, p.outcome] for p in self.rows]
        return hashlib.sha256(json.dumps(shown).encode()).hexdigest()

    def counts(self) -> dict[str, int]:
        return {"invited": len(self.invites), "added": len(self.adds),
                "unchanged": len(self.unchanged)}  # fmt: skip


class _Problems:
    def __init__(self, headings: dict[str, str]):
        self.headings = headings
        self.found: list[dict] = []

    def add(self, line: Line, column: str, problem: str, value: str | None = None) -> None:
        self.found.append({
            "row": line.row, "column": self.headings.get(column, column),
            "cell": f"Row {line.row}",
            "value": getattr(line, column) if value is None else value, "problem": problem,
        })  # fmt: skip


def _places(lines: Iterable[Line]) -> dict[str, dict[str, Place]]:
    """Every place a code in the file may name, by kind and by the code as compared (ODS codes
    upper-case, system and region codes lower-case)."""
    codes = {line.code.upper() for line in lines if line.code}
    return {
        "organisation": {
            o.ods_code: o
            for o in Organisation.objects.filter(ods_code__in=codes).select_related("system")
        },
        "system": {s.code.lower(): s for s in System.objects.annotate(low=Lower("code"))
                   .filter(low__in={c.lower() for c in codes})},
        "region": {r.code.lower(): r for r in Region.objects.annotate(low=Lower("code"))
                   .filter(low__in={c.lower() for c in codes})},
    }  # fmt: skip


def _find(places: dict[str, dict[str, Place]], kind: str, code: str) -> Place | None:
    return places[kind].get(code.upper() if kind == "organisation" else code.lower())


_WHAT = {"organisation": "an organisation's ODS code", "system": "a system's code",
         "region": "a region's code"}  # fmt: skip


def _role_and_place(
    line: Line, places: dict[str, dict[str, Place]], problems: _Problems
) -> tuple[Role, Place] | None:
    """The role the row names and the place its code names, if they go together."""
    roles = ROLE_WORDS.get(words(line.role))
    if roles is None:
        problems.add(line, ROLE, f"is not a role: use one of {ROLE_NAMES}")
        return None
    found = [(r, p) for r in roles if (p := _find(places, kind_of(r), line.code)) is not None]
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        problems.add(line, ROLE, "could be an organisation's or a system's viewer, as the code "
                     "is both; write Organisation viewer or System viewer")  # fmt: skip
        return None
    kinds = {kind_of(r) for r in roles}
    others = [k for k in _WHAT if k not in kinds and _find(places, k, line.code) is not None]
    wanted = " or ".join(_WHAT[k] for k in _WHAT if k in kinds)
    if others:
        problems.add(line, CODE, f"is {_WHAT[others[0]]}, and {line.role} is held at "
                     f"{'an' if 'organisation' in kinds else 'a'} {' or '.join(sorted(kinds))}: "
                     f"give {wanted}, or another role")  # fmt: skip
    else:
        problems.add(line, CODE, f"is not {wanted} in Openbook")
    return None


# The invitation form's refusals (accounts/invitations.py), as a row's problems read.
_EMAIL_PROBLEMS = {
    invitations.NOT_AN_ADDRESS: "is not an e-mail address (like name@nhs.net)",
    invitations.NOT_PLAIN: "has letters other than a to z, which NHS addresses do not: check "
    "it is the right address, typed in plain letters",
}


def _check_line(line: Line, actor: User, places: dict, problems: _Problems) -> Planned | None:
    before = len(problems.found)
    email = line.email.lower()
    if not email:
        problems.add(line, EMAIL, "is empty: give the person's e-mail address")
    elif len(email) > 254:
        problems.add(line, EMAIL, "is longer than an e-mail address can be")
    elif refusal := invitations.email_refusal(email):
        problems.add(line, EMAIL, _EMAIL_PROBLEMS[refusal])
    elif email == actor.email.lower():
        problems.add(line, EMAIL, "is your own address: another administrator gives you roles")
    if not line.name:
        problems.add(line, NAME, "is empty: give the person's name")
    elif len(line.name) > 150:
        problems.add(line, NAME, "is longer than 150 characters")
    if not line.code:
        problems.add(line, CODE, "is empty: give the ODS code of the organisation, or the code "
                     "of the system or region, where the role is held")  # fmt: skip
    if not line.role:
        problems.add(line, ROLE, f"is empty: give one of {ROLE_NAMES}")
    held = _role_and_place(line, places, problems) if line.code and line.role else None
    if held is None or len(problems.found) > before:
        return None
    return Planned(line.row, email, line.name, held[0], held[1], outcome="")


def _within_file(planned: list[Planned], lines: dict[int, Line], problems: _Problems) -> None:
    """The same role twice, or two names for someone new."""
    first: dict[tuple, int] = {}
    named: dict[str, Planned] = {}
    for p in planned:
        key = (p.email, p.role, kind_of(p.role), p.place.pk)
        if key in first:
            problems.add(lines[p.row], EMAIL, f"is given the same role at the same place in "
                         f"row {first[key]}")  # fmt: skip
            continue
        first[key] = p.row
        earlier = named.setdefault(p.email, p)
        if words(earlier.name) != words(p.name):
            problems.add(lines[p.row], NAME, f"differs from the name in row {earlier.row} "
                         f"(“{earlier.name}”) for the same address")  # fmt: skip


def _outcomes(planned: list[Planned], lines: dict[int, Line], problems: _Problems) -> None:
    """What each good row would do, given who already has an account, a role or an
    invitation."""
    emails = {p.email for p in planned}
    people = {u.email.lower(): u for u in User.objects.annotate(low=Lower("email"))
              .filter(low__in=emails)}  # fmt: skip
    held = set(
        Membership.objects.filter(user__in=people.values()).values_list(
            "user_id", "role", "organisation_id", "system_id", "region_id"
        )
    )
    waiting: dict[tuple, datetime] = {
        (i.email, i.role, i.organisation_id, i.system_id, i.region_id): i.expires_at
        for i in Invitation.objects.filter(
            email__in=emails, accepted_at__isnull=True, withdrawn_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
    }  # fmt: skip
    for p in planned:
        ids = tuple(getattr(p.place, "pk", None) if kind_of(p.role) == k else None
                    for k in ("organisation", "system", "region"))  # fmt: skip
        user = people.get(p.email)
        p.user = user
        if user is not None and not user.is_active:
            problems.add(lines[p.row], EMAIL, "belongs to a deactivated account: reactivate it "
                         "in Administration first, or take the row out")  # fmt: skip
        elif user is not None:
            if (user.pk, p.role.value, *ids) in held:
                p.outcome, p.note = UNCHANGED, "already has this role"
            else:
                p.outcome, p.note = ADD, f"has an account ({user.full_name or user.email})"
        elif (until := waiting.get((p.email, p.role.value, *ids))) is not None:
            day = timezone.localtime(until)
            p.outcome, p.note = UNCHANGED, f"already invited (until {day.day} {day:%b %Y})"
        else:
            p.outcome, p.note = INVITE, "new to Openbook"


def people_import_check(*, actor: User, data: bytes) -> PeoplePlan:
    """What importing the file would do, or ProblemList naming every bad row (by row and
    column), or ValidationError for a file that cannot be read at all."""
    if not policy.can_import_people(actor):
        raise PermissionDenied("Only platform administrators can import people.")
    sheet = read_sheet(file_text(data), max_rows=settings.PEOPLE_IMPORT_MAX_ROWS)
    problems = _Problems(sheet.headings)
    problems.found += sheet.problems
    places = _places(sheet.lines)
    planned = [p for line in sheet.lines if (p := _check_line(line, actor, places, problems))]
    lines = {line.row: line for line in sheet.lines}
    _within_file(planned, lines, problems)
    _outcomes(planned, lines, problems)
    if not sheet.lines and not problems.found:
        raise ValidationError("The file has a heading but no people in it.")
    if problems.found:
        found = sorted(problems.found, key=lambda p: p["row"])
        rows = len({p["row"] for p in found})
        raise ProblemList(f"{rows} of the {len(sheet.lines) + len(sheet.problems)} rows "
                          f"{'has' if rows == 1 else 'have'} problems, so nobody was imported. "
                          "Put them right and upload the file again.", found)  # fmt: skip
    return PeoplePlan(planned, sheet.ignored)


@transaction.atomic
def people_import(
    *, actor: User, data: bytes, shown: str | None = None, source: str = "upload"
) -> PeoplePlan:
    """Import the file: every invitation and role, or nothing. `shown` is the digest of the
    plan the person confirmed: if what the file would do has changed since (someone took up
    an invitation, a role was given), Conflict, and nothing is stored. Imports run one at a
    time, so two of the same file cannot both invite the same people."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended('people-import', 0))")
    plan = people_import_check(actor=actor, data=data)
    if shown is not None and shown != plan.digest:
        raise Conflict(
            "What the file would do has changed since you checked it (someone has taken up an "
            "invitation or been given a role). Check it again below."
        )
    for p in plan.rows:
        reason = f"people import, row {p.row}"
        if p.outcome == INVITE:
            invitations.invitation_create(
                actor=actor, email=p.email, role=p.role.value, full_name=p.name, by_worker=True,
                reason=reason, **p.where,
            )  # fmt: skip
        elif p.outcome == ADD:
            assert p.user is not None
            membership_create(actor=actor, user=p.user, role=p.role.value, reason=reason,
                              **p.where)  # fmt: skip
    audit_record(
        action="people.imported", actor=actor,
        after=plan.counts(),
        payload={"rows": len(plan.rows), "source": source,
                 "file_sha256": hashlib.sha256(data).hexdigest()},
    )  # fmt: skip
    if plan.invites:
        invitations.wake_sender()
    return plan
