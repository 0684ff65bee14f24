"""Large uploads are checked and stored by the real Celery worker, off the request: the
upload answers at once with a page that follows the worker's progress, then shows the same
result a small file gets (stored, or refused with every reason and nothing stored)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from plans.models import Upload, Value, Version
from tests.plans.test_excel import download, edit, filled, member, problems_of, upload

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
        assert response.status_code == 200
        assert 'id="upload-progress"' in response.content.decode()
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
