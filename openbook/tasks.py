"""Platform tasks."""

from celery import shared_task


@shared_task(name="openbook.ping", acks_late=False, ignore_result=False)
def ping() -> str:
    """Answers the health check's round trip through the worker."""
    return "pong"
