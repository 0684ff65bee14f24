"""`openbook bench load`, scaled out: the gunicorn masters' settings, Celery workers, and plans
arriving while the load runs, for the workers to recalculate (demo/bench/load.py)."""

from __future__ import annotations

import multiprocessing
import os
import queue
import runpy
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connections

from accounts.second_factor import unattended
from demo.synthetic import board_approver
from payments.models import RecalculationRun
from plans.models import PlanningRound, Submission
from plans.services import submission_recall, submission_submit

EDIT_WORKERS = 2  # --split: the cell-save pool's workers
PAGE_NICE = 10  # --split: the page pools' workers' CPU priority (0 is the default)
ARRIVAL_SECONDS = 3.0  # --workers: a plan submitted again this often


def gunicorn_config() -> dict:
    """deploy/gunicorn.conf.py's settings, as gunicorn reads them here."""
    return runpy.run_path(str(Path(settings.BASE_DIR) / "deploy" / "gunicorn.conf.py"))


def pools(servers: int, split: bool) -> list[dict[str, str]]:
    """Each gunicorn master's settings: `servers` replicas sharing the configured workers
    between them, and with `split` a pool of its own for cell saves."""
    total = int(gunicorn_config()["workers"])
    pages = [
        {"WEB_CONCURRENCY": str(max(1, total // servers + (n < total % servers)))}
        for n in range(servers)
    ]
    if not split:
        return pages
    return [pool | {"GUNICORN_NICE": str(PAGE_NICE)} for pool in pages] + [
        {"WEB_CONCURRENCY": str(EDIT_WORKERS)}
    ]


def celery_workers(count: int, running: list[subprocess.Popen]) -> None:
    """Celery workers as production runs them, on this settings' queue, one task at a time:
    each put in `running` as it starts, and back once every one answers a ping."""
    from openbook.celery import app

    if not count:
        return
    celery = Path(sys.executable).parent / "celery"
    names = [f"bench-load-{n}@{socket.gethostname()}" for n in range(count)]
    for name in names:
        running.append(
            subprocess.Popen(  # noqa: S603  (our own worker, fixed arguments)
                [
                    str(celery),
                    "-A",
                    "openbook",
                    "worker",
                    "-Q",
                    settings.CELERY_TASK_DEFAULT_QUEUE,
                    "--concurrency",
                    "1",
                    "--hostname",
                    name,
                    "--loglevel",
                    "WARNING",
                ],  # fmt: skip
                env=os.environ | {"DJANGO_SETTINGS_MODULE": "openbook.settings"},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
    deadline = time.monotonic() + 180
    while names and time.monotonic() < deadline:
        if any(process.poll() is not None for process in running[-count:]):
            raise SystemExit("A Celery worker exited as it started: run it by hand to see why.")
        answered = {name for reply in app.control.ping(timeout=2) for name in reply}
        if answered >= set(names):
            return
    raise SystemExit("The Celery workers did not answer within three minutes.")


@dataclass
class Arrivals:
    """Plans arriving while the load runs: one recalled and submitted again (the same
    figures, a new version), then a pause of a few seconds, in turn. In a process of its
    own, so its Python never holds up the client timing the requests."""

    plans: list[Submission]
    seconds: float
    submitted: list[tuple[int, float]] = field(default_factory=list)  # (system, when)
    errors: list[str] = field(default_factory=list)
    _process: multiprocessing.process.BaseProcess | None = None
    _answers: Any = None
    _stop: Any = None

    def start(self) -> None:
        if not self.plans:
            return
        context = multiprocessing.get_context("fork")
        self._answers, self._stop = context.Queue(), context.Event()
        # Neither side may use a connection the other holds: the child opens its own.
        connections.close_all()
        self._process = context.Process(target=self._run, args=(time.time() + self.seconds,))
        self._process.start()

    def _run(self, until: float) -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # stopped by the parent, between plans
        with unattended("a benchmark: its approvers are not there to type a code"):
            n = 0
            while time.time() < until and not self._stop.is_set():
                submission = self.plans[n % len(self.plans)]
                n += 1
                try:
                    made = _resubmit(submission)
                    self._answers.put(("submitted", submission.organisation.system_id, made))
                except Exception as exc:  # noqa: BLE001  (counted, and the load goes on)
                    error = f"{submission.organisation.ods_code}: {exc}"[:200]
                    self._answers.put(("error", error))
                self._stop.wait(ARRIVAL_SECONDS)
        connections.close_all()
        self._answers.put(None)

    def finish(self, timeout: float = 300) -> None:
        """Stop after the plan under way (a submission is never cut in two) and collect what
        happened. Any plan left recalled is put back by the bench (`left_recalled`)."""
        if self._process is None:
            return
        self._stop.set()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                answer = self._answers.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                break
            if answer is None:
                break
            if answer[0] == "submitted":
                self.submitted.append((answer[1], answer[2]))
            else:
                self.errors.append(answer[1])
        self._process.join(10)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(10)
            self.errors.append("the arrivals did not finish: stopped")
        self._process = None

    def left_recalled(self) -> list[Submission]:
        """The arriving plans not submitted now (a run cut short between recall and submit)."""
        return [
            s
            for s in Submission.objects.filter(pk__in=[p.pk for p in self.plans])
            if s.status != Submission.Status.SUBMITTED
        ]


def _resubmit(submission: Submission) -> float:
    """Recall the plan and submit it again; returns when the new version was made. Whatever
    fails, the plan is left submitted."""
    submission.refresh_from_db()
    approver = board_approver(submission.organisation, "national.openbook.invalid")
    last = submission.versions.filter(number__gt=0).order_by("-number").first()
    try:
        submission_recall(actor=approver, submission=submission)
        version = submission_submit(actor=approver, submission=submission, confirmed=True,
                                    board_approval_date=last.board_approval_date)  # fmt: skip
    except BaseException:
        submission.refresh_from_db()
        if submission.status != Submission.Status.SUBMITTED:
            submission_submit(actor=approver, submission=submission, confirmed=True,
                              board_approval_date=last.board_approval_date)  # fmt: skip
        raise
    return version.created_at.timestamp()


def arriving(plan_round: PlanningRound, recalled: list[Submission]) -> list[Submission]:
    """Submitted plans nobody in the load is editing, one from each of a few systems."""
    editing = {s.pk for s in recalled}
    plans, systems = [], set()
    for submission in (
        Submission.objects.filter(round=plan_round, status=Submission.Status.SUBMITTED)
        .select_related("organisation")
        .order_by("organisation__ods_code")
    ):
        if submission.pk not in editing and submission.organisation.system_id not in systems:
            plans.append(submission)
            systems.add(submission.organisation.system_id)
        if len(plans) == 8:
            break
    return plans


def recalculated(arrivals: Arrivals, since, drain: float = 180) -> dict:
    """How the workers kept up: each system submitted to, recalculated after its last
    submission (waiting up to `drain` seconds for the queue to empty), and how long after it
    that run finished. A run counts if it started after the new version was made (the run a
    submission asks for starts after it commits, a moment later)."""
    last = {}
    for system_id, when in arrivals.submitted:
        last[system_id] = when
    deadline = time.monotonic() + drain
    done: dict[int, float] = {}
    while time.monotonic() < deadline:
        runs = RecalculationRun.objects.filter(started_at__gte=since, system_id__in=list(last))
        for run in runs.exclude(status=RecalculationRun.Status.RUNNING):
            finished = run.started_at.timestamp() + (run.duration_ms or 0) / 1000
            if run.started_at.timestamp() >= last[run.system_id]:
                done[run.system_id] = finished - last[run.system_id]
        if len(done) == len(last):
            break
        time.sleep(1)
    waits = sorted(done.values())
    return {
        "submissions": len(arrivals.submitted),
        "systems": len(last),
        "recalculated_after_last": len(done),
        "longest_wait_s": round(waits[-1], 1) if waits else None,
        "errors": arrivals.errors[:5],
        "runs": RecalculationRun.objects.filter(started_at__gte=since).count(),
    }
