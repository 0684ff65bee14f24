"""Request ids (taken from a trusted proxy's X-Request-ID when well formed, else made here),
figures to more places for those who chose it, and forms carrying a NUL refused."""

import re
import uuid

from openbook.request_context import reset_request_id, set_request_id

_VALID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _VALID.match(incoming) else uuid.uuid4().hex
        request.id = request_id
        token = set_request_id(request_id)
        try:
            response = self.get_response(request)
        finally:
            reset_request_id(token)
        response["X-Request-ID"] = request_id
        return response


class FigurePlacesMiddleware:
    """Figures on this request's pages show every place kept, for a person who chose that."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from openbook import numbers

        user = getattr(request, "user", None)
        on = bool(user is not None and user.is_authenticated and user.more_places)
        with numbers.more_places(on):
            return self.get_response(request)


class RefuseNulMiddleware:
    """A request carrying a NUL character (in its path, a field's name or value) is refused
    with a message: PostgreSQL cannot store one in text, so it would otherwise end as a server
    error after the checks passed. Looked at once the request is on its way to a view (after
    the CSRF check and sign-in), so a refused cross-site post is not even read. JSON bodies are
    the API's to check."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        from django.shortcuts import render

        texts = [request.path_info]
        texts += [t for k, vs in request.GET.lists() for t in (k, *vs)]
        if request.method == "POST" and request.content_type != "application/json":
            texts += [t for k, vs in request.POST.lists() for t in (k, *vs)]
        if any("\x00" in t for t in texts):
            return render(request, "nul.html", status=400)
        return None


class NoStoreMiddleware:
    """Pages for a signed-in person, every API answer and every download are not kept by the
    browser or any cache on the way: they carry partners' figures and drafts, and a shared
    machine's back button must not show them to the next person."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.utils.cache import add_never_cache_headers

        response = self.get_response(request)
        user = getattr(request, "user", None)
        signed_in = user is not None and user.is_authenticated
        if signed_in or request.path_info.startswith("/api/"):
            add_never_cache_headers(response)  # no-store, private, and an Expires now
        return response
