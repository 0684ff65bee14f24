"""The recalculation: results from a consistent snapshot, stored with an inputs hash, a repeat
run changes nothing; requests coalesce; a real worker turns a burst into at most one run per coalescing window it took."""

import math
import time
from decimal import Decimal

import pytest
from django.core.cache import cache

from payments import coalescing, inputs
from payments.models import RecalculationRun, SystemResult
from payments.services import recalculation
from payments.services.control_totals import control_total_set
from payments.tasks import recalculate_system

D = Decimal


@pytest.mark.django_db
def test_recalculating_twice_stores_identical_results(world, plan_round):
    control_total_set(actor=None, plan_round=plan_round, organisation=world.org_a, amount=D(2))
    first = recalculate_system(world.s1.pk, plan_round.pk, "test")
    stored = SystemResult.objects.get()
    second = recalculate_system(world.s1.pk, plan_round.pk, "test")
    assert (first, second) == ("changed", "unchanged")
    again = SystemResult.objects.get()
    assert (again.data, again.inputs_hash, again.computed_at) == (
        stored.data,
        stored.inputs_hash,
        stored.computed_at,
    )
    assert stored.data["system"]["control_total"] == "2.000"
    assert RecalculationRun.objects.count() == 2


@pytest.mark.django_db
def test_results_follow_the_inputs(world, plan_round):
    control_total_set(actor=None, plan_round=plan_round, organisation=world.org_a, amount=D(2))
    recalculate_system(world.s1.pk, plan_round.pk, "test")
    control_total_set(actor=None, plan_round=plan_round, organisation=world.org_b, amount=D(-10))
    assert recalculate_system(world.s1.pk, plan_round.pk, "test") == "changed"
    assert SystemResult.objects.get().data["system"]["control_total"] == "-8.000"


@pytest.mark.django_db
def test_requests_coalesce_while_one_is_waiting(world, plan_round, monkeypatch):
    queued = []
    monkeypatch.setattr(
        "payments.coalescing._send",
        lambda args, countdown, **options: queued.append(args),
    )
    cache.delete(coalescing._pending_key(plan_round.pk, world.s1.pk))
    assert coalescing.enqueue(round_id=plan_round.pk, system_id=world.s1.pk, trigger="a")
    assert not coalescing.enqueue(round_id=plan_round.pk, system_id=world.s1.pk, trigger="b")
    assert coalescing.is_pending(plan_round.pk, world.s1.pk)
    recalculation.recalculate(system_id=world.s1.pk, round_id=plan_round.pk, trigger="a")
    assert not coalescing.is_pending(plan_round.pk, world.s1.pk)
    assert coalescing.enqueue(round_id=plan_round.pk, system_id=world.s1.pk, trigger="c")
    assert len(queued) == 2


def test_a_queued_run_waits_for_the_changes_to_stop_but_not_for_ever():
    quiet, limit = coalescing.COALESCE_SECONDS, coalescing.COALESCE_LIMIT_SECONDS
    assert coalescing.start_delay(None, None, 100.0) == 0  # nothing queued: run now
    assert coalescing.start_delay(100.0, 100.0, 100.0) == quiet
    assert coalescing.start_delay(100.0, 103.0, 103.5) == quiet - 0.5  # pushed back by the latest
    assert coalescing.start_delay(100.0, 100.0 + limit, 100.0 + limit) == 0  # the limit wins
    assert coalescing.start_delay(100.0, 100.0, 500.0) == 0  # a flag left behind long ago


@pytest.mark.django_db
def test_a_run_queued_mid_burst_puts_itself_back(world, plan_round, monkeypatch):
    queued = []
    monkeypatch.setattr(
        "payments.coalescing._send",
        lambda args, countdown, **options: queued.append(countdown),
    )
    cache.delete(coalescing._pending_key(plan_round.pk, world.s1.pk))
    coalescing.enqueue(round_id=plan_round.pk, system_id=world.s1.pk, trigger="a")
    assert recalculate_system(world.s1.pk, plan_round.pk, "a", coalesce=True) == "deferred"
    assert 0 < queued[-1] <= coalescing.COALESCE_SECONDS
    assert not RecalculationRun.objects.exists()
    assert coalescing.is_pending(plan_round.pk, world.s1.pk)
    # A run asked for directly (a command, a test) does not wait for the burst.
    assert recalculate_system(world.s1.pk, plan_round.pk, "now") == "changed"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_burst_of_fifty_submissions_gives_at_most_one_run_a_coalescing_window(
    celery_worker_process,
):
    import datetime as dt

    from accounts.models import Organisation
    from demo.synthetic import board_approver
    from plans.services import narrative_save, submission_start, submission_submit
    from tests.conftest import build_world
    from tests.factories import OrganisationFactory
    from tests.plans.conftest import make_round

    world = build_world()
    plan_round = make_round()
    councils = [
        OrganisationFactory(system=world.s1, kind=Organisation.Kind.LOCAL_AUTHORITY)
        for _ in range(50)
    ]
    ready = []
    for council in councils:
        approver = board_approver(council)
        submission = submission_start(actor=approver, plan_round=plan_round, organisation=council)
        narrative_save(actor=approver, submission=submission, section_code="summary", text="Plan")
        control_total_set(
            actor=None, plan_round=plan_round, organisation=council, amount=D(1)
        ) if council == councils[0] else None
        ready.append((approver, submission))
    # Let the run the set-up asked for finish (waiting on it, not on the clock).
    deadline = time.monotonic() + 120
    while (
        coalescing.is_pending(plan_round.pk, world.s1.pk)
        or RecalculationRun.objects.filter(system=world.s1, status="running").exists()
    ):
        assert time.monotonic() < deadline, "the set-up's run never finished"
        time.sleep(0.2)
    before = RecalculationRun.objects.filter(system=world.s1).count()
    started = time.monotonic()
    for approver, submission in ready:
        submission_submit(
            actor=approver,
            submission=submission,
            board_approval_date=dt.date.today(),
            confirmed=True,
        )
        time.sleep(0.04)  # a burst spread wider than the quiet time, as on a slow machine
    took = time.monotonic() - started
    assert took > 2 * coalescing.COALESCE_SECONDS
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        time.sleep(0.5)
        runs = RecalculationRun.objects.filter(system=world.s1)
        if (
            not coalescing.is_pending(plan_round.pk, world.s1.pk)
            and not runs.filter(status="running").exists()
            and runs.count() > before
        ):
            break
    runs = list(RecalculationRun.objects.filter(system=world.s1).order_by("started_at"))[before:]
    # A queued run starts once the changes stop, or at the latest COALESCE_LIMIT_SECONDS after
    # the first: so at most one run per window the burst lasted, and one after it (two when the
    # burst is shorter than a window, however slow the machine made it).
    allowed = math.ceil(took / coalescing.COALESCE_LIMIT_SECONDS) + 1
    assert 1 <= len(runs) <= allowed, (took, [(r.trigger, r.status) for r in runs])
    assert all(r.status in ("changed", "unchanged") for r in runs)
    result = SystemResult.objects.get(system=world.s1)
    planned = {o["ods_code"]: o for o in result.data["organisations"]}
    assert planned[councils[0].ods_code]["control_total"] == "1.000"
    assert len(planned) == world.s1.organisations.count()


@pytest.mark.django_db
def test_the_recalc_command_runs_every_system_here(world, plan_round, capsys):
    from django.core.management import call_command

    from tests.isolation.plans import _plans_submitted

    plan_round.delete()
    _plans_submitted(world)
    call_command("recalc", "--round", "2026-27", "--all", "--here")
    out = capsys.readouterr().out
    assert "[##############################] 1/1" in out
    assert SystemResult.objects.filter(system=world.s1).exists()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_run_has_its_run_redelivered_and_nothing_doubles():
    """The run blocks on a row lock the test holds; the worker is SIGKILLed there; a new
    worker gets the task again once it has gone unacknowledged, and finishes it."""
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    import psycopg
    from django.db import connection

    from tests.conftest import _database_url, build_world
    from tests.plans.conftest import make_round

    world = build_world()
    plan_round = make_round()
    control_total_set(actor=None, plan_round=plan_round, organisation=world.org_a, amount=D(2))
    recalculation.recalculate(system_id=world.s1.pk, round_id=plan_round.pk, trigger="first")
    control_total_set(actor=None, plan_round=plan_round, organisation=world.org_b, amount=D(-10))

    queue = f"openbook-kill-{os.getpid()}"
    env = {**os.environ, "DATABASE_URL": _database_url(connection.settings_dict),
           "CELERY_QUEUE": queue, "CELERY_VISIBILITY_TIMEOUT": "3",
           "RECALC_ABANDON_AFTER_SECONDS": "2"}  # fmt: skip
    celery = str(Path(sys.executable).with_name("celery"))

    def worker(name):
        return subprocess.Popen(
            [celery, "-A", "openbook", "worker", "-Q", queue, "--concurrency", "1", "--loglevel", "WARNING",
             "--without-mingle", "--without-gossip", "--hostname", f"{name}-{os.getpid()}@%h"],
            env=env, start_new_session=True,
        )  # fmt: skip

    settings_dict = connection.settings_dict
    blocker = psycopg.connect(
        host=settings_dict["HOST"] or "127.0.0.1", port=settings_dict["PORT"] or 5432,
        user=settings_dict["USER"], dbname=settings_dict["NAME"],
    )  # fmt: skip
    first = worker("doomed")
    second = None

    def wait_until_up(name, process):
        """A worker is up when it answers a ping: on a loaded machine that can take a while."""
        from openbook.celery import app

        deadline = time.monotonic() + 180
        while True:
            replies = app.control.ping(timeout=1.0)
            if any(n.startswith(f"{name}-{os.getpid()}@") for r in replies for n in r):
                return
            assert process.poll() is None, f"the {name} worker exited"
            assert time.monotonic() < deadline, f"the {name} worker never started"

    try:
        wait_until_up("doomed", first)
        with blocker.cursor() as cursor:  # hold the result row: the run will wait on it
            cursor.execute(
                "SELECT 1 FROM payments_systemresult WHERE system_id = %s FOR UPDATE", [world.s1.pk]
            )
        recalculate_system.apply_async(args=[world.s1.pk, plan_round.pk, "killed"], queue=queue)
        deadline = time.monotonic() + 120
        while not RecalculationRun.objects.filter(trigger="killed", status="running").exists():
            assert time.monotonic() < deadline, "the worker never started the run"
            time.sleep(0.2)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(10)
        blocker.rollback()  # let go of the row
        # The replacement worker starts once the task has been unacknowledged for longer than
        # the visibility timeout, and takes it back on start-up.
        time.sleep(4)
        second = worker("survivor")
        deadline = time.monotonic() + 180  # its start-up as well as the run
        while not RecalculationRun.objects.filter(
            trigger="killed", status__in=["changed", "unchanged"]
        ).exists():
            assert time.monotonic() < deadline, "the task was not redelivered"
            time.sleep(0.5)
    finally:
        blocker.close()
        for process in (first, second):
            if process and process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(20)
    runs = RecalculationRun.objects.filter(trigger="killed")
    # The killed one is marked abandoned by the run that took its work again: nothing is left
    # "running" to keep pages saying the figures are still to come.
    assert runs.filter(status="abandoned").count() == 1
    assert not runs.filter(status="running").exists()
    assert not coalescing.is_pending(plan_round.pk, world.s1.pk)
    # Redelivered and finished once ("unchanged" if the session's own worker, answering the
    # control-total change, got there first).
    assert runs.filter(status__in=["changed", "unchanged"]).count() == 1
    assert SystemResult.objects.filter(system=world.s1).count() == 1
    assert SystemResult.objects.get(system=world.s1).data["system"]["control_total"] == "-8.000"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_an_administrator_follows_a_national_run_on_the_worker(celery_worker_process):
    from django.test import Client

    from tests.conftest import build_world
    from tests.isolation.plans import _plans_submitted

    world = build_world()
    _plans_submitted(world)
    client = Client()
    client.force_login(world.people["admin"])
    url = "/rounds/2026-27/recalculation/"
    assert client.post(url).status_code == 302
    deadline = time.monotonic() + 60
    body = ""
    while time.monotonic() < deadline:
        body = client.get(url + "?part=progress", HTTP_HX_REQUEST="true").content.decode()
        if "Finished" in body:
            break
        time.sleep(0.5)
    assert "Finished: 1 of 1 systems recalculated" in body
    assert 'value="1"' in body and "hx-trigger" not in body  # the bar stops polling when done
    assert SystemResult.objects.filter(system=world.s1).exists()
    # The worker added up the system's collation as well: the pages read it stored.
    from django.core.cache import cache

    from plans import frozen, queries
    from plans.models import PlanningRound
    from plans.system_plan import _counted, _sums_key

    plan_round = PlanningRound.objects.get(slug="2026-27")
    stamps = frozen.stamp(queries.template_versions_of(plan_round))
    key = _sums_key(plan_round, world.s1.pk, _counted(plan_round, [world.s1.pk])[world.s1.pk],
                    stamps)  # fmt: skip
    deadline = time.monotonic() + 60
    while cache.get(key) is None:
        assert time.monotonic() < deadline, "the worker never stored the system's sums"
        time.sleep(0.2)
    assert set(cache.get(key).annual) == {world.org_a.pk}  # the one plan submitted


def test_a_national_gather_gives_each_system_what_its_own_gives(world, plan_round):
    from tests.isolation.payments import _with_fund

    plan_round.delete()
    _with_fund(world)
    from plans.models import PlanningRound

    current = PlanningRound.objects.get()
    both = inputs.gather_many(current, [world.s1, world.s2])
    assert both[world.s1.pk] == inputs.gather(current, world.s1)
    assert both[world.s2.pk] == inputs.gather(current, world.s2)
    assert both[world.s1.pk]["fund"]["allocations"] == {"ZA2": D(1000)}


def test_a_run_under_way_counts_as_pending(world, plan_round):
    """A run clears the queued flag as it starts; until it finishes the page must still poll."""
    cache.delete(coalescing._pending_key(plan_round.pk, world.s1.pk))
    run = RecalculationRun.objects.create(round=plan_round, system=world.s1, trigger="t")
    assert coalescing.is_pending(plan_round.pk, world.s1.pk)
    run.status = RecalculationRun.Status.CHANGED
    run.save()
    assert not coalescing.is_pending(plan_round.pk, world.s1.pk)


def test_a_starting_run_is_pending_at_every_moment(world, plan_round, monkeypatch):
    """As a run takes the queued flag down, its own record already says it is under way: a page
    asking in between would otherwise stop polling on the old figures."""
    cache.set(coalescing._pending_key(plan_round.pk, world.s1.pk), time.time())
    seen = []
    clear = coalescing.clear_pending

    def clear_and_look(round_id, system_ids):
        clear(round_id, system_ids)
        seen.append(coalescing.is_pending(plan_round.pk, world.s1.pk))

    monkeypatch.setattr(coalescing, "clear_pending", clear_and_look)
    recalculation.recalculate(system_id=world.s1.pk, round_id=plan_round.pk, trigger="t")
    assert seen == [True]
    assert not coalescing.is_pending(plan_round.pk, world.s1.pk)


def test_a_run_cut_off_is_marked_abandoned_by_the_one_that_takes_it_again(world, plan_round):
    """A worker killed mid-run leaves its run "running"; once that is older than any run may
    take, the run that takes the work again marks it abandoned as it starts, so once that
    finishes nothing says figures are still to come. A younger run may still be going, and
    another system's is its own: both are left alone."""
    import datetime as dt

    from django.utils import timezone

    cache.delete(coalescing._pending_key(plan_round.pk, world.s1.pk))
    killed = RecalculationRun.objects.create(round=plan_round, system=world.s1, trigger="t")
    young = RecalculationRun.objects.create(round=plan_round, system=world.s1, trigger="t")
    other = RecalculationRun.objects.create(round=plan_round, system=world.s2, trigger="t")
    long_ago = timezone.now() - dt.timedelta(minutes=10)
    RecalculationRun.objects.filter(pk__in=[killed.pk, other.pk]).update(started_at=long_ago)
    again = recalculation.recalculate(system_id=world.s1.pk, round_id=plan_round.pk, trigger="t")
    for run in (killed, young, other):
        run.refresh_from_db()
    assert killed.status == "abandoned" and "a later run took the work again" in killed.error
    assert young.status == "running" and other.status == "running"
    assert again.status in ("changed", "unchanged")
    young.status = "unchanged"  # as it sets when it ends
    young.save()
    assert not coalescing.is_pending(plan_round.pk, world.s1.pk)
