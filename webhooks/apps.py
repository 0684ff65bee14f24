from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    """Telling a system's finance systems when something happens: signed HTTPS calls."""

    name = "webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from webhooks.registrations import register

        register()
