"""A frozen template version's lines, read from the database once per process.

A loaded template version never changes (plans/services/templates.py refuses a changed file
with the same version number), so every request that collates, recalculates or lays out a plan
can share one copy of its lines instead of reading and flattening hundreds of rows each time.

The copy is keyed by the version's id, its checksum and the row's version in the database, read
in one small query per use: refreshing help text, the one thing a loaded version may still
change, rewrites the row, and a database rebuilt under a running process (ids reused for other
contents) is never answered from the old copy.

What is shared is read by many threads at once: callers treat it as read-only.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from django.db.models.expressions import RawSQL

from plans.models import Line, TemplateVersion

T = TypeVar("T")

# A few versions per process: a round's own and the ones it was revised from.
_LIMIT = 32
_lock = threading.Lock()
_memo: dict[tuple, object] = {}


def stamp(version_ids: list[int]) -> tuple[tuple[int, str, str], ...]:
    """What the versions are now, in the order given: each one's id, checksum and row version
    (PostgreSQL's xmin, which any update of the row changes: a help refresh too). A few
    bytes a version, where a digest of the whole stored definition cost milliseconds."""
    rows = {
        pk: (checksum, row)
        for pk, checksum, row in TemplateVersion.objects.filter(pk__in=version_ids)
        .annotate(row=RawSQL("xmin::text", ()))
        .values_list("pk", "checksum", "row")
    }
    return tuple((pk, *rows.get(pk, ("", ""))) for pk in version_ids)


def lines_of(version_ids: list[int]) -> list[Line]:
    """Every line of these versions with its section, in template order."""
    return list(
        Line.objects.filter(section__template_version_id__in=version_ids)
        .select_related("section")
        .order_by("section__template_version_id", "section__position", "position")
    )


def memoised(kind: str, version_ids: list[int], build: Callable[[], T]) -> T:
    """`build()`'s result for these template versions, worked out once per process while
    the versions are as they are now."""
    key = (kind, stamp(version_ids))
    with _lock:
        if key in _memo:
            return _memo[key]  # type: ignore[return-value]
    value = build()  # outside the lock: two threads may build it once each, harmlessly
    with _lock:
        if len(_memo) >= _LIMIT:
            _memo.clear()  # versions in use are few; start again rather than track age
        _memo[key] = value
    return value


def forget() -> None:
    """Drop every copy (tests that rebuild templates in place)."""
    with _lock:
        _memo.clear()


def kind_lines(version_id: int, kind: str) -> tuple[list[Line], dict[str, dict[str, int]]]:
    """The lines an organisation of this kind completes, in template order (as
    selectors.lines_for gives them), and every derived line among them as a sum of input lines."""
    return memoised(f"lines of {kind}", [version_id], lambda: _kind_lines(version_id, kind))


def _kind_lines(version_id: int, kind: str) -> tuple[list[Line], dict[str, dict[str, int]]]:
    from plans.calculations import flatten
    from plans.selectors import line_spec, lines_for

    lines = list(lines_for(version_id, kind))
    return lines, flatten([line_spec(line) for line in lines])
