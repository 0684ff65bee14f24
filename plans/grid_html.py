"""The grid's cells written out in Python rather than in the template language: a full grid
has thousands of cells, and a dozen template lookups for each were most of the page's time.
The markup is exactly what section.html's cell used to write (compared on a national plan's
grids when it was written; tests/plans/test_grid_html.py holds it)."""

from __future__ import annotations

import html
from collections.abc import Collection, Sequence

from django.utils.safestring import SafeString, mark_safe

from openbook import numbers
from plans.grid import Cell, Row

NOT_SAVED = "Not saved: another cell of the same change was refused."


def escape(value: object) -> str:
    # What django.utils.html.escape writes, without its lazy-string wrapper and SafeString for
    # each of a grid's tens of thousands of values (the joined row is marked safe once).
    return html.escape(str(value))


def _figure(cell: Cell, row: Row) -> str:
    try:
        return escape(numbers.figure(cell.value, row.line.unit))
    except ValueError:  # not a number: shown as it is, as the figure filter does
        return escape(cell.value)


def cell_html(row: Row, cell: Cell, editing: bool) -> str:
    """One cell: its figure, or in an editable grid its input and the value it started from
    (sent back so a save never overwrites someone else's change), and any problem."""
    css = cell.css
    cell_id = escape(cell.id)
    opening = f'<td class="{css}" id="{cell_id}">' if css else f'<td id="{cell_id}">'
    if not editing:
        return f"{opening}{_figure(cell, row)}</td>"
    partner = row.counterparty.ods_code if row.counterparty else ""
    name = escape(f"{row.line.code}:{partner}:{cell.month}")
    parts = [
        opening,
        f'<input name="v:{name}" value="{escape(cell.shown)}" '
        f'aria-labelledby="r-{escape(row.key)} m{cell.month}"',
    ]
    stored = cell.stored
    if stored is not None:
        parts.append(f' data-stored="{escape(stored)}"')
    if cell.problem:
        parts.append(f' id="in-{cell_id}" aria-invalid="true" aria-describedby="err-{cell_id}"')
    elif cell.typed is not None:
        parts.append(f' aria-describedby="err-{cell_id}"')
    parts.append(f'><input type="hidden" name="e:{name}" value="{escape(cell.started)}">')
    if cell.problem:
        parts.append(
            f'<span class="ob-cell-error" id="err-{cell_id}"><span class="nhsuk-u-visually-hidden">'
            f"Error:</span> {escape(cell.problem)}</span>"
        )
    elif cell.typed is not None:
        parts.append(f'<span class="nhsuk-u-visually-hidden" id="err-{cell_id}">{NOT_SAVED}</span>')
    parts.append("</td>")
    return "".join(parts)


def row_cells(row: Row, editing: bool, only: Collection[str] | None = None) -> SafeString:
    """A row's twelve cells (a worked-out row's are never inputs); with `only`, just the cells
    with those ids (an edit's answer)."""
    editing = editing and not row.derived
    return mark_safe(  # noqa: S308  (every value above is escaped)
        "".join(
            cell_html(row, cell, editing) for cell in row.cells if only is None or cell.id in only
        )
    )


def _shown(value: object, unit: str) -> str:
    try:
        return escape(numbers.figure(value, unit))
    except ValueError:  # not a number: shown as it is, as the figure filter does
        return escape(value)


def year_cells(row: Row, compared: bool) -> SafeString:
    """A row's year total and, compared with another version, that version's and the change:
    each by id, so an edit's answer puts them in place."""
    key, unit = escape(row.key), row.line.unit
    html = f'<td class="ob-year" id="total-{key}">{_shown(row.total, unit)}</td>'
    if compared:
        html += (
            f'<td id="prev-{key}">{_shown(row.previous_total, unit)}</td>'
            f'<td id="change-{key}">{_shown(row.change, unit)}</td>'
        )
    return mark_safe(html)  # noqa: S308  (every value escaped)


def totals(rows: Sequence[Row], compared: bool) -> SafeString:
    """Everything an edit can move besides its own cells: each row's year (and comparison)
    and each worked-out row's months."""
    return mark_safe(  # noqa: S308  (every value escaped)
        "".join(
            year_cells(row, compared) + (row_cells(row, False) if row.derived else "")
            for row in rows
        )
    )


def figure_cells(values, unit: str, css: str) -> SafeString:
    """A row of read-only figure cells (a system's totals by month): one string, not a
    template lookup per figure."""
    cells = []
    for value in values:
        try:
            shown = numbers.figure(value, unit)
        except ValueError:
            shown = value
        cells.append(f'<td class="{css}">{escape(shown)}</td>')
    return mark_safe("".join(cells))  # noqa: S308  (every figure escaped)
