"""A system's audit chain through the API: its events (filtered like the timeline, paginated),
the chain's verification (on its own, or against a signed checkpoint someone kept), its head
signed now, its nightly checkpoints, and the public key that checks them."""

from __future__ import annotations

from dataclasses import asdict

from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.selectors import system_get
from openbook import checkpoints, trail
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


class CheckpointSerializer(serializers.Serializer):
    """A signed statement of a chain's head: event seq had this hash when it was issued."""

    type = serializers.CharField()
    chain = serializers.CharField()
    seq = serializers.IntegerField()
    hash = serializers.CharField()
    issued_at = serializers.CharField()
    key_id = serializers.CharField()
    signature = serializers.CharField(help_text="Ed25519, base64.")
    algorithm = serializers.CharField(required=False)
    public_key = serializers.CharField(required=False)
    how_to_check = serializers.CharField(required=False)


class CheckpointCheckSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=["intact", "truncated", "rewritten", "broken", "bad_signature", "other_chain"]
    )
    ok = serializers.BooleanField()
    message = serializers.CharField()
    chain = serializers.CharField(allow_blank=True)
    checkpoint_seq = serializers.IntegerField(allow_null=True)
    events = serializers.IntegerField(help_text="Where the chain ends now.")
    since = serializers.IntegerField(help_text="Events written after the checkpoint.")


class SigningKeySerializer(serializers.Serializer):
    algorithm = serializers.CharField()
    key_id = serializers.CharField()
    public_key = serializers.CharField(help_text="The 32 raw bytes, base64.")
    pem = serializers.CharField()
    how_to_check = serializers.CharField()


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
            raise ValidationError(filtered.errors)
        paginator = Pagination()
        page = paginator.paginate_queryset(filtered.qs.order_by("seq"), request, view=self)
        rows = trail.export_rows_list(page)
        return paginator.get_paginated_response(AuditEventSerializer(rows, many=True).data)


class AuditVerify(APIView):
    """Recompute the system's chain from its first event: ok, or the first broken link
    (including events deleted from its end). POST a checkpoint you kept (or an export of
    the trail, which carries one) to check the chain against it: intact, truncated, rewritten,
    broken, bad_signature or other_chain."""

    row_security_snapshot = True  # the chain and its head read from one snapshot

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

    @extend_schema(request=CheckpointSerializer, responses=CheckpointCheckSerializer)
    def post(self, request, code):
        system = system_get(request.user, code)
        check = trail.verify_against(request.user, system, request.data)
        if check.status == "malformed":
            raise ValidationError({"checkpoint": [check.message]})
        body = {**asdict(check), "ok": check.ok}
        return Response(CheckpointCheckSerializer(body).data)


class AuditCheckpointNow(APIView):
    """The system chain's head now, signed: keep it, and later check the chain against it.
    409 when the chain does not verify (its head is then not signed)."""

    row_security_snapshot = True

    @extend_schema(responses=CheckpointSerializer)
    def get(self, request, code):
        system = system_get(request.user, code)
        signed = trail.checkpoint_now(request.user, system)
        if signed is None:
            return Response(
                {"code": "conflict", "message": "The chain is empty or does not verify, so "
                 "its head is not signed."}, status=status.HTTP_409_CONFLICT)  # fmt: skip
        return Response(CheckpointSerializer(signed).data)


class AuditCheckpoints(APIView):
    """The system chain's nightly checkpoints, newest first."""

    @extend_schema(parameters=PAGE_PARAMETERS, responses=paginated(CheckpointSerializer))
    def get(self, request, code):
        system = system_get(request.user, code)
        paginator = Pagination()
        page = paginator.paginate_queryset(
            trail.checkpoints_kept(request.user, system), request, view=self
        )
        rows = [checkpoints.document(kept) for kept in page]
        return paginator.get_paginated_response(CheckpointSerializer(rows, many=True).data)


class AuditSigningKey(APIView):
    """The public key that checks checkpoints. Public: anyone holding a checkpoint may check
    it. Keep a copy obtained once; check later checkpoints with your copy."""

    permission_classes = [AllowAny]

    @extend_schema(responses=SigningKeySerializer)
    def get(self, request):
        key = checkpoints.public_key()
        return Response(SigningKeySerializer({
            "algorithm": checkpoints.ALGORITHM, "key_id": checkpoints.key_id_of(key),
            "public_key": checkpoints.public_key_b64(), "pem": checkpoints.public_key_pem(),
            "how_to_check": checkpoints.HOW_TO_CHECK}).data)  # fmt: skip


urlpatterns = [
    path("systems/<slug:code>/audit/", AuditEvents.as_view(), name="api_audit_events"),
    path("systems/<slug:code>/audit/verify/", AuditVerify.as_view(), name="api_audit_verify"),
    path("systems/<slug:code>/audit/checkpoint/", AuditCheckpointNow.as_view(),
         name="api_audit_checkpoint"),
    path("systems/<slug:code>/audit/checkpoints/", AuditCheckpoints.as_view(),
         name="api_audit_checkpoints"),
    path("audit/signing-key/", AuditSigningKey.as_view(), name="api_audit_signing_key"),
]  # fmt: skip
