"""Loaded first (`-p tests.xdist_env`): when the suite runs in parallel (pytest-xdist), each
worker process gets its own Redis database, Celery queue and cache key prefix, as
pytest-django gives each its own test database. Without it, one worker's Celery worker would
take the other's tasks, against the wrong database.

The hook runs after pytest-env has set the test environment (both are tryfirst; this plugin
is registered before pytest-env, so it runs after it) and before pytest-django reads the
settings."""

import os
from urllib.parse import urlsplit, urlunsplit

import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args):
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return
    os.environ["CELERY_QUEUE"] = f"openbook-tests-{worker}"
    os.environ["CACHE_KEY_PREFIX"] = f"openbook-tests-{worker}"
    # redis://host:port/N → N + the worker's number (gw0 keeps N; Redis has 16 databases).
    url = urlsplit(os.environ["REDIS_URL"])
    base = int(url.path.strip("/") or 0)
    number = int(worker.removeprefix("gw"))
    os.environ["REDIS_URL"] = urlunsplit(url._replace(path=f"/{(base + number) % 16}"))
