from django.apps import AppConfig


class OpenbookConfig(AppConfig):
    """The platform app: audit trail, health check, runtime and platform commands."""

    name = "openbook"
    verbose_name = "Openbook platform"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from openbook import registry
        from openbook.checkpoints import known_keys
        from openbook.client_address import trusted_networks

        registry.register_actions(
            {"audit": "Audit trail"},
            {"audit.checkpoints_issued": "Signed checkpoints of the audit trail issued"},
        )
        # A wrong TRUSTED_PROXIES entry, or an audit key that cannot be read, stops the start
        # rather than failing requests later.
        trusted_networks()
        known_keys()
