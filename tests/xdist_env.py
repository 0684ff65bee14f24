"""Loaded first (`-p tests.xdist_env`): when the suite runs in parallel (pytest-xdist), each
worker process gets its own Redis database, Celery queue and cache key prefix, as
pytest-django gives each its own test database. Without it, one worker's Celery worker would
take the other's tasks, against the wrong database.

The hook runs after pytest-env has set the test environment (both are tryfirst; this plugin
is registered before pytest-env, so it runs after it) and before pytest-django reads the
settings."""

import os
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args):
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return
    os.environ["CELERY_QUEUE"] = f"openbook-tests-{worker}"
    os.environ["CACHE_KEY_PREFIX"] = f"openbook-tests-{worker}"
    # The database number + the worker's (gw0 keeps it; Redis has 16): redis://host:port/N,
    # or unix:///path/redis.sock?db=N as the embedded Redis gives.
    url = urlsplit(os.environ["REDIS_URL"])
    number = int(worker.removeprefix("gw"))
    if url.scheme == "unix":
        query = dict(parse_qsl(url.query))
        query["db"] = str((int(query.get("db", 0)) + number) % 16)
        os.environ["REDIS_URL"] = f"unix://{url.path}?{urlencode(query)}"
    else:
        base = int(url.path.strip("/")) if url.path.strip("/").isdigit() else 0
        os.environ["REDIS_URL"] = urlunsplit(url._replace(path=f"/{(base + number) % 16}"))
