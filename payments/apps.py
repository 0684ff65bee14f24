from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    """Control totals and transfers; funds, actuals, risk-share agreements and settlements."""

    name = "payments"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from payments.registrations import register

        register()
