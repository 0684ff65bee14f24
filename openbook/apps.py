from django.apps import AppConfig


class OpenbookConfig(AppConfig):
    """The platform app: audit trail, health check, runtime and platform commands."""

    name = "openbook"
    verbose_name = "Openbook platform"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from openbook.client_address import trusted_networks

        trusted_networks()  # a wrong TRUSTED_PROXIES entry stops the start, not a request later
