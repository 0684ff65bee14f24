"""What the webhooks API reads and returns. Times are ISO 8601; the signing secret is returned
only when it is made (on registering, and on asking for a new one)."""

from __future__ import annotations

import json

from rest_framework import serializers

from webhooks.models import SUBSCRIBABLE, Delivery, Endpoint

EVENTS = [(e.value, e.label) for e in SUBSCRIBABLE]


class EndpointInputSerializer(serializers.Serializer):
    url = serializers.CharField(
        max_length=500,
        help_text="Where to send events: an https:// address, called with POST. Redirects "
        "are not followed; addresses on a private network are refused.",
    )
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENTS), min_length=1, max_length=len(EVENTS)
    )
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)


class EndpointChangeSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=500, required=False)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENTS), min_length=1, max_length=len(EVENTS),
        required=False,
    )  # fmt: skip
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    active = serializers.BooleanField(
        required=False,
        help_text="False turns the webhook off, a pause: events wait and are sent once it is on.",
    )
    revision = serializers.IntegerField(
        required=False,
        help_text="The revision you read: if the webhook has changed since, nothing is changed "
        "and the answer is 409.",
    )


class EndpointSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.CharField()
    description = serializers.CharField()
    events = serializers.ListField(child=serializers.ChoiceField(choices=EVENTS))
    active = serializers.BooleanField()
    revision = serializers.IntegerField()
    created_by = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    delivered = serializers.IntegerField(help_text="Deliveries the receiver accepted.")
    failing = serializers.IntegerField(
        help_text="Deliveries tried and not (yet) accepted: failed, or waiting for a retry."
    )
    last_delivery = serializers.DateTimeField(allow_null=True)


class EndpointWithSecretSerializer(EndpointSerializer):
    secret = serializers.CharField(
        help_text="The signing secret, whsec_ and base64 (Standard Webhooks): every delivery's "
        "webhook-signature header is v1, and the base64 HMAC-SHA256, under the decoded "
        "secret, of webhook-id, webhook-timestamp and the body joined by full stops."
    )


class AttemptSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    at = serializers.DateTimeField()
    status_code = serializers.IntegerField(allow_null=True)
    error = serializers.CharField()
    response = serializers.CharField(help_text="The start of the receiver's answer.")
    duration_ms = serializers.IntegerField()


class DeliverySerializer(serializers.Serializer):
    id = serializers.CharField(help_text="The webhook-id header: the same on every attempt.")
    event = serializers.CharField()
    status = serializers.ChoiceField(choices=Delivery.Status.choices)
    attempts = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    delivered_at = serializers.DateTimeField(allow_null=True)
    payload = serializers.JSONField(help_text="The body sent, as JSON.")
    tries = AttemptSerializer(many=True)


def endpoint_data(endpoint: Endpoint, *, secret: bool = False) -> dict:
    data = {
        "id": endpoint.pk,
        "url": endpoint.url,
        "description": endpoint.description,
        "events": list(endpoint.events),
        "active": endpoint.is_active,
        "revision": endpoint.revision,
        "created_by": endpoint.created_by.email if endpoint.created_by else None,
        "created_at": endpoint.created_at,
        "delivered": getattr(endpoint, "delivered", 0),
        "failing": getattr(endpoint, "failing", 0),
        "last_delivery": getattr(endpoint, "last_delivery", None),
    }
    if secret:
        data["secret"] = endpoint.secret
    return data


def delivery_data(delivery: Delivery) -> dict:
    return {
        "id": delivery.webhook_id,
        "event": delivery.event,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "created_at": delivery.created_at,
        "next_attempt_at": delivery.next_attempt_at,
        "delivered_at": delivery.delivered_at,
        "payload": json.loads(delivery.body),
        "tries": [
            {"number": t.number, "at": t.at, "status_code": t.status_code, "error": t.error,
             "response": t.response, "duration_ms": t.duration_ms}
            for t in delivery.tries.all()
        ],
    }  # fmt: skip
