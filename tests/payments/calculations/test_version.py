"""Stored results follow code changes: the calculation version is part of what a stored
result is reused for, its fingerprint keeps it honest, and a forced run or a new version
works every result out again, recording why."""

from __future__ import annotations

import shutil
import time
from decimal import Decimal

import pytest

from payments.calculations import version
from payments.models import RecalculationRun, Settlement, SystemResult
from payments.services import recalculation
from payments.services import settlements as svc
from payments.services.control_totals import control_total_set
from tests.payments.services.test_settlements import _entered

D = Decimal


def test_the_recorded_fingerprint_is_the_code_s():
    """Fails when a calculation module changes and nobody bumped the version."""
    assert version.fingerprint() == version.FINGERPRINT, (
        "The calculations changed. If any figure or working can come out differently, bump "
        "CALCULATION_VERSION in payments/calculations/version.py (stored results are then "
        f'worked out again); either way set FINGERPRINT = "{version.fingerprint()}".'
    )


def test_the_fingerprint_moves_with_code_not_with_comments_or_docstrings(tmp_path):
    source = version.__file__.replace("version.py", "positions.py")
    shutil.copy(source, tmp_path / "positions.py")
    before = version.fingerprint(tmp_path)
    text = (tmp_path / "positions.py").read_text()
    (tmp_path / "positions.py").write_text(
        text.replace('"""', '"""Reworded. ', 1) + "\n# a comment\n"
    )
    assert version.fingerprint(tmp_path) == before
    (tmp_path / "positions.py").write_text(text.replace("variance >= ZERO", "variance > ZERO", 1))
    assert "variance >= ZERO" in text and version.fingerprint(tmp_path) != before


@pytest.mark.django_db
def test_a_new_version_recomputes_every_system_and_says_why(world, plan_round, monkeypatch):
    control_total_set(actor=None, plan_round=plan_round, organisation=world.org_a, amount=D(2))
    systems = [world.s1, world.s2]
    first = recalculation.recalculate_many(plan_round, systems, trigger="test")
    assert [r.reason for r in first] == ["first run", "first run"]
    assert [r.status for r in recalculation.recalculate_many(plan_round, systems, trigger="test")] == [
        "unchanged", "unchanged"]  # fmt: skip

    monkeypatch.setattr(version, "CALCULATION_VERSION", version.CALCULATION_VERSION + 1)
    now = version.CALCULATION_VERSION
    runs = recalculation.recalculate_many(plan_round, systems, trigger="deploy")
    assert [(r.status, r.reason) for r in runs] == [
        ("changed", f"calculation version {now - 1} → {now}")
    ] * 2
    stored = RecalculationRun.objects.filter(pk__in=[r.pk for r in runs])
    assert set(stored.values_list("reason", flat=True)) == {
        f"calculation version {now - 1} → {now}"
    }
    assert set(SystemResult.objects.values_list("calculation_version", flat=True)) == {now}
    again = recalculation.recalculate_many(plan_round, systems, trigger="test")
    assert [r.status for r in again] == ["unchanged", "unchanged"]


@pytest.mark.django_db
def test_a_forced_run_stores_results_on_unchanged_inputs(world, plan_round, capsys):
    from django.core.management import call_command

    control_total_set(actor=None, plan_round=plan_round, organisation=world.org_a, amount=D(2))
    recalculation.recalculate(system_id=world.s1.pk, round_id=plan_round.pk, trigger="test")
    computed = SystemResult.objects.get(system=world.s1).computed_at
    forced = recalculation.recalculate(system_id=world.s1.pk, round_id=plan_round.pk, trigger="test",
                                force=True)  # fmt: skip
    assert (forced.status, forced.reason) == ("changed", "forced")
    assert SystemResult.objects.get(system=world.s1).computed_at > computed
    call_command("recalc", "--round", plan_round.slug, "--system", world.s1.code, "--here",
                 "--force")  # fmt: skip
    assert RecalculationRun.objects.filter(trigger="command", reason="forced").exists()


@pytest.mark.django_db
def test_an_older_result_says_so_on_its_pages(world, plan_round, client_for):
    control_total_set(actor=None, plan_round=plan_round, organisation=world.org_a, amount=D(2))
    recalculation.recalculate(system_id=world.s1.pk, round_id=plan_round.pk, trigger="test")
    url = f"/rounds/{plan_round.slug}/systems/{world.s1.code}/control-totals/"
    page = client_for(world.people["lead"]).get(url).content.decode()
    assert 'id="outdated"' not in page
    SystemResult.objects.update(calculation_version=0)
    page = client_for(world.people["lead"]).get(url).content.decode()
    assert 'id="outdated"' in page and "version 0 of the calculations" in page
    # Polling waits on a queued run, not on the version: a page never polls for ever.
    assert "every 2s" not in page


@pytest.mark.django_db
def test_an_older_worker_mid_deploy_leaves_newer_results_alone(world, plan_round, monkeypatch):
    control_total_set(actor=None, plan_round=plan_round, organisation=world.org_a, amount=D(2))
    now = version.CALCULATION_VERSION
    monkeypatch.setattr(version, "CALCULATION_VERSION", now + 1)
    recalculation.recalculate(system_id=world.s1.pk, round_id=plan_round.pk, trigger="new worker")
    monkeypatch.setattr(version, "CALCULATION_VERSION", now)
    run = recalculation.recalculate(
        system_id=world.s1.pk, round_id=plan_round.pk, trigger="old worker"
    )
    assert run.status == "unchanged"
    assert SystemResult.objects.get(system=world.s1).calculation_version == now + 1
    assert recalculation.recompute_outdated() == 0


@pytest.mark.django_db
def test_a_decided_settlement_stays_and_its_page_shows_what_today_gives(
    world,
    people,
    agreed,
    client_for,
    plan_round,  # noqa: F811  (the fixtures)
):
    settlement = _entered(people, agreed, spend="1100000")
    assert settlement.calculation_version == version.CALCULATION_VERSION
    assert svc.flows_today(settlement) is None
    # The same amounts written another way are the same amounts.
    Settlement.objects.filter(pk=settlement.pk).update(
        calculation_version=0, flows={"ZA1": "-60000.0", "ZA2": "-40000"})  # fmt: skip
    settlement.refresh_from_db()
    assert svc.flows_today(settlement) is None
    svc.settlement_propose(actor=people["lead"], settlement=settlement)
    svc.settlement_respond(actor=people["approver"], settlement=settlement,
                           organisation=world.org_a, accepted=True)  # fmt: skip
    svc.settlement_respond(actor=people["partner"], settlement=settlement,
                           organisation=world.org_b, accepted=True)  # fmt: skip
    # As if an older calculation had given other figures.
    Settlement.objects.filter(pk=settlement.pk).update(
        calculation_version=0, flows={"ZA1": "-50000.00", "ZA2": "-50000.00"})  # fmt: skip
    settlement.refresh_from_db()
    today = svc.flows_today(settlement)
    assert today == {"ZA1": "-60000.00", "ZA2": "-40000.00"}

    assert recalculation.recompute_outdated() == 0  # agreed: a record, not redone
    assert svc.compute(settlement.pk).flows == {"ZA1": "-50000.00", "ZA2": "-50000.00"}
    url = (f"/rounds/{plan_round.slug}/systems/{world.s1.code}/agreements/{agreed.pk}/"
           f"settlements/{settlement.pk}/")  # fmt: skip
    page = client_for(people["lead"]).get(url).content.decode()
    assert 'id="flows-today"' in page and "version 0 of the calculations" in page
    settlement.refresh_from_db()
    assert settlement.flows == {"ZA1": "-50000.00", "ZA2": "-50000.00"}


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_after_a_deploy_the_worker_redoes_older_results(celery_worker_process):
    """The worker (here as after a deploy) finds results an older version computed and
    works them out again in the background, recording why."""
    from payments.tasks import recompute_outdated
    from plans.models import PlanningRound
    from tests.conftest import build_world
    from tests.isolation.plans import _plans_submitted

    world = build_world()
    _plans_submitted(world)
    plan_round = PlanningRound.objects.get()
    recalculation.recalculate(system_id=world.s1.pk, round_id=plan_round.pk, trigger="test")
    SystemResult.objects.filter(system=world.s1).update(calculation_version=0)
    recompute_outdated.delay()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if SystemResult.objects.get(system=world.s1).calculation_version != 0:
            break
        time.sleep(0.5)
    assert SystemResult.objects.get(system=world.s1).calculation_version == (
        version.CALCULATION_VERSION)  # fmt: skip
    why = f"calculation version 0 → {version.CALCULATION_VERSION}"
    # (The run may be one the plans' own submissions had already queued: a run waiting for
    # the system takes the request over, and still says why it worked the results out.)
    assert RecalculationRun.objects.filter(system=world.s1, reason=why, status="changed").exists()
