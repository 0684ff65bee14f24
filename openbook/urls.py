from django.conf import settings
from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from accounts.rowsecurity import no_tenant_data
from openbook.api import router
from openbook.health import healthz
from openbook.views import (
    ApiDocsView,
    audit_checkpoint,
    audit_checkpoint_kept,
    audit_export,
    audit_signing_key,
    audit_timeline,
    home,
)

admin.site.site_header = "Openbook administration"


def admin_login(request):
    """The admin's own password form, while passwords are used; otherwise Openbook's sign-in
    page (single sign-on), which comes back to the admin."""
    if settings.PASSWORD_SIGN_IN:
        return admin.site.login(request)
    return redirect_to_login(request.GET.get("next") or "/admin/")


admin.site.site_title = "Openbook administration"

api_v1 = [
    # Each app's api/urls.py registers its viewsets on the shared router as it is included,
    # so the apps come before router.urls.
    path("", include("accounts.api.urls")),
    path("", include("plans.api.urls")),
    path("", include("payments.api.urls")),
    path("", include("webhooks.api.urls")),
    path("", include("openbook.api_audit")),
    path("schema/", no_tenant_data(SpectacularAPIView.as_view()), name="api_schema"),
    path("docs/", ApiDocsView.as_view(url_name="api_schema"), name="api_docs"),
    path("", include(router.urls)),
]

urlpatterns = [
    path("", home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("systems/<slug:code>/audit/", audit_timeline, name="audit_timeline"),
    path("systems/<slug:code>/audit.<str:fmt>", audit_export, name="audit_export"),
    path("systems/<slug:code>/audit/checkpoint.json", audit_checkpoint, name="audit_checkpoint"),
    path(
        "systems/<slug:code>/audit/checkpoints/<int:pk>.json",
        audit_checkpoint_kept,
        name="audit_checkpoint_kept",
    ),  # fmt: skip
    path("audit/signing-key.pem", audit_signing_key, name="audit_signing_key"),
    path("admin/login/", admin_login),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    # Payments first: its round-level pages sit beside the plans' "rounds/<slug>/<ods>/".
    path("", include("payments.urls")),
    path("", include("plans.urls")),
    path("", include("notifications.urls")),
    path("", include("webhooks.urls")),
    path("", include("accounts.urls")),
]
