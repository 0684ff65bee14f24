"""Shared fixtures: a small NHS world with a person in every position the policy cares about.

Region R1 holds systems S1 and S2; region R2 holds S3. The people:
member (preparer of A in S1), approver (of A), viewer (organisation viewer of A),
partner (preparer of B, also in S1), lead (system lead of S1), system_viewer (of S1),
reviewer (of R1), outsider (preparer of X in S2), other_lead (lead of S2),
other_reviewer (reviewer of R2), admin (platform administrator).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.db import connections
from django.test import TransactionTestCase

from accounts.models import Organisation, Role
from accounts.services import membership_create
from tests.factories import OrganisationFactory, RegionFactory, SystemFactory, UserFactory

PASSWORD = "correct horse battery staple"

_original_teardown = TransactionTestCase._fixture_teardown


def _teardown_with_audit_truncate(self):
    """Transactional tests end with a TRUNCATE of every table. The audit trail's trigger
    refuses that, as it should in production; in the test database, replica mode lets the
    flush through (it does not fire ordinary triggers, and only a superuser may set it)."""
    for alias in self._databases_names(include_mirrors=False):
        with connections[alias].cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")
    try:
        _original_teardown(self)
    finally:
        for alias in self._databases_names(include_mirrors=False):
            with connections[alias].cursor() as cursor:
                cursor.execute("SET session_replication_role = DEFAULT")


TransactionTestCase._fixture_teardown = _teardown_with_audit_truncate


@dataclass
class World:
    r1: object
    r2: object
    s1: object
    s2: object
    s3: object
    org_a: Organisation
    org_b: Organisation
    commissioner: Organisation
    org_x: Organisation
    org_y: Organisation
    people: dict


ACTORS = [
    "anonymous",
    "member",
    "approver",
    "viewer",
    "partner",
    "lead",
    "system_viewer",
    "reviewer",
    "outsider",
    "other_lead",
    "other_reviewer",
    "admin",
]


def build_world() -> World:
    r1 = RegionFactory(code="r1", name="Region One")
    r2 = RegionFactory(code="r2", name="Region Two")
    s1 = SystemFactory(code="s1", name="System One", region=r1)
    s2 = SystemFactory(code="s2", name="System Two", region=r1)
    s3 = SystemFactory(code="s3", name="System Three", region=r2)
    org_a = OrganisationFactory(ods_code="ZA1", name="Alpha Hospitals NHS Trust", system=s1)
    org_b = OrganisationFactory(
        ods_code="ZA2", name="Beta Community NHS Trust", system=s1, kind="community"
    )
    commissioner = OrganisationFactory(
        ods_code="ZA3", name="NHS One ICB", system=s1, kind="commissioner"
    )
    org_x = OrganisationFactory(ods_code="ZX1", name="Xray Hospitals NHS Trust", system=s2)
    org_y = OrganisationFactory(ods_code="ZY1", name="Yankee Hospitals NHS Trust", system=s3)

    def person(name: str, role: str | None = None, **scope) -> object:
        user = UserFactory(email=f"{name}@example.nhs.uk", full_name=name.title())
        if role:
            membership_create(actor=None, user=user, role=role, **scope)
        return user

    people = {
        "member": person("member", Role.ORG_PREPARER, organisation=org_a),
        "approver": person("approver", Role.ORG_APPROVER, organisation=org_a),
        "viewer": person("viewer", Role.ORG_VIEWER, organisation=org_a),
        "partner": person("partner", Role.ORG_PREPARER, organisation=org_b),
        "lead": person("lead", Role.SYSTEM_LEAD, system=s1),
        "system_viewer": person("system_viewer", Role.SYSTEM_VIEWER, system=s1),
        "reviewer": person("reviewer", Role.REGION_REVIEWER, region=r1),
        "outsider": person("outsider", Role.ORG_PREPARER, organisation=org_x),
        "other_lead": person("other_lead", Role.SYSTEM_LEAD, system=s2),
        "other_reviewer": person("other_reviewer", Role.REGION_REVIEWER, region=r2),
    }
    admin = UserFactory(email="admin@example.nhs.uk", full_name="Admin")
    admin.is_superuser = admin.is_staff = True
    admin.save()
    people["admin"] = admin
    return World(r1, r2, s1, s2, s3, org_a, org_b, commissioner, org_x, org_y, people)


@pytest.fixture
def world(db) -> World:
    return build_world()


@pytest.fixture
def client_for(client):
    """client_for(user) → a test client signed in as that person (None: anonymous)."""
    from django.test import Client

    def make(user):
        c = Client()
        if user is not None:
            c.force_login(user)
        return c

    return make


@pytest.fixture(autouse=True)
def _second_factor_requirement(request, settings):
    """Two-step verification is required in the product and the demo (SECOND_FACTOR_REQUIRED).
    The tests written before it act as approvers, leads and reviewers, signed in with
    force_login or calling services directly, without a second factor: they run with the
    requirement off. Tests marked `second_factor` keep it on, as the product has it. Either
    way the "everyone" choice starts unset: it is cached in Redis, which no test rolls back."""
    from accounts.second_factor import forget_everyone_setting

    forget_everyone_setting()
    settings.SECOND_FACTOR_REQUIRED = request.node.get_closest_marker("second_factor") is not None
    yield
    forget_everyone_setting()


@pytest.fixture(autouse=True)
def _sign_in_counts_start_empty():
    """Wrong-password counts live in Redis (accounts/throttle.py), outside the database each
    test rolls back: each test starts with none, so one test's wrong passwords never make
    another wait."""
    from django.core.cache import cache

    pattern = cache.make_key("signin:*")
    client = cache._cache.get_client(pattern, write=True)
    for key in client.scan_iter(match=pattern, count=1000):
        client.delete(key)
    yield


def _database_url(settings_dict) -> str:
    host = settings_dict["HOST"] or "127.0.0.1"
    port = settings_dict["PORT"] or 5432
    return f"postgres://{settings_dict['USER']}@{host}:{port}/{settings_dict['NAME']}"


@pytest.fixture(autouse=True)
def _worker_idle_before_teardown(request):
    """A test that used the real worker ends only once the worker has nothing left to do for
    it (no task running, waiting or scheduled): its tables are emptied next, and a run still
    going then would deadlock with that, or write into the next test. Set up after the
    database fixture, so this runs before the database is emptied."""
    if "celery_worker_process" not in request.fixturenames:
        yield
        return
    request.getfixturevalue("_django_db_helper")
    yield
    import os
    import socket
    import time

    from django.conf import settings
    from django.db import connection

    from openbook.celery import app

    name = f"tests-{os.getpid()}@{socket.gethostname()}"

    def idle() -> bool:
        inspect = app.control.inspect(destination=[name], timeout=2)
        found = [inspect.active(), inspect.reserved(), inspect.scheduled()]
        if not all(f is not None and not any(f.values()) for f in found):
            return False
        # A task a finished one sent on its commit may still be in the queue, not yet taken;
        # and a worker's transaction may still be open: either would deadlock with emptying
        # the tables.
        with app.connection_for_read() as conn:
            waiting = conn.default_channel.client.llen(settings.CELERY_TASK_DEFAULT_QUEUE)
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = "
                           "current_database() AND pid <> pg_backend_pid() AND xact_start "
                           "IS NOT NULL")  # fmt: skip
            busy = cursor.fetchone()[0]
        return waiting == 0 and busy == 0

    deadline = time.monotonic() + 90
    quiet = 0
    while time.monotonic() < deadline:
        quiet = quiet + 1 if idle() else 0
        if quiet >= 2:  # idle twice, a moment apart
            return
        time.sleep(0.5)


@pytest.fixture(scope="session")
def worker_mail_dir(tmp_path_factory):
    """Where the test worker writes the e-mails it sends (its own memory is out of reach)."""
    return tmp_path_factory.mktemp("worker-mail")


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker, worker_mail_dir):
    """A real Celery worker process on the test queue, against the test database and Redis."""
    import os
    import subprocess
    import sys
    import time
    from pathlib import Path

    from django.db import connection

    from openbook.celery import app

    env = {**os.environ, "DATABASE_URL": _database_url(connection.settings_dict),
           "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
           "EMAIL_FILE_PATH": str(worker_mail_dir)}  # fmt: skip
    app.control.purge()
    celery = Path(sys.executable).with_name("celery")
    process = subprocess.Popen(
        [str(celery), "-A", "openbook", "worker", "--loglevel", "WARNING",
         "--concurrency", "2", "--without-mingle", "--without-gossip",
         "--hostname", f"tests-{os.getpid()}@%h"],
        env=env,
        start_new_session=True,
    )  # fmt: skip
    from openbook.tasks import ping

    deadline = time.monotonic() + 60
    while True:
        try:
            if ping.apply_async(expires=5).get(timeout=5) == "pong":
                break
        except Exception:  # noqa: BLE001  (not up yet)
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the Celery worker did not start") from None
    yield process
    process.terminate()
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def worker_outbox(celery_worker_process, worker_mail_dir):
    """The e-mails the real worker sent during this test, read back as email.message objects
    (call it for the list so far)."""
    import email
    import email.policy

    for old in worker_mail_dir.iterdir():
        old.unlink()

    def read() -> list:
        found = []
        for path in sorted(worker_mail_dir.iterdir()):
            # The file back-end writes each message followed by a line of 79 dashes.
            for part in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
                if part.strip():
                    found.append(email.message_from_bytes(part, policy=email.policy.default))
        return found

    return read
