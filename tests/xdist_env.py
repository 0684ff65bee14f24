"""Loaded first (`-p tests.xdist_env`), before pytest-env and Django read the environment:
when the suite runs in parallel (pytest-xdist), each worker process gets its own Celery queue
and cache key prefix on the shared Redis, as pytest-django gives each its own test database.
Without it, one worker's Celery worker would take the other's tasks, against the wrong
database."""

import os

worker = os.environ.get("PYTEST_XDIST_WORKER")
if worker:
    # A worker inherits the environment pytest-env gave the main process: suffix it.
    for name in ("CELERY_QUEUE", "CACHE_KEY_PREFIX"):
        os.environ[name] = f"{os.environ.get(name, 'openbook-tests')}-{worker}"
