"""The benchmarks keep working (their numbers are reported, never asserted)."""

import json

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_bench_upload_prints_one_json_line(capsys):
    call_command("bench", "upload", "--repeats", "1")
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["bench"] == "upload"
    assert result["values"] > 1000
    assert set(result) >= {"seconds", "baseline_seconds", "ratio"}


def test_bench_collate_checks_its_sums_and_prints_one_json_line(world, capsys):
    from tests.isolation.plans import _plans_submitted

    _plans_submitted(world)
    call_command("bench", "collate", "--repeats", "1", "--round", "2026-27")
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["bench"] == "collate"
    assert result["systems"] == 1 and result["values"] > 0
    assert result["largest_system_page_ms"] > 0


def test_bench_grid_prints_the_servers_figures(capsys):
    call_command("bench", "grid", "--repeats", "1", "--no-browser")
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["bench"] == "grid"
    assert result["rows"] > 30  # six commissioners' income rows among them
    assert 0 < result["baseline_html_bytes"] < result["html_bytes"]
    assert result["server_ms"] > 0 and "server_ratio" in result


def test_bench_audit_checks_a_long_chain_and_prints_one_json_line(capsys):
    call_command("bench", "audit", "--repeats", "1", "--events", "300")
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["bench"] == "audit" and result["events"] == 301
    assert set(result) >= {"seconds", "baseline_seconds", "ratio", "one_new_event_seconds"}


def test_bench_submit_freezes_every_figure_and_prints_one_json_line(world, capsys):
    call_command("bench", "submit", "--repeats", "2")
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["bench"] == "submit" and result["repeats"] == 2
    assert result["values"] > 5000  # a full acute plan on the current template
    assert result["seconds"] > 0 and result["baseline_seconds"] > 0 and result["p95_ms"] > 0


def test_bench_load_shares_the_configured_workers_between_its_servers():
    from demo.bench import scaleout as load

    total = int(load.gunicorn_config()["workers"])
    for servers in (1, 2, 3):
        pools = load.pools(servers, split=False)
        assert len(pools) == servers
        assert sum(int(p["WEB_CONCURRENCY"]) for p in pools) == max(total, servers)
        assert not any("GUNICORN_NICE" in p for p in pools)
    running: list = []
    load.celery_workers(0, running)  # none asked for: none started, nothing waited on
    assert running == []
    *pages, saves = load.pools(2, split=True)
    assert saves == {"WEB_CONCURRENCY": str(load.EDIT_WORKERS)}
    assert [p["GUNICORN_NICE"] for p in pages] == [str(load.PAGE_NICE)] * 2


def test_a_plan_arriving_in_bench_load_is_never_left_recalled(world, monkeypatch):
    """bench load's arrivals recall national plans and submit them again: a submission that
    fails leaves the plan submitted all the same, and the failure is still reported."""
    from accounts.second_factor import unattended
    from demo.bench import scaleout
    from plans.cells import CellInput
    from plans.models import Submission
    from tests.plans.conftest import make_round, submit_plan

    make_round()
    cells = [CellInput(code, m, "90", counterparty=cp) for m in range(1, 13)
             for code, cp in (("F100", "ZA3"), ("F2MEDS", None))]  # fmt: skip
    submit_plan(world.org_a, cells, world.people["approver"])
    submission = Submission.objects.get(organisation=world.org_a)
    submit, calls = scaleout.submission_submit, []

    def fails_once(**kwargs):
        calls.append(kwargs)
        if len(calls) == 1:
            raise RuntimeError("the connection went away")
        return submit(**kwargs)

    monkeypatch.setattr(scaleout, "submission_submit", fails_once)
    with unattended("the test's arrivals"), pytest.raises(RuntimeError, match="went away"):
        scaleout._resubmit(submission)
    submission.refresh_from_db()
    assert submission.status == Submission.Status.SUBMITTED and len(calls) == 2
