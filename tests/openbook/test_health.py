"""/healthz answers 200 only when the database, Redis and a real worker all answer."""

import pytest
from django.test import override_settings

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def test_all_up(client, celery_worker_process):
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ok"
    assert body["checks"] == {"database": "ok", "redis": "ok", "worker": "ok"}
    assert response["Cache-Control"].startswith("max-age=0")


@override_settings(
    CACHES={
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
)
def test_redis_down_is_named(client, celery_worker_process):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["down"] == ["redis"]


def test_worker_down_is_named(client, settings):
    """No worker consumes this queue, so the ping is never answered."""
    from openbook.celery import app

    settings.HEALTHZ_WORKER_TIMEOUT = 1.0
    app.conf.task_default_queue = "openbook-nobody-listens"
    try:
        response = client.get("/healthz")
    finally:
        app.conf.task_default_queue = settings.CELERY_TASK_DEFAULT_QUEUE
    assert response.status_code == 503
    body = response.json()
    assert body["down"] == ["worker"]
    assert body["checks"]["worker"].startswith("down:")
