"""Monthly finance returns: start, save the draft (whole, never over someone else's save),
submit a frozen version. Each write is one transaction, checks the policy and is audited."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum

from accounts import policy
from openbook.audit import audit_record
from openbook.errors import Conflict, ProblemList
from openbook.models import AuditEvent
from payments.services.recalculation import request_recalculation
from plans import monthly_returns
from plans.calculations import MONTHS, flatten
from plans.models import (
    MONTH_LABELS,
    Line,
    MonthlyReturn,
    PlanningRound,
    ReturnValue,
    ReturnVersion,
    Section,
    Submission,
    Value,
)
from plans.selectors import line_spec

if TYPE_CHECKING:
    from accounts.models import Organisation, User
    from plans.calculations import LineSpec

FINANCE_SECTION = "finance"


@dataclass(frozen=True)
class ReturnLines:
    """The lines an organisation's return has: its finance lines, inputs and derived."""

    lines: list[Line]
    specs: dict[str, LineSpec]
    flat: dict[str, dict[str, int]]

    @property
    def inputs(self) -> list[Line]:
        return [line for line in self.lines if not line.formula]

    @property
    def surplus(self) -> str:
        """The code of the template's surplus line ("" if the template names none)."""
        return next((s.code for s in self.specs.values() if s.role == Line.Role.SURPLUS), "")

    @property
    def required(self) -> list[str]:
        return [line.code for line in self.inputs if line.required]


def return_lines(plan_round: PlanningRound, kind: str) -> ReturnLines:
    lines = list(
        Line.objects.filter(
            section__template_version_id=plan_round.template_version_id,
            section__code=FINANCE_SECTION,
            section__kind=Section.Kind.GRID,
            kinds__contains=[kind],
        ).order_by("position")
    )
    specs = {line.code: line_spec(line) for line in lines}
    return ReturnLines(lines, specs, flatten(list(specs.values())))


def version_cells(version: ReturnVersion | None) -> dict[tuple[str, int], Decimal]:
    if version is None:
        return {}
    return {
        (code, month): value
        for code, month, value in version.values.values_list("line__code", "month", "value")
    }


def _prefill(
    plan_round: PlanningRound, organisation: Organisation, month: int, lines: ReturnLines
) -> tuple[dict[tuple[str, int], Decimal], str]:
    """Where a new return's draft starts: the latest earlier submitted return (its actuals and
    forecast), else the organisation's submitted plan as the forecast, else nothing."""
    earlier = (
        ReturnVersion.objects.filter(
            monthly_return__round=plan_round,
            monthly_return__organisation=organisation,
            monthly_return__month__lt=month,
            number__gt=0,
        )
        .order_by("-monthly_return__month", "-number")
        .first()
    )
    if earlier is not None:
        return version_cells(earlier), f"the {earlier.monthly_return.month_label} return"
    submission = Submission.objects.filter(round=plan_round, organisation=organisation).first()
    version = (
        submission.versions.filter(number__gt=0).order_by("-number").first() if submission else None
    )
    if version is None:
        return {}, ""
    codes = {line.pk: line.code for line in lines.inputs}
    rows = (
        Value.objects.filter(version=version, line_id__in=codes)
        .values("line_id", "month")
        .annotate(total=Sum("value"))
    )
    return {(codes[r["line_id"]], r["month"]): r["total"] for r in rows}, "the submitted plan"


@transaction.atomic
def return_start(
    *, actor: User, plan_round: PlanningRound, organisation: Organisation, month: int
) -> MonthlyReturn:
    """The organisation's return for the month, made on first use with its draft filled in
    from the last return or the plan, so only what changed needs typing."""
    if not policy.can_prepare(actor, organisation):
        raise PermissionDenied("Only the organisation's preparers and approvers can start returns.")
    if month not in MONTHS:
        raise ValidationError("Choose a month from April (1) to March (12).")
    existing = MonthlyReturn.objects.filter(
        round=plan_round, organisation=organisation, month=month
    ).first()
    if existing is not None:
        return existing
    lines = return_lines(plan_round, organisation.kind)
    cells, source = _prefill(plan_round, organisation, month, lines)
    try:
        with transaction.atomic():
            monthly_return = MonthlyReturn.objects.create(
                round=plan_round, organisation=organisation, month=month
            )
    except IntegrityError:  # started a moment ago by someone else (or a double click)
        return MonthlyReturn.objects.get(round=plan_round, organisation=organisation, month=month)
    draft = ReturnVersion.objects.create(monthly_return=monthly_return, number=0, created_by=actor)
    _write(draft, cells, lines)
    audit_record(
        action="return.started",
        actor=actor,
        organisation=organisation,
        obj=monthly_return,
        payload={"month": month, "prefilled_from": source or "nothing"},
    )
    return monthly_return


def _write(version: ReturnVersion, cells: Mapping[tuple[str, int], Decimal], lines: ReturnLines):
    ids = {line.code: line.pk for line in lines.inputs}
    ReturnValue.objects.bulk_create(
        ReturnValue(version=version, line_id=ids[code], month=month, value=value)
        for (code, month), value in sorted(cells.items())
        if code in ids
    )


def _locked(actor: User, monthly_return: MonthlyReturn, expected_revision: int) -> MonthlyReturn:
    locked = (
        MonthlyReturn.objects.select_for_update()
        .select_related("organisation", "round")
        .get(pk=monthly_return.pk)
    )
    if locked.revision != expected_revision:
        raise Conflict(
            f"Someone else saved this return (now revision {locked.revision}) after you opened "
            f"it at revision {expected_revision}. Nothing was changed: reload it to see their "
            "figures, then make your changes again."
        )
    return locked


def revision_for_upload(
    *, actor: User, monthly_return: MonthlyReturn, file_revision: int | None
) -> int:
    """The revision an uploaded file counts as read at. A file downloaded before saves that were
    all the uploader's own uploads (they uploaded it, fixed it and upload it again) counts as
    current;
    one downloaded before anyone else's save keeps its revision, so the save is refused as
    stale; a file that carries no revision is stale (-1). The saves are read from the audit
    trail, where each records the revision it made and who made it."""

    current = monthly_return.revision
    if file_revision is None:
        return -1
    if file_revision >= current:
        return file_revision
    saves = list(
        AuditEvent.objects.filter(
            action="return.saved",
            object_type=MonthlyReturn._meta.label_lower,
            object_id=str(monthly_return.pk),
            payload__revision__gt=file_revision,
        ).values_list("actor_id", "payload__source")
    )
    # Only the uploader's own uploads: their edits in the form would be quietly undone.
    if len(saves) == current - file_revision and all(
        who == actor.pk and source in ("xlsx", "csv") for who, source in saves
    ):
        return current
    return file_revision


@transaction.atomic
def return_save(
    *,
    actor: User,
    monthly_return: MonthlyReturn,
    cells: Mapping[tuple[str, int], Decimal],
    expected_revision: int,
    source: str = "form",
) -> MonthlyReturn:
    """Replace the draft's figures with these (already read by `monthly_returns.check_cells`
    or `read_table`): all of them, or none if anything is wrong."""
    if not policy.can_prepare(actor, monthly_return.organisation):
        raise PermissionDenied("Only the organisation's preparers and approvers can change it.")
    locked = _locked(actor, monthly_return, expected_revision)
    lines = return_lines(locked.round, locked.organisation.kind)
    inputs = {line.code for line in lines.inputs}
    problems = [
        {
            "cell": f"{code}, {MONTH_LABELS[month - 1] if month in MONTHS else month}",
            "value": str(value),
            "problem": "is not an input line of this return"
            if code not in inputs
            else "is not a month of the year",
        }
        for (code, month), value in cells.items()
        if code not in inputs or month not in MONTHS
    ]
    if problems:
        raise ProblemList(f"{len(problems)} problem(s); nothing was saved.", problems)
    draft = locked.versions.get(number=0)
    before = version_cells(draft)
    changed = sum(1 for key in set(before) | set(cells) if before.get(key) != cells.get(key))
    draft.values.all().delete()
    _write(draft, cells, lines)
    locked.revision += 1
    locked.status = MonthlyReturn.Status.DRAFT
    locked.save(update_fields=["revision", "status", "updated_at"])
    audit_record(
        action="return.saved",
        actor=actor,
        organisation=locked.organisation,
        obj=locked,
        payload={"month": locked.month, "cells_changed": changed, "source": source,
                 "revision": locked.revision},
    )  # fmt: skip
    return locked


@transaction.atomic
def return_submit(
    *, actor: User, monthly_return: MonthlyReturn, expected_revision: int
) -> ReturnVersion:
    """Freeze the draft as the next version. The fund and positions are recalculated."""
    if not policy.can_approve(actor, monthly_return.organisation):
        raise PermissionDenied("Only the organisation's approvers can submit its returns.")
    policy.require_second_factor(actor, "submit a monthly return")
    locked = _locked(actor, monthly_return, expected_revision)
    lines = return_lines(locked.round, locked.organisation.kind)
    draft = locked.versions.get(number=0)
    cells = version_cells(draft)
    gaps = monthly_returns.missing(cells, lines.required)
    if gaps:
        raise ProblemList(
            "Every month of the required lines needs a figure before the return is submitted.",
            [{"cell": gap, "value": "", "problem": "is blank"} for gap in gaps],
        )
    if locked.status == MonthlyReturn.Status.SUBMITTED:
        raise ValidationError("Nothing has changed since the last submission.")
    number = (locked.versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    version = ReturnVersion.objects.create(monthly_return=locked, number=number, created_by=actor)
    _write(version, cells, lines)
    locked.status = MonthlyReturn.Status.SUBMITTED
    locked.save(update_fields=["status", "updated_at"])
    pos = monthly_returns.position(cells, locked.month, lines.flat, lines.surplus)
    audit_record(
        action="return.submitted",
        actor=actor,
        organisation=locked.organisation,
        obj=locked,
        payload={
            "month": locked.month,
            "version": number,
            "year_to_date": str(pos.year_to_date),
            "forecast_outturn": str(pos.outturn),
        },
    )

    request_recalculation(
        round_id=locked.round_id,
        system_id=locked.organisation.system_id,
        trigger=f"return {locked.organisation.ods_code} {locked.month_label}",
    )
    return version
