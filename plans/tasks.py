"""Planning tasks."""

from celery import shared_task
from django.utils import timezone

from plans.services.reminders import reminders_send


# row_scope: the rows the task may reach (accounts/rowsecurity.py). Reminders look at every
# organisation's plan. A file is found in the platform's scope, then read and stored in its
# uploader's (plans/services/receiving.py); the sweep looks at every waiting file.
@shared_task(name="plans.send_deadline_reminders", acks_late=True, time_limit=600, max_retries=3,
             autoretry_for=(ConnectionError,), retry_backoff=True,
             row_scope="platform")  # fmt: skip
def send_deadline_reminders() -> int:
    """Daily: reminders a week and a day before each deadline. Idempotent (each sent once)."""
    return reminders_send(now=timezone.now())


# A file is read within seconds (its size and reach are bounded before its cells are read);
# the limit is for a fault, and the page calls a file unfinished after UPLOAD_ABANDON_AFTER.
@shared_task(name="plans.check_upload", acks_late=True, time_limit=300, row_scope="platform")
def check_upload(upload_id: str) -> str | None:
    """Check and store a large uploaded file (see plans/services/receiving.py)."""
    from plans.services.receiving import upload_run

    return upload_run(upload_id)


# Its own soft limit too: the default (CELERY_TASK_SOFT_TIME_LIMIT, 240 s) is above this hard
# one, which Celery refuses, so beat could never send the sweep.
@shared_task(name="plans.sweep_uploads", time_limit=120, soft_time_limit=100, row_scope="platform")
def sweep_uploads() -> dict[str, int]:
    """Every two minutes: large uploads waiting, given up on, or old (receiving.py)."""
    from plans.services.receiving import uploads_sweep

    return uploads_sweep()
