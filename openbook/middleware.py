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
    """A form or query carrying a NUL character is refused with a message: PostgreSQL cannot
    store one in text, so it would otherwise end as a server error after the checks passed.
    (The API's fields refuse it themselves, as DRF's character fields do.)"""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.shortcuts import render

        json = request.content_type == "application/json"
        values = [v for _, vs in request.GET.lists() for v in vs]
        if request.method == "POST" and not json:
            values += [v for _, vs in request.POST.lists() for v in vs]
        if any("\x00" in v for v in values):
            return render(request, "400.html", status=400)
        return self.get_response(request)


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
        if signed_in or request.path.startswith("/api/"):
            add_never_cache_headers(response)  # no-store, private, and an Expires now
        return response
