"""`openbook bench grid`: the editable finance grid, as a preparer opens it.

In one run, for a bench organisation with a full draft, a submitted version (so the grid
shows the change against it) and six commissioners (six rows of income from them):
- the server's time to answer the grid page, and its HTML size, against a baseline of the
  same figures read in one query and written as a bare table of inputs;
- the page in headless Chromium: how long until the grid script has started (the grid is
  interactive), and until the load event, against the bare table's page in the same browser.
Medians of several repeats. Chromium comes from CHROMIUM_PATH (default /usr/bin/chromium).
"""

from __future__ import annotations

import datetime as dt
import html
import os
import statistics
import time

from django.conf import settings
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.db import connection
from django.test import Client
from django.test.testcases import LiveServerThread

from accounts.second_factor import unattended
from demo.synthetic import plan_cells
from plans.models import MONTH_LABELS, Submission, Version
from plans.services import draft_save, narrative_save, submission_start, submission_submit

SECTION = "finance"
BROWSER_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]  # fmt: skip


def _setup():
    from demo.bench.upload import _setup as upload_setup

    plan_round, organisation, user = upload_setup()
    submission = Submission.objects.filter(round=plan_round, organisation=organisation).first()
    if submission is None:
        submission = submission_start(actor=user, plan_round=plan_round, organisation=organisation)
    if not submission.versions.filter(number__gt=0).exists():
        draft_save(
            actor=user,
            submission=submission,
            cells=plan_cells(plan_round, organisation),
            source="seed",
        )
        narrative_save(
            actor=user, submission=submission, section_code="summary", text="Bench plan."
        )
        submission_submit(
            actor=user,
            submission=submission,
            board_approval_date=dt.date.today(),
            confirmed=True,
        )
        from plans.services import submission_recall

        submission_recall(actor=user, submission=submission)
    return plan_round, organisation, user, submission


def _baseline_html(submission: Submission) -> str:
    """The same figures, one query, written straight into a bare table of inputs."""
    draft = Version.objects.get(submission=submission, number=0)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT l.code, l.label, COALESCE(o.ods_code, ''), v.month, v.value
            FROM plans_value v JOIN plans_line l ON l.id = v.line_id
            JOIN plans_section s ON s.id = l.section_id
            LEFT JOIN accounts_organisation o ON o.id = v.counterparty_id
            WHERE v.version_id = %s AND s.code = %s
            ORDER BY l.position, o.ods_code, v.month
            """,
            [draft.pk, SECTION],
        )
        rows: dict[tuple[str, str, str], dict[int, str]] = {}
        for code, label, cp, month, value in cursor.fetchall():
            rows.setdefault((code, label, cp), {})[month] = f"{value.normalize():f}"
    head = "".join(f"<th>{m}</th>" for m in MONTH_LABELS)
    body = "".join(
        f"<tr><th>{html.escape(code)} {html.escape(label)}</th>"
        + "".join(
            f'<td><input name="v:{code}:{cp}:{m}" value="{months.get(m, "")}"></td>'
            for m in range(1, 13)
        )
        + "</tr>"
        for (code, label, cp), months in rows.items()
    )
    return f"<!DOCTYPE html><title>Baseline</title><table><tr><th></th>{head}</tr>{body}</table>"


def _server(client: Client, url: str, submission: Submission, repeats: int) -> dict:
    client.get(url)  # warm caches and templates
    _baseline_html(submission)
    ours, base, size = [], [], 0
    for _ in range(repeats):
        started = time.perf_counter()
        response = client.get(url)
        ours.append(time.perf_counter() - started)
        assert response.status_code == 200, response.status_code
        size = len(response.content)
        started = time.perf_counter()
        baseline = _baseline_html(submission)
        base.append(time.perf_counter() - started)
    return {
        "server_ms": round(statistics.median(ours) * 1000, 1),
        "baseline_server_ms": round(statistics.median(base) * 1000, 1),
        "server_ratio": round(statistics.median(ours) / statistics.median(base), 1),
        "html_bytes": size,
        "baseline_html_bytes": len(baseline.encode()),
    }


def _browser(url_base, path, session, baseline, repeats, chromium=None) -> dict:
    """Time the page in Chromium: `chromium`, a Playwright browser already running (the tests'),
    or one started here."""
    if chromium is None:
        from playwright.sync_api import sync_playwright

        executable = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
        with sync_playwright() as playwright:
            started = playwright.chromium.launch(
                executable_path=executable, args=BROWSER_FLAGS, headless=True
            )
            try:
                return _browser(url_base, path, session, baseline, repeats, started)
            finally:
                started.close()
    ready, loaded, base = [], [], []
    context = chromium.new_context(base_url=url_base, viewport={"width": 1280, "height": 900})
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": url_base}])
    page = context.new_page()
    page.route(
        "**/bench-baseline/",
        lambda route: route.fulfill(status=200, content_type="text/html", body=baseline),
    )
    for n in range(repeats + 1):
        page.goto(path)
        page.wait_for_function(
            "performance.getEntriesByName('ob-grid-ready').length > 0", timeout=60_000
        )
        timing = page.evaluate(
            """() => ({
                ready: performance.getEntriesByName('ob-grid-ready')[0].startTime,
                loaded: performance.getEntriesByType('navigation')[0].loadEventEnd,
            })"""
        )
        page.goto("/bench-baseline/")
        bare = page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd")
        if n:  # the first pass only warms the browser's cache, as a returning user's is
            ready.append(timing["ready"])
            loaded.append(timing["loaded"])
            base.append(bare)
    context.close()
    return {
        "interactive_ms": round(statistics.median(ready)),
        "load_ms": round(statistics.median(loaded)),
        "baseline_load_ms": round(statistics.median(base)),
        "interactive_ratio": round(statistics.median(ready) / max(statistics.median(base), 1), 1),
    }


@unattended("demo data: its people are not there to type a code")
def run(repeats: int = 5, browser: bool = True, chromium=None) -> dict:
    plan_round, organisation, user, submission = _setup()
    path = f"/rounds/{plan_round.slug}/{organisation.ods_code}/sections/{SECTION}/"
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    result = {
        "bench": "grid",
        "rows": submission.versions.get(number=0).values.filter(line__section__code=SECTION)
        .values("line_id", "counterparty_id").distinct().count(),
    }  # fmt: skip
    result |= _server(client, path, submission, repeats)
    if browser:
        server = LiveServerThread("127.0.0.1", StaticFilesHandler)
        server.daemon = True
        server.start()
        server.is_ready.wait()
        if server.error:
            raise server.error
        try:
            session = client.cookies[settings.SESSION_COOKIE_NAME].value
            result |= _browser(
                f"http://127.0.0.1:{server.port}", path, session, _baseline_html(submission),
                repeats, chromium,
            )  # fmt: skip
        finally:
            server.terminate()
            server.join()
    return result
