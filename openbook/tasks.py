"""Platform tasks."""

from celery import shared_task


@shared_task(name="openbook.ping", acks_late=False, ignore_result=False)
def ping() -> str:
    """Answers the health check's round trip through the worker."""
    return "pong"


@shared_task(name="openbook.issue_checkpoints", acks_late=True, max_retries=3)
def issue_checkpoints() -> int:
    """Sign and keep the head of every audit chain that moved since its last checkpoint.
    Idempotent: a chain whose head is already its latest checkpoint gets none."""
    from openbook.checkpoints import checkpoints_issue

    return len(checkpoints_issue())
