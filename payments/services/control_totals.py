"""Writes to control totals: one at a time or a whole system from CSV. Each is one
transaction, checks the policy and is audited."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from accounts import policy
from accounts.models import Organisation, System
from openbook.audit import audit_record
from openbook.csvtext import CsvTooLong, CsvUnreadable, csv_rows
from openbook.errors import ProblemList
from payments.models import ControlTotal
from payments.services.recalculation import request_recalculation
from plans.calculations import ValueProblem, parse_value
from plans.models import PlanningRound

if TYPE_CHECKING:
    from accounts.models import User


def amount_text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


MAX_CONTROL_TOTAL = Decimal(10) ** 11  # what the amount columns hold, £000
CONTROL_TOTALS_FILE_BYTES = 1_000_000  # a row for each organisation is a few kB


@transaction.atomic
def control_total_set(
    *,
    actor: User | None,
    plan_round: PlanningRound,
    organisation: Organisation,
    amount: Decimal | None,
) -> ControlTotal:
    """Set (or clear, with None) an organisation's control total."""
    if actor is not None and not policy.can_set_control_totals(actor, organisation.system):
        raise PermissionDenied(
            "Control totals are set by the region's reviewers and administrators."
        )
    if actor is not None:
        policy.require_second_factor(actor, "set a control total")
    if amount is not None and abs(amount) >= MAX_CONTROL_TOTAL:
        raise ValidationError(
            f"{organisation.name}: a control total must be under £100bn (entered in £000)."
        )
    row, _ = ControlTotal.objects.select_for_update().get_or_create(
        round=plan_round, organisation=organisation
    )
    before = row.amount
    if before == amount and row.pk:
        return row
    row.amount = amount
    row.updated_by = actor
    row.save()
    request_recalculation(
        round_id=plan_round.pk, system_id=organisation.system_id, trigger="control_total.set"
    )
    audit_record(
        action="control_total.set",
        actor=actor,
        actor_label="" if actor else "system set-up",
        organisation=organisation,
        obj=row,
        before={"amount": amount_text(before)},
        after={"amount": amount_text(amount)},
    )
    return row


@transaction.atomic
def control_totals_import(
    *, actor: User, plan_round: PlanningRound, system: System, data: bytes
) -> int:
    """Set control totals from CSV (`organisation,control_total`; blank for none). All or
    nothing; every problem is named by row."""
    if not policy.can_set_control_totals(actor, system):
        raise PermissionDenied(
            "Control totals are set by the region's reviewers and administrators."
        )
    policy.require_second_factor(actor, "set control totals")
    if len(data) > CONTROL_TOTALS_FILE_BYTES:
        raise ValidationError(
            "The file is larger than 1 MB, so it was not read; a control totals file is a row "
            "for each organisation."
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError("The file is not a CSV text file.") from None
    partners = {o.ods_code: o for o in system.organisations.all()}
    try:
        # A row a partner, with room for blank ones; a longer file is not this system's.
        reader = iter(csv_rows(text, max_rows=1 + len(partners) + 100))
    except CsvTooLong as exc:
        raise ValidationError(
            f"The file has more than {exc.limit:,} rows; {system.name} has {len(partners)} "
            "organisations, a row each after the heading."
        ) from None
    except CsvUnreadable as exc:
        raise ValidationError(str(exc)) from None
    header = [h.strip().lower() for h in next(reader, [])]
    if header != ["organisation", "control_total"]:
        raise ValidationError("The first row of the CSV file must be: organisation,control_total")
    problems, changes = [], []
    for number, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        where = f"row {number}"
        if len(row) != 2:
            problems.append({"cell": where, "value": ",".join(row), "problem": "needs two columns"})
            continue
        ods, raw = row[0].strip().upper(), row[1].strip()
        if ods not in partners:
            problems.append(
                {"cell": where, "value": ods, "problem": f"is not an organisation in {system.name}"}
            )
            continue
        try:
            amount = parse_value(raw)
        except ValueProblem as exc:
            problems.append({"cell": where, "value": raw, "problem": str(exc)})
            continue
        changes.append((partners[ods], amount))
    if problems:
        raise ProblemList("The file has problems, so no control total was changed.", problems)
    for organisation, amount in changes:
        control_total_set(
            actor=actor, plan_round=plan_round, organisation=organisation, amount=amount
        )
    return len(changes)
