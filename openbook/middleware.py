"""Request ids: taken from a trusted proxy's X-Request-ID when well formed, else made here."""

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
