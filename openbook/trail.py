"""A system's audit trail, shown: its events through a selector over accounts.policy, the
filters people use on the timeline, where each event's object lives, and the chain exported
with everything needed to check it independently."""

from __future__ import annotations

import csv
import io
import json
from typing import TYPE_CHECKING, Any

import django_filters
from django.db.models import QuerySet
from django.http import Http404

from accounts import policy
from accounts.models import Organisation
from openbook import checkpoints, registry
from openbook.audit import (
    GENESIS_HASH,
    audit_verify_chain_cached,
    canonical_json,
    event_fields,
)
from openbook.exports import neutralise
from openbook.forms import DateInputField
from openbook.models import AuditCheckpoint, AuditEvent, system_chain
from openbook.registry import Link

if TYPE_CHECKING:
    from accounts.models import System
    from accounts.policy import AnyUser

ALGORITHM = (
    "Each event's hash is sha256(previous event's hash + the canonical JSON of its fields): "
    "keys sorted, separators ',' and ':', UTF-8, no ASCII escaping. The first event's previous "
    f"hash is {GENESIS_HASH[:8]}… (64 zeros)."
)


def audit_events_for(user: AnyUser, system: System) -> QuerySet[AuditEvent]:
    """The system's chain, for people who may see the system (404 otherwise)."""
    if not policy.can_view_audit(user, system):
        raise Http404("No such system.")
    return AuditEvent.objects.filter(chain=system_chain(system.pk))


def verify(user: AnyUser, system: System):
    """The chain checked, re-hashing only events added since the last good check."""
    audit_events_for(user, system)  # the same check
    return audit_verify_chain_cached(system_chain(system.pk))


def checkpoint_now(user: AnyUser, system: System) -> dict[str, Any] | None:
    """The chain's head now, signed (None when the chain does not verify or is empty)."""
    audit_events_for(user, system)
    return checkpoints.checkpoint_current(system_chain(system.pk))


def checkpoints_kept(user: AnyUser, system: System) -> QuerySet[AuditCheckpoint]:
    """The system chain's nightly checkpoints, newest first."""
    audit_events_for(user, system)
    return AuditCheckpoint.objects.filter(chain=system_chain(system.pk)).order_by("-seq")


def verify_against(user: AnyUser, system: System, data: Any) -> checkpoints.CheckpointCheck:
    """The system's chain checked against a checkpoint someone kept (or an export's)."""
    audit_events_for(user, system)
    return checkpoints.audit_verify_against(data, chain=system_chain(system.pk))


def kind_of(action: str) -> str:
    return action.split(".", 1)[0]


class TimelineFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(method="by_kind", empty_label="Every kind")
    organisation = django_filters.ModelChoiceFilter(
        queryset=Organisation.objects.none(), empty_label="Every organisation",
        to_field_name="ods_code",
    )  # fmt: skip
    person = django_filters.CharFilter(field_name="actor_label", lookup_expr="icontains")
    since = django_filters.DateFilter(field_name="occurred_at", lookup_expr="date__gte")
    until = django_filters.DateFilter(field_name="occurred_at", lookup_expr="date__lte")

    class Meta:
        model = AuditEvent
        fields: list[str] = []

    def __init__(self, *args, system: System, **kwargs):
        super().__init__(*args, **kwargs)
        actions = self.queryset.order_by().values_list("action", flat=True).distinct()
        kinds = sorted({kind_of(a) for a in actions})
        self.filters["kind"].extra["choices"] = [
            (k, registry.KIND_LABELS.get(k, k.title())) for k in kinds
        ]
        self.filters["organisation"].queryset = system.organisations.order_by("name")

    def by_kind(self, queryset, name, value):
        return queryset.filter(action__startswith=value + ".") if value else queryset


class DateInputFilter(django_filters.DateFilter):
    """A date typed in the NHS.UK date input's three boxes (day, month, year)."""

    field_class = DateInputField


class TimelinePageFilter(TimelineFilter):
    """The timeline page's filters: dates in the NHS.UK date input. (The API keeps
    ?since=YYYY-MM-DD.)"""

    since = DateInputFilter(field_name="occurred_at", lookup_expr="date__gte", label="From date")
    until = DateInputFilter(field_name="occurred_at", lookup_expr="date__lte", label="To date")


def action_label(action: str) -> str:
    if action in registry.ACTION_LABELS:
        return registry.ACTION_LABELS[action]
    if action.endswith(".changed_in_admin"):  # a model name: "controltotal.changed_in_admin"
        return "Changed by a platform administrator"
    return action.replace("_", " ").replace(".", ": ").capitalize()


def object_links(events) -> dict[int, Link]:
    """Where each event's object can be seen and what it is called there (for the types the
    apps registered): event id → link, one query per type on the page, not one per event."""
    return registry.links(events)


LONG_LIST = 12  # longer lists are counted on the page; the exports hold every entry


def _text(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return str(value)


def _flatten(label: str, value: Any, out: list[tuple[str, str]]) -> None:
    if isinstance(value, dict):
        if not value:
            out.append((label, "none"))
        for key, inner in value.items():
            name = str(key) if key.isupper() else str(key).replace("_", " ")
            _flatten(f"{label} › {name}" if label else name[:1].upper() + name[1:], inner, out)
    elif isinstance(value, list):
        if len(value) > LONG_LIST:
            out.append((label, f"{len(value)} entries (every one is in the JSON and CSV "
                               "downloads)"))  # fmt: skip
        elif all(not isinstance(v, dict | list) for v in value):
            out.append((label, ", ".join(_text(v) for v in value) or "none"))
        else:
            for n, inner in enumerate(value, start=1):
                _flatten(f"{label} {n}", inner, out)
    else:
        out.append((label, _text(value)))


def event_details(event: AuditEvent) -> list[tuple[str, str]]:
    """An event's before, after and other details as (label, text) rows for people: keys in
    words, nested figures by path ("After › flows › ZB1"), long lists counted."""
    rows: list[tuple[str, str]] = []
    for label, value in (("Before", event.before), ("After", event.after),
                         ("", event.payload)):  # fmt: skip
        if value is None:
            continue
        if isinstance(value, dict):
            _flatten(label, value, rows)  # a payload's keys are its labels
        else:
            _flatten(label or "Details", value, rows)
    return rows


def export_rows_list(events) -> list[dict[str, Any]]:
    """As export_rows, for events already fetched (a page)."""
    return [{**event_fields(e), "prev_hash": e.prev_hash, "hash": e.hash} for e in events]


def export_rows(events) -> list[dict[str, Any]]:
    """Every event as hashed, with its previous hash and hash, oldest first."""
    return [
        {**event_fields(e), "prev_hash": e.prev_hash, "hash": e.hash}
        for e in events.order_by("seq").iterator(chunk_size=2000)
    ]


def export_json(system: System, events, checkpoint: dict[str, Any] | None) -> str:
    """The chain with its head signed (signed before the events are read, so the export
    holds at least the events the checkpoint covers): keep the file, and later
    `openbook audit verify --against` it, or post its checkpoint to the API's verify."""
    return json.dumps(
        {
            "chain": system_chain(system.pk),
            "system": system.code,
            "algorithm": ALGORITHM,
            "checkpoint": checkpoint,
            "events": export_rows(events),
        },
        ensure_ascii=False,
        indent=1,
    )


CSV_FIELDS = ["chain", "seq", "occurred_at", "actor_id", "actor_label", "organisation_id",
              "system_id", "action", "object_type", "object_id", "before", "after", "payload",
              "reason", "request_id", "prev_hash", "hash"]  # fmt: skip


def export_csv(events) -> str:
    """The chain as CSV for reading and keeping: JSON fields (before, after, payload) as
    canonical JSON text. Text a spreadsheet would run as a formula gets a leading apostrophe,
    so recompute hashes from the JSON export (or strip it first)."""

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_FIELDS)
    for row in export_rows(events):
        values = []
        for name in CSV_FIELDS:
            value = row[name]
            if name in ("before", "after", "payload"):
                value = "" if value is None else canonical_json(value)
            values.append("" if value is None else neutralise(value))
        writer.writerow(values)
    return out.getvalue()
