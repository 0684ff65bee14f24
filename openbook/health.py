"""/healthz: is the database, Redis and the Celery worker each really answering?"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache

from openbook.tasks import ping


def _check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def _check_redis() -> str:
    key = "healthz:probe"
    cache.set(key, "1", timeout=10)
    if cache.get(key) != "1":
        raise RuntimeError("value written was not read back")
    return "ok"


def _check_worker(timeout: float) -> str:
    # A real round trip: the worker must take the task off the queue and answer.
    result = ping.apply_async(expires=timeout)
    try:
        answer = result.get(timeout=timeout, disable_sync_subtasks=False)
    finally:
        result.forget()
    if answer != "pong":
        raise RuntimeError(f"unexpected answer {answer!r}")
    return "ok"


@never_cache
def healthz(request):
    checks = {}
    timings = {}
    for name, check in (
        ("database", _check_database),
        ("redis", _check_redis),
        ("worker", lambda: _check_worker(settings.HEALTHZ_WORKER_TIMEOUT)),
    ):
        started = time.monotonic()
        try:
            checks[name] = check()
        except Exception as exc:  # noqa: BLE001  (any failure means "down", and we say why)
            checks[name] = f"down: {type(exc).__name__}: {exc}"[:300]
        timings[name] = round((time.monotonic() - started) * 1000, 1)
    down = [name for name, state in checks.items() if state != "ok"]
    body = {
        "status": "ok" if not down else "down",
        "down": down,
        "checks": checks,
        "milliseconds": timings,
    }
    return JsonResponse(body, status=200 if not down else 503)
