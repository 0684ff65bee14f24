"""`openbook bench audit`: checking a long audit chain on every view of the timeline.

A bench system's chain of N events (made once, reused) is verified in full, the baseline:
every event hashed again. Against it: the check a page makes when nothing has changed since
the last one (the remembered last hash and a digest of the rows), and after one new event
(that event hashed on top). Medians of several repeats.
"""

from __future__ import annotations

import statistics
import time
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import Region, System
from openbook.audit import (
    GENESIS_HASH,
    audit_record,
    audit_verify_chain,
    audit_verify_chain_cached,
    compute_hash,
)
from openbook.models import AuditEvent, system_chain


def _chain(events: int) -> tuple[System, str]:
    """The bench system and its chain, grown to at least `events` events. Rows are written
    in bulk with the hashes audit_record would give them, so a long chain is quick to make."""
    region, _ = Region.objects.get_or_create(code="bench", defaults={"name": "Bench region"})
    system, _ = System.objects.get_or_create(
        code="bench-audit", defaults={"name": "Bench audit system", "region": region}
    )
    chain = system_chain(system.pk)
    last = AuditEvent.objects.filter(chain=chain).order_by("-seq").values("seq", "hash").first()
    seq, prev = (last["seq"], last["hash"]) if last else (0, GENESIS_HASH)
    start = timezone.now() - timedelta(days=365)
    batch: list[AuditEvent] = []
    with transaction.atomic():
        while seq < events:
            seq += 1
            event = AuditEvent(
                chain=chain, seq=seq, occurred_at=start + timedelta(minutes=seq), system=system,
                action="transfer.agreed_by_party", object_type="payments.transfer",
                object_id=str(seq), actor_label="bench@openbook.invalid",
                payload={"party": f"ZZB{seq % 10:02d}", "amount": f"{seq}.500"},
                reason="Bench", request_id="", prev_hash=prev,
            )  # fmt: skip
            event.hash = prev = compute_hash(prev, event)
            batch.append(event)
            if len(batch) == 2000:
                AuditEvent.objects.bulk_create(batch)
                batch = []
        AuditEvent.objects.bulk_create(batch)
    return system, chain


def _seconds(work) -> float:
    started = time.perf_counter()
    report = work()
    elapsed = time.perf_counter() - started
    if not report.ok:
        raise SystemExit(f"The bench chain does not verify: {report.problem}")
    return elapsed


def run(repeats: int = 5, events: int = 20000) -> dict:
    system, chain = _chain(events)
    full, unchanged, grown = [], [], []
    for _ in range(repeats):
        full.append(_seconds(lambda: audit_verify_chain(chain)))
        audit_verify_chain_cached(chain)  # remember this chain's last hash
        unchanged.append(_seconds(lambda: audit_verify_chain_cached(chain)))
        audit_record(action="transfer.applied", system=system, actor_label="bench")
        grown.append(_seconds(lambda: audit_verify_chain_cached(chain)))
    seconds, baseline = statistics.median(unchanged), statistics.median(full)
    return {
        "bench": "audit",
        "events": AuditEvent.objects.filter(chain=chain).count(),
        "seconds": round(seconds, 4),
        "baseline_seconds": round(baseline, 4),
        "ratio": round(seconds / baseline, 3),
        "one_new_event_seconds": round(statistics.median(grown), 4),
        "one_new_event_ratio": round(statistics.median(grown) / baseline, 3),
    }
