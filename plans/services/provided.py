"""Figures the round's owner provides (last year's outturn, allocations): checked whole, kept
for the round, and copied into each organisation's working draft, where nobody can type over
them. A plan started later gets them when it starts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db import transaction

from accounts import policy, rowsecurity
from accounts.models import Organisation
from openbook.audit import audit_record
from openbook.errors import ProblemList
from plans import calculations, selectors
from plans.calculations import ValueProblem, parse_value
from plans.models import DraftEdit, Line, PlanningRound, ProvidedFigure, Value, Version
from plans.services.writes import _edit_record, _record_history, _upsert

if TYPE_CHECKING:
    from accounts.models import User


@dataclass(frozen=True)
class ProvidedInput:
    organisation: str  # ODS code
    line: str
    month: object
    value: object
    where: str = ""  # "row 7"


@dataclass
class ProvidedResult:
    figures: int  # figures given or changed
    organisations: int
    drafts: int  # working drafts they were copied into


def provided_lines(plan_round: PlanningRound) -> dict[str, Line]:
    return {
        line.code: line
        for line in Line.objects.filter(
            section__template_version_id=plan_round.template_version_id, provided=True
        )
    }


def _resolve(plan_round: PlanningRound, rows: Sequence[ProvidedInput]) -> dict:
    lines = provided_lines(plan_round)
    wanted = {str(r.organisation).strip().upper() for r in rows}
    organisations = {o.ods_code: o for o in Organisation.objects.filter(ods_code__in=wanted)}
    problems: list[dict] = []
    resolved: dict[tuple[int, int, int], Decimal] = {}
    for row in rows:

        def problem(message: str, row: ProvidedInput = row) -> None:
            problems.append({"cell": row.where, "value": str(row.value or ""), "problem": message})

        organisation = organisations.get(str(row.organisation).strip().upper())
        line = lines.get(str(row.line).strip().upper())
        if organisation is None:
            problem(f"there is no organisation {row.organisation!r}")
            continue
        if line is None:
            provided = ", ".join(sorted(lines)) or "none"
            problem(f"{row.line!r} is not a provided line of this round (those are: {provided})")
            continue
        if organisation.kind not in line.kinds:
            problem(f"{line.code} is not planned by a {organisation.get_kind_display().lower()}")
            continue
        try:
            month = int(str(row.month).strip())
        except ValueError:
            month = 0
        if not 1 <= month <= 12:
            problem("the month must be 1 (April) to 12 (March)")
            continue
        try:
            value = parse_value(row.value)
        except ValueProblem as exc:
            problem(str(exc))
            continue
        if value is None:
            problem("give the figure")
            continue
        why = calculations.check_value(selectors.line_spec(line), value)
        if why:
            problem(why)
            continue
        key = (organisation.pk, line.pk, month)
        if key in resolved:
            problem("is given twice")
            continue
        resolved[key] = value
    if problems:
        count = len(problems)
        raise ProblemList(
            f"{count} row{'s' if count != 1 else ''} could not be accepted, so nothing was saved.",
            problems,
        )
    return resolved


@transaction.atomic
def provided_save(
    *, actor: User | None, plan_round: PlanningRound, rows: Sequence[ProvidedInput]
) -> ProvidedResult:
    """Give organisations their provided figures (administrators; `None` is the set-up of demo
    data). All or nothing; giving the same figures again changes nothing."""
    if actor is not None and not policy.is_platform_admin(actor):
        raise PermissionDenied("Only a platform administrator can provide a round's figures.")
    resolved = _resolve(plan_round, rows)
    held = {
        (o, line, m): (pk, value)
        for pk, o, line, m, value in ProvidedFigure.objects.filter(
            round=plan_round, organisation_id__in={k[0] for k in resolved}
        ).values_list("pk", "organisation_id", "line_id", "month", "value")
    }
    changed: dict[int, list[tuple[int, int, Decimal]]] = defaultdict(list)
    for (org, line, month), value in resolved.items():
        pk, before = held.get((org, line, month), (None, None))
        if before == value:
            continue
        if pk is None:
            ProvidedFigure.objects.create(round=plan_round, organisation_id=org, line_id=line,
                                          month=month, value=value)  # fmt: skip
        else:
            ProvidedFigure.objects.filter(pk=pk).update(value=value)
        changed[org].append((line, month, value))
    drafts = 0
    # Into every organisation's draft, which are each its own: the platform's work (the
    # administrator was checked above), in its row scope.
    with rowsecurity.platform():
        for draft in Version.objects.filter(
            submission__round=plan_round, submission__organisation_id__in=list(changed), number=0
        ).select_related("submission__organisation"):
            drafts += _into_draft(actor, draft, changed[draft.submission.organisation_id])
    figures = sum(len(c) for c in changed.values())
    if figures:
        audit_record(
            action="round.figures_provided",
            actor=actor,
            actor_label="" if actor else "system set-up",
            obj=plan_round,
            payload={"figures": figures, "organisations": len(changed), "drafts": drafts},
        )
    return ProvidedResult(figures, len(changed), drafts)


def _into_draft(actor, draft: Version, figures: list[tuple[int, int, Decimal]]) -> int:
    """Write provided figures into a working draft as one edit, in its history and its
    organisation's audit trail. Returns 1 if anything changed."""
    now = {
        (line, month): value
        for line, month, value in Value.objects.filter(
            version=draft, line_id__in={f[0] for f in figures}, counterparty=None
        ).values_list("line_id", "month", "value")
    }
    upserts = [(line, None, month, value) for line, month, value in figures
               if now.get((line, month)) != value]  # fmt: skip
    if not upserts:
        return 0
    _upsert(draft, upserts)
    draft.revision += 1
    draft.save(update_fields=["revision"])
    event = audit_record(
        action="draft.provided",
        actor=actor,
        actor_label="" if actor else "system set-up",
        organisation=draft.submission.organisation,
        obj=draft.submission,
        payload={"figures": len(upserts), "revision": draft.revision},
        private=True,
    )
    edit = _edit_record(draft, actor, DraftEdit.Source.PROVIDED, event)
    _record_history(
        edit,
        draft,
        [
            (line, None, month, now.get((line, month)), value) for line, _, month, value in upserts
        ],  # fmt: skip
    )
    return 1
