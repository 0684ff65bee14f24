"""Large uploads are checked and stored by the real Celery worker, off the request: the
upload answers at once with a page that follows the worker's progress, then shows the same
result a small file gets (stored, or refused with every reason and nothing stored)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from plans.models import Upload, Value, Version
from tests.plans.excel.test_excel import download, edit, filled, member, problems_of, upload

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
__all__ = ["filled", "member"]  # fixtures, used by name

PLAN = "/rounds/2026-27/ZA1/"
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _every_file_is_large(settings):
    settings.PLAN_UPLOAD_INLINE_BYTES = 1000  # a plan's workbook is about 30 kB


def _follow(client, status_url: str, limit: float = 120.0):
    """Poll the page as htmx does until it sends the browser on; the page it sends it to."""
    deadline = time.monotonic() + limit
    while True:
        response = client.get(status_url + "?part=progress", **HTMX)
        if "HX-Redirect" in response:
            return client.get(response["HX-Redirect"])
        assert response.status_code == 200  # no "seen" sent: always the progress
        assert 'id="upload-bar"' in response.content.decode()
        if time.monotonic() > deadline:
            raise AssertionError("the worker did not finish with the file")
        time.sleep(0.3)


def test_a_large_workbook_is_stored_by_the_worker(celery_worker_process, member, filled):
    data = edit(download(member), {("Finance – income & expenditure", "E6"): 4321})
    response = upload(member, data)
    assert response.status_code == 302
    status_url = response["Location"]
    assert status_url.startswith(PLAN + "upload/")
    page = member.get(status_url)  # the first look, before or after the worker has it
    assert page.status_code in (200, 302)
    landed = _follow(member, status_url)
    assert landed.status_code == 200
    assert "Uploaded: 1 figure changed." in problems_of(landed)
    again = member.get(status_url, follow=True)  # Back to the page: no second message
    assert "Uploaded:" not in problems_of(again)
    queued = Upload.objects.get()
    assert queued.state == Upload.State.STORED and bytes(queued.data) == b""
    draft = Version.objects.get(number=0)
    assert Value.objects.get(version=draft, line__code="F110", month=1).value == 4321


def test_a_refused_large_file_lists_its_problems_and_stores_nothing(
    celery_worker_process, member, filled
):
    before = Version.objects.get(number=0).revision
    data = edit(download(member), {("Finance – income & expenditure", "E6"): "lots",
                                   ("Finance – income & expenditure", "F6"): "=1+1"})  # fmt: skip
    response = upload(member, data)
    landed = _follow(member, response["Location"])
    assert landed.status_code == 422
    text = problems_of(landed)
    assert "The file has 2 problems, so nothing was saved." in text
    assert "is a formula; enter the figure itself" in text
    # The form again, posting to the upload page (not the status page).
    assert f'action="{PLAN}upload/"' in text
    assert Version.objects.get(number=0).revision == before
    assert Upload.objects.get().state == Upload.State.REFUSED


def test_a_file_the_worker_never_finished_says_so(member, filled, world):
    """No worker here: a file left longer than any check takes was lost with a worker."""
    queued = Upload.objects.create(
        target=Upload.Target.PLAN,
        actor=world.people["member"],
        round=filled.round,
        organisation=filled.organisation,
        name="plan.xlsx",
        size=300_000,
        data=b"PK",
        created_at=timezone.now() - timedelta(hours=1),
    )
    page = member.get(f"{PLAN}upload/{queued.pk}/")
    assert page.status_code == 422
    assert "Checking the file was interrupted, so nothing was saved" in problems_of(page)


def _queued(world, filled, data: bytes = b"PK", **fields) -> Upload:
    return Upload.objects.create(target=Upload.Target.PLAN, actor=world.people["member"],
                                 round=filled.round, organisation=filled.organisation,
                                 name="plan.xlsx", size=len(data), data=data, **fields)  # fmt: skip


def test_a_second_delivery_while_the_first_runs_does_nothing(world, filled, member):
    """Another connection (the first delivery's worker) holds the file: this one leaves it."""
    import psycopg
    from django.db import connection

    from plans.services.receiving import upload_run
    from tests.conftest import _database_url

    queued = _queued(world, filled, download(member))
    with psycopg.connect(_database_url(connection.settings_dict)) as other:
        other.execute("SELECT pg_advisory_lock(hashtextextended(%s, 0))",
                      ["plans.upload:" + str(queued.pk)])  # fmt: skip
        assert upload_run(str(queued.pk)) is None
    queued.refresh_from_db()
    assert queued.state == Upload.State.WAITING and queued.attempts == 0
    assert upload_run(str(queued.pk)) == Upload.State.STORED  # once the other has let go
    assert upload_run(str(queued.pk)) is None  # and a later delivery finds it finished


def test_a_file_given_up_on_is_never_stored_later(world, filled, member):
    from plans.services.receiving import upload_run

    before = Version.objects.get(number=0).revision
    old = timezone.now() - timedelta(hours=2)
    queued = _queued(world, filled, download(member), created_at=old)
    assert upload_run(str(queued.pk)) == Upload.State.FAILED
    queued.refresh_from_db()
    assert "interrupted" in queued.message and bytes(queued.data) == b""
    assert Version.objects.get(number=0).revision == before


def test_a_file_that_stopped_the_worker_twice_is_not_read_again(world, filled, member):
    from plans.services.receiving import upload_run

    queued = _queued(world, filled, download(member), attempts=2, state="checking")
    assert upload_run(str(queued.pk)) == Upload.State.FAILED
    queued.refresh_from_db()
    assert "stopped the worker" in queued.message


def test_someone_no_longer_a_preparer_is_refused_not_failed(world, filled, member):
    from accounts.models import Membership
    from plans.services.receiving import upload_run

    queued = _queued(world, filled, download(member))
    Membership.objects.filter(user=world.people["member"]).delete()
    assert upload_run(str(queued.pk)) == Upload.State.REFUSED
    queued.refresh_from_db()
    assert "no longer" in queued.message


def test_the_sweep_asks_again_gives_up_and_forgets(celery_worker_process, world, filled, member):
    from plans.services.receiving import uploads_sweep

    now = timezone.now()
    waiting = _queued(world, filled, created_at=now - timedelta(minutes=5))
    stale = _queued(world, filled, created_at=now - timedelta(hours=2))
    old = _queued(world, filled, state="stored", created_at=now - timedelta(days=31))
    assert uploads_sweep(now) == {"asked": 1, "given_up": 1, "forgotten": 1}
    # Asked for again, not given up on: the worker may have refused it already (b"PK").
    assert Upload.objects.get(pk=waiting.pk).state in (Upload.State.WAITING, "checking", "refused")
    assert Upload.objects.get(pk=stale.pk).state == Upload.State.FAILED
    assert not Upload.objects.filter(pk=old.pk).exists()
