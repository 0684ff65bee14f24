"""Moving a live round to a new template version (a revision arriving mid-round): submitted
versions keep the template they were made with; each working draft is migrated, its figures
on lines that still mean the same carried over, the rest listed, everything checked again;
every step audited, and what happened to each draft kept for its organisation to read."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts import policy, rowsecurity
from openbook.audit import audit_record
from openbook.months import MONTH_LABELS
from plans import calculations, selectors
from plans.models import (
    DraftEdit,
    DraftMigration,
    Line,
    Narrative,
    PlanningRound,
    ProvidedFigure,
    Section,
    Submission,
    TableRow,
    TemplateRevision,
    TemplateVersion,
    Value,
    Version,
)
from plans.services.tables import _write_totals
from plans.services.writes import _edit_record, _upsert
from plans.table_selectors import spec_of, version_rows
from plans.tables import RowInput, check_rows

if TYPE_CHECKING:
    from accounts.models import User


def _same(old: Line, new: Line) -> bool:
    """A figure carries over to the new version's line of the same code if it still means
    the same: the same unit and counterparty, and still typed (not now a table's total or the
    round owner's figure)."""
    return (
        old.unit == new.unit
        and old.counterparty == new.counterparty
        and not (new.is_derived or new.fed_by or new.provided)
    )


@transaction.atomic
def round_revise(
    *, actor: User, plan_round: PlanningRound, to_version: TemplateVersion, reason: str
) -> TemplateRevision:
    if not policy.is_platform_admin(actor):
        raise PermissionDenied("Only a platform administrator can revise a round's template.")
    plan_round = PlanningRound.objects.select_for_update().get(pk=plan_round.pk)
    reason = reason.strip()
    errors = {}
    if not reason:
        errors["reason"] = "Say why the template changes: every organisation reads it."
    if to_version.pk == plan_round.template_version_id:
        errors["to_version"] = "The round is on this version already."
    elif to_version.template_id != plan_round.template_version.template_id:
        errors["to_version"] = "Choose a version of the round's own template."
    if errors:
        raise ValidationError(errors)
    before = plan_round.template_version
    # Every organisation's draft moves, and drafts are each organisation's own: this is the
    # platform's work (the administrator was checked above), in its row scope.
    with rowsecurity.platform():
        return _revise(actor, plan_round, before, to_version, reason)


def _revise(actor, plan_round, before, to_version, reason) -> TemplateRevision:
    old = {line.pk: line for line in Line.objects.filter(section__template_version=before)}
    new = {line.code: line for line in Line.objects.filter(section__template_version=to_version)}
    sections = {s.code: s for s in Section.objects.filter(template_version=to_version)}
    carried = {pk: new[line.code] for pk, line in old.items()
               if line.code in new and _same(line, new[line.code])}  # fmt: skip
    revision = TemplateRevision.objects.create(
        round=plan_round, from_version=before, to_version=to_version, reason=reason,
        actor=actor, at=timezone.now(),
    )  # fmt: skip
    _provided(plan_round, old, new)
    plan_round.template_version = to_version
    plan_round.save(update_fields=["template_version"])
    submissions = Submission.objects.select_for_update().filter(round=plan_round)
    for submission in submissions.select_related("organisation"):
        _migrate(actor, revision, submission, old, new, carried, sections)
    audit_record(
        action="round.template_revised",
        actor=actor,
        obj=plan_round,
        before={"template_version": before.label},
        after={"template_version": to_version.label},
        payload={"reason": reason, "drafts": submissions.count()},
    )
    return revision


def _provided(plan_round, old: dict[int, Line], new: dict[str, Line]) -> None:
    """The round owner's figures move to the new version's lines of the same code, if still
    provided; the others end with the version that had them."""
    for figure in ProvidedFigure.objects.filter(round=plan_round):
        line = new.get(old[figure.line_id].code) if figure.line_id in old else None
        if line is not None and line.provided:
            figure.line = line
            figure.save(update_fields=["line"])
        else:
            figure.delete()


def _migrate(actor, revision, submission, old, new, carried, sections) -> None:
    kind = submission.organisation.kind
    draft = Version.objects.select_for_update().filter(submission=submission, number=0).first()
    if draft is None:  # a plan whose start never finished: nothing to move
        return
    dropped: dict[str, Decimal] = defaultdict(Decimal)
    problems = []
    moved = 0
    for value in Value.objects.filter(version=draft).select_related("counterparty"):
        line = carried.get(value.line_id)
        was = old.get(value.line_id)
        again = new.get(was.code) if was else None
        if (
            line is None
            and again is not None
            and was is not None
            and ((again.fed_by and was.fed_by) or (again.provided and was.provided))
        ):
            value.delete()  # written again below, from the tables or the round's owner
            continue
        if line is None or kind not in line.kinds:
            dropped[was.code if was else str(value.line_id)] += value.value
            value.delete()
            continue
        value.line = line
        value.save(update_fields=["line"])
        moved += 1
        why = calculations.check_value(selectors.line_spec(line), value.value)
        if why:
            partner = f" ({value.counterparty.ods_code})" if value.counterparty else ""
            problems.append({"cell": f"{line.code}{partner}, {MONTH_LABELS[value.month - 1]}",
                             "value": str(value.value), "problem": why})  # fmt: skip
    for narrative in Narrative.objects.filter(version=draft).select_related("section"):
        section = sections.get(narrative.section.code)
        if section is None or section.kind != Section.Kind.NARRATIVE or kind not in section.kinds:
            dropped[f"narrative: {narrative.section.name}"] = Decimal(0)
            narrative.delete()
        else:
            narrative.section = section
            narrative.save(update_fields=["section"])
    tables = defaultdict(list)
    for row in TableRow.objects.filter(version=draft).select_related("section"):
        section = sections.get(row.section.code)
        if section is None or section.kind != Section.Kind.TABLE or kind not in section.kinds:
            dropped[f"table: {row.section.name}"] += sum(row.amounts, Decimal(0))
            row.delete()
        else:
            row.section = section
            row.save(update_fields=["section"])
            tables[section.code] = section
    for section in tables.values():
        spec = spec_of(section)
        rows = version_rows(draft, section)
        again = [
            RowInput(dict[str, object](r.fields), dict(enumerate(r.amounts, start=1)),
                     name=f"{spec.name} row {n}")
            for n, r in enumerate(rows, start=1)
        ]  # fmt: skip
        _, found = check_rows(spec, again)
        problems += found
        _write_totals(draft, submission, spec, rows)
    provided = [
        (figure.line_id, None, figure.month, figure.value)
        for figure in ProvidedFigure.objects.filter(
            round=revision.round, organisation=submission.organisation
        )
    ]
    if provided:
        _upsert(draft, provided)
    filled = set(Value.objects.filter(version=draft).values_list("line__code", flat=True))
    required = [
        {"line": line.code, "label": line.label, "section": line.section.code}
        for line in Line.objects.filter(section__template_version=revision.to_version,
                                        required=True, kinds__contains=[kind])
        .select_related("section").order_by("section__position", "position")
        if not (line.is_derived or line.fed_by or line.provided) and line.code not in filled
    ]  # fmt: skip
    labels = {line.code: line.label for line in old.values()}
    units = {line.code: line.unit for line in old.values()}
    draft.revision += 1
    draft.save(update_fields=["revision"])
    event = audit_record(
        action="draft.migrated",
        actor=actor,
        organisation=submission.organisation,
        obj=submission,
        payload={
            "to": revision.to_version.label,
            "carried": moved,
            "dropped": len(dropped),
            "new_required": len(required),
            "problems": len(problems),
        },  # fmt: skip
        private=True,
    )
    _edit_record(draft, actor, DraftEdit.Source.REVISION, event)
    DraftMigration.objects.create(
        revision=revision,
        submission=submission,
        carried=moved,
        dropped=[
            {
                "line": code,
                "label": labels.get(code, code),
                "total": str(total),
                "unit": units.get(code, "gbp000"),
            }
            for code, total in sorted(dropped.items())
        ],  # fmt: skip
        new_required=required,
        problems=problems[:200],
    )
