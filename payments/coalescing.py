"""Coalescing: bursts of changes to a system's numbers become one recalculation.

While a run is queued, further requests for the same system queue nothing; they push its start
back until the changes have stopped for a moment (but never further than a limit after the
first, so a steady stream of changes still gets recalculated). The queued flag and the time of
the latest change live in the cache, shared by the web and the worker.
"""

from __future__ import annotations

import datetime as dt
import time

from celery import current_app
from django.core.cache import cache
from django.utils import timezone

from payments.models import RecalculationRun

COALESCE_SECONDS = 1.0  # quiet time after the latest change before a queued run starts
COALESCE_LIMIT_SECONDS = 10.0  # the longest a queued run waits after the first change
PENDING_TTL = 600  # a flag left by a worker that died clears itself
TASK = "payments.recalculate_system"


def _send(*, args: list, kwargs: dict, **options) -> None:
    """Queue the worker's task by its name: the task module imports this one, not the other
    way round."""
    current_app.send_task(TASK, args=args, kwargs=kwargs, **options)


def _pending_key(round_id: int, system_id: int) -> str:
    return f"recalc:pending:{round_id}:{system_id}"


def _latest_key(round_id: int, system_id: int) -> str:
    return f"recalc:latest:{round_id}:{system_id}"


def enqueue(*, round_id: int, system_id: int, trigger: str, force: bool = False) -> bool:
    """Queue one run unless one is already waiting; return whether this call queued it.
    Either way the change is noted, so a waiting run starts only once changes stop. A forced
    run is queued whatever is waiting, to start now and store results even on the same
    inputs."""
    if force:
        _send(args=[system_id, round_id, trigger], kwargs={"force": True})
        return True
    now = time.time()  # wall clock: the web and the worker compare it across processes
    cache.set(_latest_key(round_id, system_id), now, timeout=PENDING_TTL)
    if not cache.add(_pending_key(round_id, system_id), now, timeout=PENDING_TTL):
        return False
    _send(
        args=[system_id, round_id, trigger], kwargs={"coalesce": True}, countdown=COALESCE_SECONDS
    )
    return True


def start_delay(first: float | None, latest: float | None, now: float) -> float:
    """Seconds a queued run should still wait: until a quiet moment after the latest change,
    but no later than the limit after the first."""
    if first is None or latest is None:
        return 0.0
    due = min(latest + COALESCE_SECONDS, first + COALESCE_LIMIT_SECONDS)
    return max(0.0, due - now)


def waiting_time(round_id: int, system_id: int) -> float:
    """How much longer the queued run for this system should wait (0: start now)."""
    pending, latest = _pending_key(round_id, system_id), _latest_key(round_id, system_id)
    found = cache.get_many([pending, latest])
    first, last = found.get(pending), found.get(latest)
    if not isinstance(first, float) or not isinstance(last, float):
        return 0.0  # no times noted (or a flag from before times were): start now
    return start_delay(first, last, time.time())


def is_pending(round_id: int, system_id: int) -> bool:
    """A run is queued, or one is under way (a run clears the queued flag as it starts, so
    without the second check a page loaded mid-run would show old figures as final)."""
    if cache.get(_pending_key(round_id, system_id)) is not None:
        return True
    since = timezone.now() - dt.timedelta(seconds=PENDING_TTL)  # a dead run stops counting
    return RecalculationRun.objects.filter(
        round_id=round_id,
        system_id=system_id,
        status=RecalculationRun.Status.RUNNING,
        started_at__gte=since,
    ).exists()


def clear_pending(round_id: int, system_ids: list[int]) -> None:
    """A run is starting for these systems: from here on, new changes queue another run
    rather than being lost in this one."""
    cache.delete_many([_pending_key(round_id, pk) for pk in system_ids])
