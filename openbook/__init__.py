"""Openbook: the platform package (settings, urls, Celery app, audit trail, embedded runtime)."""

from openbook.celery import app as celery_app

__all__ = ["celery_app"]
