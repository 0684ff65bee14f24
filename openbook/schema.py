"""The API's OpenAPI schema class. Apart from openbook/api.py because drf-spectacular's
AutoSchema imports DRF's generic views, which read the pagination class from openbook/api.py
as they load."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse

from openbook.api import ErrorSerializer

ERRORS = {
    "400": "Invalid: nothing was stored; `fields` or `problems` say why.",
    "401": "Not signed in: no token, or one that has expired or been revoked.",
    "403": "Signed in, but not allowed to do this.",
    "404": "Not found, or not visible to you.",
    "429": "Too many requests: wait (see Retry-After) and try again.",
}
WRITE_ERRORS = {"409": "Someone else changed it first; nothing was stored."}


class Schema(AutoSchema):
    """Every operation documents the errors it can answer, in the one shape this module's
    exception handler gives them, beside its successful answer."""

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        errors = dict(ERRORS)
        if self.method in ("POST", "PUT", "PATCH", "DELETE"):
            errors |= WRITE_ERRORS
        for code, description in errors.items():
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    OpenApiResponse(ErrorSerializer, description=description), code,
                    direction=direction,
                )  # fmt: skip
        return responses
