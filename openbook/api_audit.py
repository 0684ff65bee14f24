"""A system's audit chain through the API: its events (filtered like the timeline, paginated)
and the chain's verification."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.selectors import system_get
from openbook import trail
from openbook.api import PAGE_PARAMETERS, Pagination, paginated


class AuditEventSerializer(serializers.Serializer):
    chain = serializers.CharField()
    seq = serializers.IntegerField()
    occurred_at = serializers.CharField()
    actor_id = serializers.IntegerField(allow_null=True)
    actor_label = serializers.CharField(allow_blank=True)
    organisation_id = serializers.IntegerField(allow_null=True)
    system_id = serializers.IntegerField(allow_null=True)
    action = serializers.CharField()
    object_type = serializers.CharField(allow_blank=True)
    object_id = serializers.CharField(allow_blank=True)
    before = serializers.JSONField(allow_null=True)
    after = serializers.JSONField(allow_null=True)
    payload = serializers.JSONField(allow_null=True)
    reason = serializers.CharField(allow_blank=True)
    request_id = serializers.CharField(allow_blank=True)
    prev_hash = serializers.CharField()
    hash = serializers.CharField()


class VerificationSerializer(serializers.Serializer):
    chain = serializers.CharField()
    events = serializers.IntegerField()
    ok = serializers.BooleanField()
    broken_seq = serializers.IntegerField(allow_null=True)
    problem = serializers.CharField(allow_blank=True)
    algorithm = serializers.CharField()


class AuditEvents(APIView):
    """The system's audit events, oldest first, each with the fields its hash covers."""

    @extend_schema(
        parameters=[
            OpenApiParameter("kind", str, description="agreement, settlement, transfer, …"),
            OpenApiParameter("organisation", str, description="An ODS code."),
            OpenApiParameter("person", str, description="Part of the actor's e-mail."),
            OpenApiParameter("since", str, description="YYYY-MM-DD"),
            OpenApiParameter("until", str, description="YYYY-MM-DD"),
            *PAGE_PARAMETERS,
        ],
        responses=paginated(AuditEventSerializer),
    )
    def get(self, request, code):
        system = system_get(request.user, code)
        events = trail.audit_events_for(request.user, system)
        filtered = trail.TimelineFilter(request.query_params, queryset=events, system=system)
        if not filtered.is_valid():
            from rest_framework.exceptions import ValidationError

            raise ValidationError(filtered.errors)
        paginator = Pagination()
        page = paginator.paginate_queryset(filtered.qs.order_by("seq"), request, view=self)
        rows = trail.export_rows_list(page)
        return paginator.get_paginated_response(AuditEventSerializer(rows, many=True).data)


class AuditVerify(APIView):
    """Recompute the system's chain from its first event: ok, or the first broken link."""

    @extend_schema(responses=VerificationSerializer)
    def get(self, request, code):
        system = system_get(request.user, code)
        report = trail.verify(request.user, system)
        return Response(
            VerificationSerializer(
                {
                    "chain": report.chain,
                    "events": report.events,
                    "ok": report.ok,
                    "broken_seq": report.broken_seq,
                    "problem": report.problem,
                    "algorithm": trail.ALGORITHM,
                }  # fmt: skip
            ).data
        )


urlpatterns = [
    path("systems/<slug:code>/audit/", AuditEvents.as_view(), name="api_audit_events"),
    path("systems/<slug:code>/audit/verify/", AuditVerify.as_view(), name="api_audit_verify"),
]
