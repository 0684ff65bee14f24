from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Users, regions, systems, organisations, memberships and the access policy."""

    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.core import checks

        from accounts import (
            receivers,  # noqa: F401  (connects the login audit receivers)
            rowsecurity,
        )
        from accounts.api import schema  # noqa: F401  (registers the token auth in the schema)
        from accounts.registrations import register
        from accounts.sso import check_configuration

        checks.register(check_configuration)

        register()
        rowsecurity.connect()
