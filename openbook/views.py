"""Platform pages."""

from csp.decorators import csp_update
from django.utils.decorators import method_decorator
from drf_spectacular.views import SpectacularRedocView


@method_decorator(
    # Redoc styles itself with inline <style> and runs its search in a blob: worker; this
    # page alone is allowed both. Everything else keeps the strict policy.
    csp_update({"style-src": ["'unsafe-inline'"], "worker-src": ["blob:"]}),
    name="get",
)
class ApiDocsView(SpectacularRedocView):
    """The API reference, rendered by Redoc served from our own origin."""

    template_name = "openbook/api_docs.html"
