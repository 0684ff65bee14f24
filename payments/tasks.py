"""Payments tasks: the system recalculation, settlements, and the sweep after a deploy. The
services queue these by name; this module is the top of the import graph."""

import logging

from celery import shared_task
from celery.signals import worker_ready
from django.core.cache import cache
from django.db import OperationalError

from payments import coalescing
from payments.calculations.version import current
from payments.services import recalculation, settlements
from plans.models import PlanningRound
from plans.system_plan import fetch_plans

logger = logging.getLogger(__name__)


@shared_task(
    bind=True,
    name="payments.recalculate_system",
    row_scope="platform",  # a system's whole figures (accounts/rowsecurity.py)
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
    soft_time_limit=120,
    time_limit=180,
)
def recalculate_system(
    self, system_id: int, round_id: int, trigger: str, coalesce: bool = False, force: bool = False
) -> str:
    """Recalculate one system for one round (ids only; everything is re-read). Idempotent:
    a run on unchanged inputs stores nothing new. A run queued to coalesce changes
    (`coalesce`) puts itself back while they keep arriving, on the queue it came from, so a
    burst is recalculated once, after its last change; a run asked for directly runs now."""
    wait = coalescing.waiting_time(round_id, system_id) if coalesce else 0.0
    if wait > 0.05:
        queue = (self.request.delivery_info or {}).get("routing_key")
        recalculate_system.apply_async(
            args=[system_id, round_id, trigger],
            kwargs={"coalesce": True},
            countdown=wait,
            **({"queue": queue} if queue else {}),
        )
        return "deferred"
    run = recalculation.recalculate(
        system_id=system_id, round_id=round_id, trigger=trigger, force=force
    )
    _store_sums(round_id, system_id)
    return run.status


def _store_sums(round_id: int, system_id: int) -> None:
    """The numbers moved: add up the system's collation now, while the worker is here, so the
    pages and the API read it stored rather than the first person to look paying for it. Only
    a head start: a failure here leaves the next page to add it up."""
    try:
        fetch_plans(PlanningRound.objects.get(pk=round_id), [system_id])
    except Exception:  # noqa: BLE001 (the recalculation itself is done and stored)
        logger.warning("Could not store system %s's sums for round %s", system_id, round_id,
                       exc_info=True)  # fmt: skip


@shared_task(
    name="payments.compute_settlement",
    row_scope="platform",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
    soft_time_limit=60,
    time_limit=90,
)
def compute_settlement(settlement_id: int) -> str:
    """Work out a settlement's flows and workings (idempotent: a repeat changes nothing)."""
    return settlements.compute(settlement_id).result_hash


@shared_task(name="payments.recompute_outdated", ignore_result=True, row_scope="platform")
def recompute_outdated() -> int:
    """Results an older calculation version computed, queued to be worked out again."""
    return recalculation.recompute_outdated()


@worker_ready.connect
def _after_deploy(**_kwargs) -> None:
    """A worker starting is how a deploy shows itself: look for outdated results at once
    (beat also sweeps every ten minutes, for a run whose message was lost). Once for each
    version, however many workers start."""
    if cache.add(f"recalc:outdated-sweep:{current()}", True, timeout=600):
        recompute_outdated.delay()
