"""A system's webhooks through the API, for its lead: register, change, remove, new secret, a
test event, what was delivered, and sending a delivery again. The pages' services, policy and
audit."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from openbook.api import PAGE_PARAMETERS, Pagination, paginated
from webhooks import selectors, services
from webhooks.api.serializers import (
    DeliverySerializer,
    EndpointChangeSerializer,
    EndpointInputSerializer,
    EndpointSerializer,
    EndpointWithSecretSerializer,
    delivery_data,
    endpoint_data,
)


class _WebhookView(APIView):
    def endpoint(self, request, code, pk):
        system = selectors.system_for_webhooks(request.user, code)
        return selectors.endpoint_get(request.user, system, pk)


class EndpointList(APIView):
    """The system's webhooks (its lead only); POST registers one and returns its secret."""

    @extend_schema(responses=EndpointSerializer(many=True))
    def get(self, request, code):
        system = selectors.system_for_webhooks(request.user, code)
        return Response([endpoint_data(e) for e in selectors.endpoints_for(request.user, system)])

    @extend_schema(request=EndpointInputSerializer, responses={201: EndpointWithSecretSerializer})
    def post(self, request, code):
        system = selectors.system_for_webhooks(request.user, code)
        incoming = EndpointInputSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        endpoint = services.endpoint_create(actor=request.user, system=system,
                                            **incoming.validated_data)  # fmt: skip
        endpoint = selectors.endpoint_get(request.user, system, endpoint.pk)
        return Response(endpoint_data(endpoint, secret=True), status=201)


class EndpointDetail(_WebhookView):
    """One webhook; PATCH changes its address, events, description or turns it off and on;
    DELETE removes it with its delivery records."""

    @extend_schema(responses=EndpointSerializer)
    def get(self, request, code, pk):
        return Response(endpoint_data(self.endpoint(request, code, pk)))

    @extend_schema(request=EndpointChangeSerializer, responses=EndpointSerializer)
    def patch(self, request, code, pk):
        endpoint = self.endpoint(request, code, pk)
        incoming = EndpointChangeSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        changes = dict(incoming.validated_data)
        if "active" in changes:
            changes["is_active"] = changes.pop("active")
        if "revision" in changes:
            changes["expected_revision"] = changes.pop("revision")
        services.endpoint_update(actor=request.user, endpoint=endpoint, **changes)
        return Response(endpoint_data(self.endpoint(request, code, pk)))

    @extend_schema(responses={204: None})
    def delete(self, request, code, pk):
        services.endpoint_remove(actor=request.user, endpoint=self.endpoint(request, code, pk))
        return Response(status=204)


class EndpointRotateSecret(_WebhookView):
    """A new signing secret, used from the next attempt on; the old one stops at once."""

    @extend_schema(request=None, responses=EndpointWithSecretSerializer)
    def post(self, request, code, pk):
        endpoint = services.endpoint_rotate_secret(
            actor=request.user, endpoint=self.endpoint(request, code, pk)
        )
        return Response(endpoint_data(self.endpoint(request, code, endpoint.pk), secret=True))


class EndpointPing(_WebhookView):
    """Send a test event (webhook.ping) now; returns its delivery, to follow in the list."""

    @extend_schema(request=None, responses={202: DeliverySerializer})
    def post(self, request, code, pk):
        delivery = services.endpoint_ping(
            actor=request.user, endpoint=self.endpoint(request, code, pk)
        )
        return Response(delivery_data(delivery), status=202)


class DeliveryList(_WebhookView):
    """What was sent to this webhook, newest first, with every attempt and its answer."""

    pagination_class = Pagination

    @extend_schema(responses=paginated(DeliverySerializer), parameters=PAGE_PARAMETERS)
    def get(self, request, code, pk):
        endpoint = self.endpoint(request, code, pk)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            selectors.deliveries_for(request.user, endpoint), request, view=self
        )
        return paginator.get_paginated_response([delivery_data(d) for d in page])


class DeliveryResend(_WebhookView):
    """Send a delivery again now (once, with the same id)."""

    @extend_schema(request=None, responses={202: DeliverySerializer})
    def post(self, request, code, pk, delivery_id):
        endpoint = self.endpoint(request, code, pk)
        delivery = selectors.delivery_get(request.user, endpoint, delivery_id)
        return Response(
            delivery_data(services.delivery_resend(actor=request.user, delivery=delivery)),
            status=202,
        )
