"""What each app tells the platform about itself, registered in its AppConfig.ready(): the
words for its audit actions, how to link an audited object to the page that shows it, and
what it asks of a person on the home page. The platform's audit timeline and home page read
these, so the platform imports no app."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from accounts.policy import AnyUser
    from openbook.models import AuditEvent


class Link(NamedTuple):
    """Where an event's object is seen, and its name as that page gives it."""

    url: str
    name: str


Linker = Callable[[list["AuditEvent"]], dict[int, Link]]  # events of one type → event id → link
Attention = Callable[["AnyUser"], list[dict[str, Any]]]

KIND_LABELS: dict[str, str] = {}  # the part before the dot of an action → the timeline's filter
ACTION_LABELS: dict[str, str] = {}
_LINKERS: dict[str, Linker] = {}
_ATTENTION: list[Attention] = []
_CURRENT: dict[str, Callable[[AnyUser], Any]] = {}


def register_actions(kinds: dict[str, str], labels: dict[str, str]) -> None:
    KIND_LABELS.update(kinds)
    ACTION_LABELS.update(labels)


def register_object(
    object_type: str, queryset: Callable[[], QuerySet], name: Callable[[Any], str]
) -> None:
    """Audited objects of this type link to their get_absolute_url(), named by `name`; the
    queryset fetches what both need, one query for a page of events."""

    def link(events: list[AuditEvent]) -> dict[int, Link]:
        rows = queryset().in_bulk({int(e.object_id) for e in events})
        return {
            e.pk: Link(rows[int(e.object_id)].get_absolute_url(), name(rows[int(e.object_id)]))
            for e in events
            if int(e.object_id) in rows
        }

    _LINKERS[object_type] = link


def register_linker(object_type: str, linker: Linker) -> None:
    """For objects whose page depends on the event (a round's fund, seen from the system the
    event was recorded in)."""
    _LINKERS[object_type] = linker


def register_attention(items: Attention) -> None:
    if items not in _ATTENTION:  # ready() may run again (a test re-populating the apps)
        _ATTENTION.append(items)


def register_current(name: str, find: Callable[[AnyUser], Any]) -> None:
    """Something a platform page shows for the person, worked out by an app: the planning
    round they are working on (`round`)."""
    _CURRENT[name] = find


def current(name: str, user: AnyUser) -> Any:
    find = _CURRENT.get(name)
    return find(user) if find is not None else None


def links(events: Iterable[AuditEvent]) -> dict[int, Link]:
    """Each event's link, for the types that have a page: one call per type."""
    by_type: dict[str, list[AuditEvent]] = {}
    for event in events:
        if event.object_type in _LINKERS and event.object_id.isdigit():
            by_type.setdefault(event.object_type, []).append(event)
    found: dict[int, Link] = {}
    for object_type, of_type in by_type.items():
        found |= _LINKERS[object_type](of_type)
    return found


def attention_for(user: AnyUser) -> list[dict[str, Any]]:
    """Everything every app says waits on this person."""
    return [item for items in _ATTENTION for item in items(user)]
