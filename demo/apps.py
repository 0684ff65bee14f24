from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo and national seeds and the benchmarks, with their commands."""

    name = "demo"
    default_auto_field = "django.db.models.BigAutoField"
