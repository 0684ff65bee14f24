"""Set-based writes to a working draft that every way of changing it shares: figures upserted
in one statement, the edit that records who changed the draft and how, and each changed
figure's before and after."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import connection

from plans.models import CellChange, DraftEdit, ProvidedFigure, Submission, Value, Version

if TYPE_CHECKING:
    from accounts.models import User


def _upsert(draft: Version, rows: Sequence[tuple[int, int | None, int, Decimal]]) -> None:
    """Insert or update many figures in one set-based statement."""
    line_ids, counterparty_ids, months, values = (
        list(column) for column in zip(*rows, strict=True)
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {Value._meta.db_table} (version_id, line_id, counterparty_id, month, value)
            SELECT %s, line_id, counterparty_id, month, value
            FROM unnest(%s::bigint[], %s::bigint[], %s::smallint[], %s::numeric[])
                AS incoming(line_id, counterparty_id, month, value)
            ON CONFLICT (version_id, line_id, counterparty_id, month)
            DO UPDATE SET value = EXCLUDED.value
            """,  # noqa: S608  (the table name comes from the model; values are parameters)
            [draft.pk, line_ids, counterparty_ids, months, values],
        )


def _record_history(edit: DraftEdit, draft: Version, rows: list[tuple]) -> None:
    """Each changed figure, from what to what, in one set-based statement (a whole plan's
    upload is thousands of rows: made one by one as models, they cost more than the save)."""
    line_ids, counterparty_ids, months, before, after = (
        list(column) for column in zip(*rows, strict=True)
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {CellChange._meta.db_table}
                (edit_id, version_id, line_id, counterparty_id, month, before, after)
            SELECT %s, %s, line_id, counterparty_id, month, before, after
            FROM unnest(%s::bigint[], %s::bigint[], %s::smallint[], %s::numeric[],
                        %s::numeric[]) AS changed(line_id, counterparty_id, month, before, after)
            """,  # noqa: S608  (the table name comes from the model; values are parameters)
            [edit.pk, draft.pk, line_ids, counterparty_ids, months, before, after],
        )


def _edit_record(draft: Version, actor: User, source: str, event: Any) -> DraftEdit:
    return DraftEdit.objects.create(
        version=draft,
        revision=draft.revision,
        actor=actor,
        at=event.occurred_at,
        source=source if source in DraftEdit.Source.values else DraftEdit.Source.SEED,
        audit_event=event,
    )


def _provided_into(draft: Version, submission: Submission) -> None:
    """A plan starting now begins with the figures its round's owner has provided for it
    (plans/services/provided.py keeps started drafts up to date)."""
    rows = [
        (line, None, month, value)
        for line, month, value in ProvidedFigure.objects.filter(
            round_id=submission.round_id, organisation_id=submission.organisation_id
        ).values_list("line_id", "month", "value")
    ]
    if rows:
        _upsert(draft, rows)
