"""An uploaded plan or return file, received: read, checked and stored all or nothing, or
refused with every reason. A small file is received in the web process; a large one is
queued (`upload_queue`) and received by the worker (`upload_run`), the same way, while its
page shows progress. Either way the person sees the same result."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from celery import current_app
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import F
from django.http import Http404
from django.utils import timezone

from accounts import policy, rowsecurity
from openbook.errors import Conflict, ProblemList, shown
from openbook.refusals import refusal
from plans import excel, monthly_returns, return_files, selectors
from plans.models import MonthlyReturn, PlanningRound
from plans.models.uploads import Upload
from plans.services import returns as return_services
from plans.services.uploads import start_and_upload

if TYPE_CHECKING:
    from accounts.models import Organisation, User

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]  # (done, total, what is being done now)


def _quiet(done: int, total: int, stage: str) -> None:
    """No one is watching a file received in the web process."""


def _unrecorded(received: Received) -> None:
    """A file received in the web process is told straight back; there is nothing to keep."""


@dataclass
class Received:
    """What happened to a file: stored (with the message to show), or refused (the message,
    every problem, and whether replacing someone's newer changes would let it in)."""

    stored: bool
    message: str
    problems: list[dict[str, Any]] = field(default_factory=list)
    offer_replace: bool = False
    problem_count: int | None = None  # when `problems` holds only the first of them


def _refused(exc: Exception) -> Received:
    if not isinstance(exc, ValidationError | Conflict):  # UploadRejected, PermissionDenied
        return Received(False, str(exc))
    found = refusal(exc)
    return Received(False, found.message, found.problems, offer_replace=found.conflict)


def receive_plan(
    *,
    actor: User,
    plan_round: PlanningRound,
    organisation: Organisation,
    name: str,
    data: bytes,
    replace: bool,
    progress: Progress = _quiet,
    record: Callable[[Received], None] = _unrecorded,
) -> Received:
    """`record` is called with a stored file's result in the transaction that stores it."""
    try:
        kind = excel.sniff(name, data)
        parse = excel.parse_xlsx if kind == "xlsx" else excel.parse_csv
        parsed = parse(data, plan_round, organisation, progress=progress)
        progress(9, 10, "Checking and saving the figures")
        # Looked up again rather than carried: the worker may run after the plan has moved on.
        try:
            _, submission = selectors.submission_find(actor, plan_round, organisation.ods_code)
        except Http404:
            raise PermissionDenied(
                "The plan can no longer be seen by you, so nothing was saved."
            ) from None
        if not policy.can_edit_draft(actor, organisation) or (
            submission is not None and not submission.is_editable
        ):
            raise PermissionDenied(
                "The plan can no longer be changed by you (it has been submitted, or your "
                "role has changed), so nothing was saved."
            )
        with transaction.atomic():
            result = start_and_upload(
                actor=actor,
                plan_round=plan_round,
                organisation=organisation,
                submission=submission,
                parsed=parsed,
                source=kind,
                replace_newer_draft=replace,
            )
            plural = "s" if result.changed != 1 else ""
            received = Received(
                True,
                f"Uploaded: {result.changed} figure{plural} changed."
                if result.changed
                else "Uploaded: the file matches the draft, so nothing changed.",
            )
            record(received)
    except (excel.UploadRejected, PermissionDenied, ValidationError, Conflict) as exc:
        return _refused(exc)
    return received


def receive_return(
    *,
    actor: User,
    monthly_return: MonthlyReturn,
    name: str,
    data: bytes,
    replace: bool,
    progress: Progress = _quiet,
    record: Callable[[Received], None] = _unrecorded,
) -> Received:
    """`record` is called with a stored file's result in the transaction that stores it."""
    plan_round, organisation = monthly_return.round, monthly_return.organisation
    try:
        if not policy.can_prepare(actor, organisation):
            raise PermissionDenied("Only the organisation's preparers and approvers can upload it.")
        lines = return_services.return_lines(plan_round, organisation.kind)
        progress(0, 10, "Reading the file")
        kind, rows, namer = return_files.read_upload(name, data, line_count=len(lines.specs))
        progress(9, 10, "Checking and saving the figures")
        parsed = monthly_returns.read_table(
            rows,
            round_slug=plan_round.slug,
            ods_code=organisation.ods_code,
            month=monthly_return.month,
            specs=lines.specs,
            cell_name=namer,
        )
        if parsed.problems:
            raise ProblemList(
                f"{len(parsed.problems)} problem(s) in the file; nothing was saved.",
                parsed.problems,
            )
        received = Received(True, "Uploaded: the draft now holds the file's figures.")
        with transaction.atomic():
            return_services.return_save(
                actor=actor,
                monthly_return=monthly_return,
                cells=parsed.cells,
                # A file carries the revision it was downloaded at; one made elsewhere (no
                # revision) or before someone else's save needs the uploader's say-so.
                expected_revision=monthly_return.revision
                if replace
                else return_services.revision_for_upload(
                    actor=actor, monthly_return=monthly_return, file_revision=parsed.revision
                ),
                source=kind,
            )
            record(received)
    except Conflict:
        return Received(
            False,
            "The draft was saved by someone after this file was downloaded (or the file did "
            "not come from this return's page). Nothing was changed. Tick the box to replace "
            "the draft with the file anyway.",
            offer_replace=True,
        )
    except (excel.UploadRejected, PermissionDenied, ValidationError) as exc:
        return _refused(exc)
    return received


def is_large(data: bytes) -> bool:
    """Whether the worker should read the file: by its size, and for a workbook by what it
    unpacks to (a plan's 30 kB workbook is about 150 kB of XML)."""
    limit = settings.PLAN_UPLOAD_INLINE_BYTES
    return len(data) > limit or excel.unpacked_size(data) > 4 * limit


def upload_queue(
    *,
    actor: User,
    plan_round: PlanningRound,
    organisation: Organisation,
    name: str,
    data: bytes,
    replace: bool,
    monthly_return: MonthlyReturn | None = None,
) -> Upload:
    """Keep a large file for the worker, and ask the worker for it once this commits. What
    can be told at once (empty, too large, not a spreadsheet) is refused here instead."""
    if excel.sniff(name, data) == "xlsx":  # both cheap: raise UploadRejected
        excel.check_zip(data)  # the zip's own directory: a bomb is refused here, not queued
    upload = Upload.objects.create(
        target=Upload.Target.RETURN if monthly_return else Upload.Target.PLAN,
        actor=actor,
        round=plan_round,
        organisation=organisation,
        month=monthly_return.month if monthly_return else None,
        name=name[:255],
        size=len(data),
        data=data,
        replace=replace,
    )
    transaction.on_commit(lambda: ask_worker(upload))
    return upload


def ask_worker(upload: Upload) -> None:
    """Send the task (by name: plans/tasks.py imports this module). With the broker away the
    file waits, and the sweep asks again; the uploader's page says it is waiting."""
    try:
        current_app.send_task("plans.check_upload", args=[str(upload.pk)])
    except Exception:  # noqa: BLE001  (kombu raises many kinds for a broker it cannot reach)
        log.warning("the worker could not be asked for upload %s; the sweep will ask", upload.pk)


def uploads_sweep(now=None) -> dict[str, int]:
    """Every two minutes: ask the worker again for files waiting over a minute (their task
    was lost, or never sent); give up on files unfinished past the limit; forget files
    dealt with over UPLOAD_KEEP_DAYS ago (their problems quote a private draft)."""
    now = now or timezone.now()
    limit = now - timedelta(seconds=settings.UPLOAD_ABANDON_AFTER_SECONDS)
    unfinished = Upload.objects.exclude(state__in=Upload.FINISHED)
    given_up = sum(give_up(u) for u in unfinished.filter(created_at__lt=limit))
    asked = 0
    for upload in unfinished.filter(state=Upload.State.WAITING,
                                    created_at__lt=now - timedelta(minutes=1)):  # fmt: skip
        ask_worker(upload)
        asked += 1
    forgotten, _ = Upload.objects.filter(
        state__in=Upload.FINISHED, created_at__lt=now - timedelta(days=settings.UPLOAD_KEEP_DAYS)
    ).delete()
    return {"asked": asked, "given_up": given_up, "forgotten": forgotten}


class Abandoned(Exception):
    """The upload's page gave up on the file (too long unfinished): what was about to be
    stored is rolled back, as the person has been told nothing was saved."""


INTERRUPTED = "Checking the file was interrupted, so nothing was saved. Upload it again."
TRIES = 2  # a file that has stopped the worker this often is not tried again


@contextmanager
def _running(upload_id: str) -> Iterator[bool]:
    """Whether this worker is the one running the file, held for the whole run: a second
    delivery of the task while the first runs does nothing, and a worker lost mid-run lets
    go with its connection, so the redelivered task can take the file again."""
    key = ["plans.upload:" + str(upload_id)]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(hashtextextended(%s, 0))", key)
        held = cursor.fetchone()[0]
    try:
        yield held
    finally:
        if held:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 0))", key)


def give_up(upload: Upload) -> bool:
    """Record an unfinished file as interrupted, once (by its page or the sweep); False if
    it had finished meanwhile."""
    return bool(
        Upload.objects.filter(pk=upload.pk)
        .exclude(state__in=Upload.FINISHED)
        .update(
            state=Upload.State.FAILED, message=INTERRUPTED, data=b"", finished_at=timezone.now()
        )  # fmt: skip
    )


def upload_run(upload_id: str) -> str | None:
    """The worker's part: take the file, receive it, record the result. A file finished,
    given up on, or being run by another delivery of the task is left alone."""
    with _running(upload_id) as mine:
        if not mine:
            return None
        upload = (
            Upload.objects.filter(pk=upload_id)
            .exclude(state__in=Upload.FINISHED)
            .select_related("actor", "round", "organisation")
            .first()
        )
        if upload is None:
            return None
        if upload.interrupted:
            give_up(upload)
            return Upload.State.FAILED
        if upload.attempts >= TRIES:  # it stopped the worker each time it was read
            stopped = (
                "The file could not be checked: reading it stopped the worker. Nothing was saved."
            )
            _finish(upload, Received(False, stopped), failed=True)
            return Upload.State.FAILED
        Upload.objects.filter(pk=upload.pk).update(
            state=Upload.State.CHECKING, attempts=F("attempts") + 1
        )
        return _run(upload)


def _run(upload: Upload) -> str:
    last = [0.0]

    def progress(done: int, total: int, stage: str) -> None:
        # At most a few writes a second, each its own (autocommit) update, so the page sees
        # them while the file is still being read.
        now = timezone.now().timestamp()
        if now - last[0] < 0.25 and done < total:
            return
        last[0] = now
        Upload.objects.filter(pk=upload.pk).update(done=done, total=total, stage=stage[:200])

    data = bytes(upload.data)
    try:
        # A stored file's result is recorded in the transaction that stores its figures, so
        # a worker lost in between leaves neither; a refusal stored nothing and is recorded
        # after.
        received = _receive(upload, data, progress, lambda r: _finish(upload, r, storing=True))
        if not received.stored:
            _finish(upload, received)
    except Abandoned:
        return Upload.State.FAILED
    except Exception:
        log.exception("an uploaded file could not be checked")
        _finish(
            upload,
            Received(
                False,
                "The file could not be checked because of a fault on our side, so nothing "
                "was saved. Upload it again; if this happens again, tell the Openbook team.",
            ),
            failed=True,
        )
        raise
    return upload.state


def _receive(
    upload: Upload, data: bytes, progress: Progress, record: Callable[[Received], None]
) -> Received:
    # The worker reads and stores the file as its uploader could, and no further.
    with rowsecurity.acting_for(upload.actor):
        return _receive_as_uploader(upload, data, progress, record)


def _receive_as_uploader(
    upload: Upload, data: bytes, progress: Progress, record: Callable[[Received], None]
) -> Received:
    if upload.target == Upload.Target.PLAN:
        return receive_plan(
            actor=upload.actor,
            plan_round=upload.round,
            organisation=upload.organisation,
            name=upload.name,
            data=data,
            replace=upload.replace,
            progress=progress,
            record=record,
        )
    try:
        monthly_return = selectors.return_get(
            upload.actor, upload.round, upload.organisation.ods_code, upload.month or 0
        )
    except Http404:  # the person may no longer see it
        return Received(False, "The return can no longer be seen by you, so nothing was saved.")
    return receive_return(
        actor=upload.actor,
        monthly_return=monthly_return,
        name=upload.name,
        data=data,
        replace=upload.replace,
        progress=progress,
        record=record,
    )


def _finish(
    upload: Upload, received: Received, *, failed: bool = False, storing: bool = False
) -> None:
    """Record the result, if the file is still unfinished; when `storing`, a file given up on
    meanwhile rolls back what was about to be stored (Abandoned)."""
    state = Upload.State.STORED if received.stored else Upload.State.REFUSED
    state = Upload.State.FAILED if failed else state
    recorded = (
        Upload.objects.filter(pk=upload.pk)
        .exclude(state__in=Upload.FINISHED)
        .update(
            state=state,
            message=received.message,
            problems=shown(received.problems),
            problem_count=len(received.problems),
            offer_replace=received.offer_replace,
            data=b"",
            finished_at=timezone.now(),
        )
    )
    if storing and not recorded:
        raise Abandoned
    upload.state = state
