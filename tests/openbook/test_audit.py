"""The audit trail: chained, append-only, verifiable, and safe under concurrent appends."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.utils import DatabaseError

from openbook.audit import GENESIS_HASH, audit_record, audit_verify_all, audit_verify_chain
from openbook.models import PLATFORM_CHAIN, AuditEvent, system_chain

pytestmark = pytest.mark.django_db


def test_events_chain_per_system_and_platform(world):
    before = AuditEvent.objects.filter(chain=system_chain(world.s1.pk)).count()
    first = audit_record(action="test.one", organisation=world.org_a, payload={"n": 1})
    second = audit_record(action="test.two", system=world.s1, payload={"n": 2})
    platform = audit_record(action="test.platform")

    assert first.chain == second.chain == system_chain(world.s1.pk)
    assert second.seq == first.seq + 1 == before + 2
    assert second.prev_hash == first.hash
    assert platform.chain == PLATFORM_CHAIN
    assert all(report.ok for report in audit_verify_all())


def test_first_event_links_to_genesis(world):
    event = audit_record(action="test.first", system=world.s3)
    assert event.seq == 1
    assert event.prev_hash == GENESIS_HASH


def test_money_and_dates_hash_the_same_after_reload(world):
    from datetime import date
    from decimal import Decimal

    audit_record(
        action="test.money",
        organisation=world.org_a,
        before={"value": Decimal("1234.50")},
        after={"value": Decimal("-0.01"), "on": date(2026, 4, 1).isoformat()},
    )
    assert audit_verify_chain(system_chain(world.s1.pk)).ok


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE openbook_auditevent SET reason = 'rewritten'",
        "DELETE FROM openbook_auditevent",
        "TRUNCATE openbook_auditevent",
    ],
)
def test_database_refuses_to_change_events(world, statement):
    audit_record(action="test.locked", organisation=world.org_a)
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        # Settle the test's deferred foreign-key checks, which would block TRUNCATE first.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(statement)


def _tamper(sql: str, params: list) -> None:
    """Change a row behind the application's back: what an attacker with the DBA role does."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE openbook_auditevent DISABLE TRIGGER USER")
        cursor.execute(sql, params)
        cursor.execute("ALTER TABLE openbook_auditevent ENABLE TRIGGER USER")


def test_an_edited_row_is_found_and_named(world):
    events = [
        audit_record(action="transfer.agreed", system=world.s1, payload={"amount": str(n)})
        for n in range(5)
    ]
    target = events[2]
    _tamper(
        "UPDATE openbook_auditevent SET payload = %s WHERE id = %s",
        ['{"amount": "999"}', target.pk],
    )

    report = audit_verify_chain(system_chain(world.s1.pk))
    assert not report.ok
    assert report.broken_event_id == target.pk
    assert report.broken_seq == target.seq
    assert "changed" in report.problem

    with pytest.raises(CommandError) as excinfo:
        call_command("audit", "verify")
    assert excinfo.value.returncode == 1
    assert f"#{target.seq}" in str(excinfo.value)


def test_a_deleted_row_is_found(world):
    events = [audit_record(action="decision.agreed", system=world.s1) for _ in range(4)]
    _tamper("DELETE FROM openbook_auditevent WHERE id = %s", [events[1].pk])
    report = audit_verify_chain(system_chain(world.s1.pk))
    assert not report.ok
    assert report.broken_seq == events[2].seq
    assert "missing" in report.problem


def test_a_recomputed_hash_still_breaks_the_next_link(world):
    events = [audit_record(action="signature.added", system=world.s1) for _ in range(3)]
    forged = events[0]
    forged.reason = "forged"
    from openbook.audit import compute_hash

    new_hash = compute_hash(forged.prev_hash, forged)
    _tamper(
        "UPDATE openbook_auditevent SET reason = %s, hash = %s WHERE id = %s",
        ["forged", new_hash, forged.pk],
    )
    report = audit_verify_chain(system_chain(world.s1.pk))
    assert not report.ok
    assert report.broken_event_id == events[1].pk


def test_verification_remembers_the_last_hash_and_rehashes_only_what_is_new(world):
    from openbook.audit import audit_verify_chain_cached

    chain = system_chain(world.s2.pk)
    events = [audit_record(action="transfer.agreed", system=world.s2) for _ in range(6)]
    n = events[-1].seq
    first = audit_verify_chain_cached(chain)
    assert first.ok and first.events == n and first.rehashed == n
    again = audit_verify_chain_cached(chain)
    assert again.ok and again.events == n and again.rehashed == 0
    audit_record(action="transfer.applied", system=world.s2)
    grown = audit_verify_chain_cached(chain)
    assert grown.ok and grown.events == n + 1 and grown.rehashed == 1

    # A row already checked is touched: the remembered check no longer counts, and the
    # whole chain is hashed again to find the break.
    _tamper("UPDATE openbook_auditevent SET reason = 'rewritten' WHERE id = %s", [events[1].pk])
    broken = audit_verify_chain_cached(chain)
    assert not broken.ok and broken.broken_seq == events[1].seq
    assert broken.rehashed == events[1].seq
    assert not audit_verify_chain_cached(chain).ok  # and it stays broken


def test_verification_finds_a_row_deleted_after_the_check(world):
    from openbook.audit import audit_verify_chain_cached

    chain = system_chain(world.s2.pk)
    events = [audit_record(action="decision.agreed", system=world.s2) for _ in range(4)]
    assert audit_verify_chain_cached(chain).ok
    _tamper("DELETE FROM openbook_auditevent WHERE id = %s", [events[1].pk])
    audit_record(action="decision.agreed", system=world.s2)
    report = audit_verify_chain_cached(chain)
    assert not report.ok and report.broken_seq == events[2].seq and "missing" in report.problem


def test_what_was_verified_before_catches_a_lost_end_and_a_rewritten_chain(world):
    """Two kinds of tampering a fresh check alone cannot see: the last events deleted, and
    the chain rewritten and hashed again from some event on."""
    from openbook.audit import audit_verify_chain_cached, compute_hash

    chain = system_chain(world.s2.pk)
    events = [audit_record(action="decision.agreed", system=world.s2) for _ in range(4)]
    assert audit_verify_chain_cached(chain).ok
    _tamper("DELETE FROM openbook_auditevent WHERE id = %s", [events[-1].pk])
    # A shorter chain checks out link by link; its head records the lost end.
    assert "deleted" in audit_verify_chain(chain).problem
    lost = audit_verify_chain_cached(chain)
    assert not lost.ok and lost.broken_seq == events[-1].seq and "deleted" in lost.problem
    assert not audit_verify_chain_cached(chain).ok  # the evidence is kept

    other = system_chain(world.s3.pk)
    events = [audit_record(action="decision.agreed", system=world.s3) for _ in range(3)]
    assert audit_verify_chain_cached(other).ok
    prev = events[0].hash
    for event in events[1:]:  # rewrite from the second event on, re-hashing as it goes
        event.reason = "rewritten"
        event.prev_hash = prev
        event.hash = prev = compute_hash(prev, event)
        _tamper("UPDATE openbook_auditevent SET reason = %s, prev_hash = %s, hash = %s "
                "WHERE id = %s", [event.reason, event.prev_hash, event.hash, event.pk])  # fmt: skip
    assert "rewritten" in audit_verify_chain(other).problem  # the head's hash
    rewritten = audit_verify_chain_cached(other)
    assert not rewritten.ok and "rewritten" in rewritten.problem


def test_verification_answers_with_the_cache_down(world, settings):
    from openbook.audit import audit_verify_chain_cached

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }  # nothing listens
    audit_record(action="decision.agreed", system=world.s2)
    report = audit_verify_chain_cached(system_chain(world.s2.pk))
    assert report.ok and report.rehashed == report.events


def test_verify_command_passes_on_an_intact_trail(world, capsys):
    audit_record(action="test.ok", system=world.s1)
    call_command("audit", "verify", "--system", "s1")
    assert "intact" in capsys.readouterr().out


def test_verify_command_rejects_an_unknown_system(world):
    with pytest.raises(CommandError, match="no system"):
        call_command("audit", "verify", "--system", "nowhere")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_appends_from_several_processes_keep_every_chain_valid(world):
    """Four processes append to the same two chains at once; nothing forks or is lost."""
    settings_dict = connection.settings_dict
    url = (
        f"postgres://{settings_dict['USER']}@{settings_dict['HOST'] or '127.0.0.1'}:"
        f"{settings_dict['PORT'] or 5432}/{settings_dict['NAME']}"
    )
    env = {**os.environ, "DATABASE_URL": url}
    writer = Path(__file__).with_name("audit_writer.py")
    per_process = 25
    start_counts = {
        chain: AuditEvent.objects.filter(chain=chain).count()
        for chain in (system_chain(world.s1.pk), PLATFORM_CHAIN)
    }
    processes = [
        subprocess.Popen(
            [sys.executable, str(writer), str(world.s1.pk), str(per_process)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(4)
    ]
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err.decode()

    for chain, start in start_counts.items():
        report = audit_verify_chain(chain)
        assert report.ok, report
        assert report.events == start + 4 * per_process
