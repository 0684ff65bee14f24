"""The API's shared parts: one router, one error format, pagination, token authentication."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter
from rest_framework.views import exception_handler as drf_exception_handler

from accounts.policy import SecondFactorRequired
from openbook.errors import Conflict, ProblemList, shown

router = DefaultRouter()


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500


# The query a paged list takes (as Pagination reads it), for views that page by hand.
PAGE_PARAMETERS = [
    OpenApiParameter("page", int, description="Which page, from 1."),
    OpenApiParameter("page_size", int, description="How many to a page (50 unless given; at "
                     "most 500)."),
]  # fmt: skip


def paginated(serializer: type[serializers.Serializer]) -> serializers.Serializer:
    """The schema of a page of `serializer`'s items as Pagination answers it, for views that
    page by hand (an APIView is not paged in the schema by itself)."""
    name = serializer.__name__.removesuffix("Serializer")
    return type(
        f"Paginated{name}List",
        (serializers.Serializer,),
        {
            "count": serializers.IntegerField(help_text="How many there are in all."),
            "next": serializers.URLField(allow_null=True, help_text="The next page, if any."),
            "previous": serializers.URLField(allow_null=True),
            "results": serializer(many=True),
        },
    )()


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="invalid, conflict, not_found, permission_denied, "
                                 "second_factor_required (the act needs a token made in a "
                                 "session that confirmed two-step verification), "
                                 "not_authenticated, throttled …")  # fmt: skip
    message = serializers.CharField(help_text="What went wrong, in words for a person.")
    fields = serializers.JSONField(required=False, help_text="Each invalid field and why.")
    problems = serializers.ListField(
        child=serializers.DictField(), required=False,
        help_text="A file's or a batch's problems (cell, value, problem): the first 200.",
    )  # fmt: skip
    problem_count = serializers.IntegerField(required=False, help_text="Problems in all.")
    conflicts = serializers.ListField(
        child=serializers.DictField(), required=False,
        help_text="What someone else changed first.",
    )  # fmt: skip


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


def _error_body(code: str, message: str, fields: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"error": {"code": code, "message": message}}
    if fields:
        body["error"]["fields"] = fields
    return body


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Every API error has the same shape: {"error": {"code", "message", "fields"?}}.

    Services raise Django's ValidationError and PermissionDenied; they map to 400 and 403 here
    just as they render as messages in HTML views.
    """
    if isinstance(exc, Conflict):
        body = _error_body("conflict", exc.message)
        body["error"]["conflicts"] = exc.conflicts
        return Response(body, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, ProblemList):
        body = _error_body("invalid", exc.summary)
        # The first few hundred (a file with thousands is a file to fix, not a list to read)
        body["error"]["problems"] = shown(exc.problems)
        body["error"]["problem_count"] = len(exc.problems)
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DjangoValidationError):
        fields = exc.message_dict if hasattr(exc, "error_dict") else None
        message = "; ".join(exc.messages)
        return Response(_error_body("invalid", message, fields), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, SecondFactorRequired):
        message = (f"{exc} Make a new token on the API tokens page after entering "
                   "your code: a token carries two-step verification only from then.")  # fmt: skip
        return Response(_error_body("second_factor_required", message), status=403)
    if isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = _error_body("invalid", "The request has invalid fields.", exc.detail)
    elif isinstance(exc, exceptions.APIException):
        detail = exc.detail
        message = str(detail) if not isinstance(detail, dict | list) else "Request failed."
        response.data = _error_body(str(exc.get_codes()), message)
    return response
