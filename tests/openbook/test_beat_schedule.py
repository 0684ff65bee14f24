"""Every task beat sends can be sent: Celery refuses a task whose soft time limit (its own, or
the default) is above its hard one, and beat then never sends it, saying so only in its log."""

from django.conf import settings

from openbook.celery import app


def test_every_scheduled_task_has_a_soft_limit_within_its_hard_one():
    app.loader.import_default_modules()
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        task = app.tasks[entry["task"]]
        hard = task.time_limit or settings.CELERY_TASK_TIME_LIMIT
        soft = task.soft_time_limit or settings.CELERY_TASK_SOFT_TIME_LIMIT
        assert soft <= hard, f"{name}: soft limit {soft} s is above the hard limit {hard} s"
