"""A cell someone wants to set, however it arrived (the grid, an upload, the API): the shape
every way in shares, kept apart from the services so the readers of files can build cells
without importing the writers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from plans.models import MONTH_LABELS

UNSET: Any = object()


@dataclass(frozen=True)
class CellInput:
    """One cell someone wants to set: a line (and counterparty) in a month.

    `expected` is the value the editor started from (None for an empty cell); when given,
    the save is refused if someone else has changed the cell since.
    """

    line: str
    month: int
    value: object
    counterparty: str | None = None
    expected: object = UNSET
    where: str = ""  # how to name the cell in a message, e.g. "Finance!D7"

    def name(self) -> str:
        if self.where:
            return self.where
        cp = f" ({self.counterparty})" if self.counterparty else ""
        month = MONTH_LABELS[self.month - 1] if 1 <= self.month <= 12 else f"month {self.month}"
        return f"{self.line}{cp}, {month}"


def cells_from_rows(rows: Iterable[dict[str, Any]]) -> list[CellInput]:
    """API rows ({line, counterparty?, month, value, expected?}) as cell inputs."""
    return [
        CellInput(
            line=str(row["line"]),
            month=row["month"],
            value=row.get("value"),
            counterparty=row.get("counterparty") or None,
            expected=row.get("expected", UNSET),
        )
        for row in rows
    ]
