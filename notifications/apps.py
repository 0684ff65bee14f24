from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    """Telling people when something starts waiting on them: in the app and by e-mail."""

    name = "notifications"
    default_auto_field = "django.db.models.BigAutoField"
