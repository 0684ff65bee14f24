"""Reading a system's webhooks: every read goes through accounts/policy.py. Outsiders get 404
(the system is not theirs to know of), the system's people who are not its lead 403."""

from __future__ import annotations

import uuid

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Max, Q, QuerySet
from django.http import Http404

from accounts import policy
from accounts.selectors import system_get
from webhooks.models import Delivery, Endpoint


def system_for_webhooks(user, code: str):
    system = system_get(user, code)  # 404 for outsiders
    if not policy.can_manage_webhooks(user, system):
        raise PermissionDenied("A system's webhooks are for its lead.")
    return system


def endpoints_for(user, system) -> QuerySet[Endpoint]:
    if not policy.can_manage_webhooks(user, system):
        return Endpoint.objects.none()
    return Endpoint.objects.filter(system=system).select_related("created_by").annotate(
        delivered=Count("deliveries", filter=Q(deliveries__status=Delivery.Status.DELIVERED)),
        failing=Count("deliveries", filter=~Q(deliveries__status=Delivery.Status.DELIVERED)
                      & Q(deliveries__attempts__gt=0)),
        last_delivery=Max("deliveries__created_at"),
    )  # fmt: skip


def endpoint_get(user, system, pk: int) -> Endpoint:
    endpoint = endpoints_for(user, system).filter(pk=pk).first()
    if endpoint is None:
        raise Http404("No such webhook.")
    return endpoint


def deliveries_for(user, endpoint: Endpoint) -> QuerySet[Delivery]:
    if not policy.can_manage_webhooks(user, endpoint.system):
        return Delivery.objects.none()
    return endpoint.deliveries.prefetch_related("tries")


def delivery_get(user, endpoint: Endpoint, webhook_id: str) -> Delivery:
    """A delivery by its id as sent (msg_ and 32 hex digits)."""
    try:
        uid = uuid.UUID(hex=webhook_id.removeprefix("msg_"))
    except ValueError:
        raise Http404("No such delivery.") from None
    delivery = deliveries_for(user, endpoint).filter(uid=uid).first()
    if delivery is None:
        raise Http404("No such delivery.")
    return delivery
