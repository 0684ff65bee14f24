"""Appending to and verifying the hash-chained audit trail.

hash = sha256(previous hash + canonical JSON of the event). Appends to one chain are
serialised with a transaction-scoped advisory lock, so concurrent writers (web processes,
Celery workers) never fork a chain; the (chain, seq) unique key is the second guard.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction
from django.utils import timezone

from openbook.models import (
    PLATFORM_CHAIN,
    AuditEvent,
    AuditHead,
    organisation_chain,
    system_chain,
)
from openbook.request_context import current_request_id

if TYPE_CHECKING:
    from accounts.models import Organisation, System, User

GENESIS_HASH = "0" * 64


def _json_default(value: object) -> str:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _normalise(value: Any) -> Any:
    """Round-trip through JSON so what is stored is exactly what was hashed."""
    if value is None:
        return None
    return json.loads(json.dumps(value, default=_json_default))


def canonical_json(fields: dict[str, Any]) -> str:
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def event_fields(event: AuditEvent) -> dict[str, Any]:
    """The fields the hash covers, in canonical form."""
    return {
        "chain": event.chain,
        "seq": event.seq,
        "occurred_at": event.occurred_at.astimezone(UTC).isoformat(),
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "organisation_id": event.organisation_id,
        "system_id": event.system_id,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "before": event.before,
        "after": event.after,
        "payload": event.payload,
        "reason": event.reason,
        "request_id": event.request_id,
    }


def compute_hash(prev_hash: str, event: AuditEvent) -> str:
    return hashlib.sha256((prev_hash + canonical_json(event_fields(event))).encode()).hexdigest()


def chain_for(*, system: System | None, organisation: Organisation | None) -> str:
    if system is not None:
        return system_chain(system.pk)
    if organisation is not None:
        return system_chain(organisation.system_id)
    return PLATFORM_CHAIN


def _lock_chain(chain: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", ["audit:" + chain])


@transaction.atomic
def audit_record(
    *,
    action: str,
    actor: User | None = None,
    actor_label: str = "",
    organisation: Organisation | None = None,
    system: System | None = None,
    obj: object | None = None,
    object_type: str = "",
    object_id: str | int = "",
    before: Any = None,
    after: Any = None,
    payload: Any = None,
    reason: str = "",
    private: bool = False,
) -> AuditEvent:
    """Append one event to the chain of its system (or the platform chain) and return it.
    A private event (one carrying an organisation's draft figures) goes to the organisation's
    own chain instead, which its partners do not read."""
    if system is None and organisation is not None:
        system = organisation.system
    chain = chain_for(system=system, organisation=organisation)
    if private:
        assert organisation is not None, "a private event belongs to an organisation"
        chain = organisation_chain(organisation.pk)
    if obj is not None:
        object_type = object_type or obj._meta.label_lower  # type: ignore[attr-defined]
        object_id = object_id or obj.pk  # type: ignore[attr-defined]
    if actor is not None and not actor_label:
        actor_label = actor.email

    _lock_chain(chain)
    last = AuditEvent.objects.filter(chain=chain).order_by("-seq").values("seq", "hash").first()
    event = AuditEvent(
        chain=chain,
        seq=(last["seq"] + 1) if last else 1,
        occurred_at=timezone.now(),
        actor=actor if actor is not None and actor.pk else None,
        actor_label=actor_label,
        organisation=organisation,
        system=system,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        before=_normalise(before),
        after=_normalise(after),
        payload=_normalise(payload),
        reason=reason,
        request_id=current_request_id() or "",
        prev_hash=last["hash"] if last else GENESIS_HASH,
    )
    event.hash = compute_hash(event.prev_hash, event)
    event.save(force_insert=True)
    return event


@dataclass(frozen=True)
class ChainReport:
    chain: str
    events: int
    ok: bool
    broken_seq: int | None = None
    broken_event_id: int | None = None
    problem: str = ""
    last_hash: str = GENESIS_HASH
    rehashed: int = 0  # events hashed again for this report (the rest were known good)


def _verify_events(
    chain: str, events: Iterator[AuditEvent], *, after_seq: int = 0,
    after_hash: str = GENESIS_HASH,
) -> ChainReport:  # fmt: skip
    prev_hash = after_hash
    expected_seq = after_seq + 1
    count = after_seq
    for event in events:
        count += 1
        problem = ""
        if event.seq != expected_seq:
            problem = f"expected sequence {expected_seq}, found {event.seq} (an event is missing)"
        elif event.prev_hash != prev_hash:
            problem = "its previous-hash does not match the event before it"
        elif compute_hash(prev_hash, event) != event.hash:
            problem = "its contents do not match its hash (the row was changed)"
        if problem:
            return ChainReport(chain, count, False, event.seq, event.pk, problem,
                               rehashed=count - after_seq)  # fmt: skip
        prev_hash = event.hash
        expected_seq += 1
    return ChainReport(chain, count, True, last_hash=prev_hash, rehashed=count - after_seq)


def _verify_full(chain: str) -> ChainReport:
    events = AuditEvent.objects.filter(chain=chain).order_by("seq").iterator(chunk_size=2000)
    return _verify_events(chain, events)


def _head(chain: str) -> dict[str, Any] | None:
    head = AuditHead.objects.filter(chain=chain).values("seq", "hash").first()
    return dict(head) if head is not None else None


def _against_head(chain: str, report: ChainReport, head: dict | None) -> ChainReport:
    """A chain that verifies on its own can still have lost its newest events, or been
    rewritten and hashed again from some event on: the event its head names (the database
    moves the head forward on every insert and never back) must be there, unchanged.

    The head is read before the events, so an event appended meanwhile only makes the chain
    longer than its head: that is not a fault, and the event the head names is still checked."""
    if not report.ok:
        return report
    if head is None:
        if report.events == 0:
            return report
        return ChainReport(chain, report.events, False, None, None,
                           "the chain's head record is missing (it was deleted)")  # fmt: skip
    if report.events < head["seq"]:
        return ChainReport(chain, report.events, False, report.events + 1, None,
                           f"the chain ends at event {report.events}, but its head records "
                           f"event {head['seq']} (the newest events were deleted)")  # fmt: skip
    then = AuditEvent.objects.filter(chain=chain, seq=head["seq"]).values("pk", "hash").get()
    if then["hash"] != head["hash"]:
        return ChainReport(chain, report.events, False, head["seq"], then["pk"],
                           "its hash is not the one the chain's head records (the chain was "
                           "rewritten and hashed again)")  # fmt: skip
    return report


def audit_verify_chain(chain: str) -> ChainReport:
    """Recompute one chain from its first event; report the first broken link, if any, or
    that the chain ends before its head (its newest events deleted)."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost:  # the head and the events from one snapshot
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        head = _head(chain)
        return _against_head(chain, _verify_full(chain), head)


VERIFIED_KEY = "audit:verified:{chain}:{first}"


def _rows_digest(chain: str, through_seq: int) -> str:
    """A fingerprint of the rows of a chain up to an event: each row's id, the transaction
    that wrote that version of it (xmin) and where the version lies (ctid). Any UPDATE in
    PostgreSQL, triggers disabled or not, writes a new row version with a new ctid and, from
    another transaction, a new xmin; a deleted row leaves the list. So the digest moves
    whenever an already-checked event is touched, and it costs far less than re-hashing.
    (VACUUM FULL also moves rows: that only costs one full check.)"""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT md5(string_agg(id::text || ':' || xmin::text || ':' || ctid::text, ','"
            " ORDER BY seq))"
            " FROM openbook_auditevent WHERE chain = %s AND seq <= %s",
            [chain, through_seq],
        )
        return cursor.fetchone()[0] or ""


def _cache_call(method: str, *args: Any) -> Any:
    """The cache, or nothing when it is unreachable: verification then hashes in full."""
    from django.core.cache import cache

    try:
        return getattr(cache, method)(*args)
    except Exception:  # noqa: BLE001  (Redis down: the check must still answer)
        return None


def _against_what_was_known(chain: str, report: ChainReport, known: dict) -> ChainReport:
    """A chain that verifies on its own can still have lost its end, or been rewritten and
    re-hashed from some event on: the event verified before must still be there, unchanged."""
    if report.events < known["seq"]:
        return ChainReport(chain, report.events, False, known["seq"], None,
                           f"the chain ends at event {report.events}, but event {known['seq']} "
                           "was there and verified before (events were deleted)")  # fmt: skip
    then = AuditEvent.objects.filter(chain=chain, seq=known["seq"]).values("pk", "hash").get()
    if then["hash"] != known["hash"]:
        return ChainReport(chain, report.events, False, known["seq"], then["pk"],
                           "its hash is not the one verified before (the chain was rewritten "
                           "and hashed again)")  # fmt: skip
    return report


def audit_verify_chain_cached(chain: str) -> ChainReport:
    """As audit_verify_chain, but remembering the last hash it verified: when the rows up
    to that event are untouched (their digest is unchanged), only the events after it are
    hashed again. Pages and the API use this on every view; `openbook audit verify` always
    re-hashes the whole chain.

    What is remembered is kept under the chain's first hash, so a database made afresh
    (a new demo, a test run) never meets another's. The hashing and the digest read one
    snapshot, so a row changed mid-check cannot be remembered as checked."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        head = _head(chain)
        first = (AuditEvent.objects.filter(chain=chain, seq=1)
                 .values_list("hash", flat=True).first())  # fmt: skip
        if first is None:
            return _against_head(chain, _verify_full(chain), head)
        key = VERIFIED_KEY.format(chain=chain, first=first)
        known = _cache_call("get", key)
        report = None
        against_known = False
        if known and _rows_digest(chain, known["seq"]) == known["rows"]:
            events = (AuditEvent.objects.filter(chain=chain, seq__gt=known["seq"])
                      .order_by("seq").iterator(chunk_size=2000))  # fmt: skip
            report = _verify_events(chain, events, after_seq=known["seq"],
                                    after_hash=known["hash"])  # fmt: skip
        if report is None or not report.ok:
            # Nothing known, a checked row touched, or a break after the checkpoint: the
            # whole chain, so the first break is the one reported.
            report = _verify_full(chain)
            if known and report.ok:
                report = _against_what_was_known(chain, report, known)
                against_known = not report.ok
        if report.ok:
            report = _against_head(chain, report, head)
            against_known = against_known or not report.ok
        if report.ok and report.events:
            remembered = {"seq": report.events, "hash": report.last_hash,
                          "rows": _rows_digest(chain, report.events)}  # fmt: skip
            _cache_call("set", key, remembered, None)
        elif not against_known:
            # Broken in the rows themselves: forget. (Broken only against what was known:
            # keep that, it is the evidence.)
            _cache_call("delete", key)
        return report


def audit_chains() -> list[str]:
    """Every chain with events or a head: a chain whose every event was deleted keeps its
    head, and is checked (and found empty) too."""
    events = AuditEvent.objects.order_by().values_list("chain", flat=True).distinct()
    heads = AuditHead.objects.values_list("chain", flat=True)
    return sorted(set(events) | set(heads))


def audit_verify_all() -> list[ChainReport]:
    return [audit_verify_chain(chain) for chain in audit_chains()]
