from django.apps import AppConfig


class OpenbookConfig(AppConfig):
    """The platform app: audit trail, health check, runtime and platform commands."""

    name = "openbook"
    verbose_name = "Openbook platform"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from openbook import registry
        from openbook.client_address import trusted_networks

        registry.register_actions(
            {"audit": "Audit trail"},
            {"audit.checkpoints_issued": "Signed checkpoints of the audit trail issued"},
        )
        trusted_networks()  # a wrong TRUSTED_PROXIES entry stops the start, not a request later
