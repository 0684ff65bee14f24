"""Registering a system's webhooks, raising events, and delivering them.

Events are raised inside the service transaction that made the change (`emit`), as delivery
rows: a change that is refused or rolled back sends nothing, and one that commits is sent at
least once, by the worker after the commit, or by the sweep if that message was lost. Each
delivery goes to the address the lead registered and nowhere else, signed as Standard Webhooks
describes (HMAC-SHA256 over id, timestamp and body), and is retried with growing waits until
the receiver answers 2xx or the retries run out.
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import json
import logging
import secrets
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx
from celery import current_app
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from accounts import policy
from openbook.audit import audit_record
from webhooks.models import SUBSCRIBABLE, Attempt, Delivery, Endpoint, Event

if TYPE_CHECKING:
    from accounts.models import System, User

log = logging.getLogger(__name__)
DELIVER_TASK = "webhooks.deliver"
MAX_ENDPOINTS = 10  # per system: each event is sent to every one
SWEEP_BATCH = 500
USER_AGENT = "Openbook-Webhooks/1"


# --- the lead's endpoints ---------------------------------------------------------------------


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _private(host: str) -> bool:
    """Whether the host names this machine or a private network, where a delivery could reach
    services never meant to be called from outside."""
    if host.lower() in {"localhost", "localhost.localdomain"} or host.lower().endswith(
        ".localhost"
    ):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return not address.is_global


def check_url(raw: str) -> str:
    """The address as it will be called, or a ValidationError that says what to change."""
    url = (raw or "").strip()
    if not url:
        raise ValidationError({"url": "Give the address to send events to, starting https://."})
    if len(url) > 500:
        raise ValidationError({"url": "The address is longer than 500 characters."})
    parts = urlsplit(url)
    if parts.scheme not in {"https", "http"} or not parts.hostname:
        raise ValidationError({"url": "Give the full address, starting https://."})
    if parts.username or parts.password:
        raise ValidationError(
            {
                "url": "Leave the user name and password out of the address: "
                "every delivery is signed, for the receiver to check."
            }
        )
    if parts.fragment:
        raise ValidationError({"url": "Leave out the part after #: it is never sent."})
    private = _private(parts.hostname)
    if parts.scheme == "http" and not (private and settings.WEBHOOKS_ALLOW_PRIVATE_HOSTS):
        raise ValidationError({"url": "Use an https:// address: deliveries carry your "
                               "system's figures and must be encrypted on the way."})  # fmt: skip
    if private and not settings.WEBHOOKS_ALLOW_PRIVATE_HOSTS:
        raise ValidationError({"url": f"{parts.hostname} is a private or local address; "
                               "give one your finance system can be reached at."})  # fmt: skip
    return url


def check_events(raw: Iterable[str]) -> list[str]:
    chosen = [str(e).strip() for e in raw]
    known = {e.value for e in SUBSCRIBABLE}
    unknown = [e for e in chosen if e not in known]
    if unknown:
        raise ValidationError({"events": f"Unknown event {', '.join(unknown)}: choose from "
                                         f"{', '.join(sorted(known))}."})  # fmt: skip
    if not chosen:
        raise ValidationError({"events": "Choose at least one event to send."})
    return sorted(set(chosen), key=[e.value for e in SUBSCRIBABLE].index)


def _check_lead(actor: User, system: System) -> None:
    if not policy.can_manage_webhooks(actor, system):
        raise PermissionDenied("A system's webhooks are set up by its lead.")


def _settings(endpoint: Endpoint) -> dict:
    return {"url": endpoint.url, "events": list(endpoint.events),
            "description": endpoint.description, "active": endpoint.is_active}  # fmt: skip


@transaction.atomic
def endpoint_create(
    *, actor: User, system: System, url: str, events: Iterable[str], description: str = ""
) -> Endpoint:
    """Register an address for the system's events, with a new signing secret. Audited."""
    _check_lead(actor, system)
    url, events = check_url(url), check_events(events)
    if Endpoint.objects.select_for_update().filter(system=system).count() >= MAX_ENDPOINTS:
        raise ValidationError(f"A system can have {MAX_ENDPOINTS} webhooks; remove one first.")
    endpoint = Endpoint.objects.create(system=system, url=url, events=events,
                                       description=description.strip()[:200],
                                       secret=new_secret(), created_by=actor)  # fmt: skip
    audit_record(action="webhook.registered", actor=actor, system=system, obj=endpoint,
                 after=_settings(endpoint))  # fmt: skip
    return endpoint


@transaction.atomic
def endpoint_update(
    *, actor: User, endpoint: Endpoint, url: str | None = None,
    events: Iterable[str] | None = None, description: str | None = None,
    is_active: bool | None = None,
) -> Endpoint:  # fmt: skip
    """Change what is sent where, or turn the webhook off and on. Audited."""
    _check_lead(actor, endpoint.system)
    endpoint = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
    before = _settings(endpoint)
    if url is not None:
        endpoint.url = check_url(url)
    if events is not None:
        endpoint.events = check_events(events)
    if description is not None:
        endpoint.description = description.strip()[:200]
    if is_active is not None:
        endpoint.is_active = is_active
    endpoint.save()
    if _settings(endpoint) != before:
        audit_record(action="webhook.changed", actor=actor, system=endpoint.system,
                     obj=endpoint, before=before, after=_settings(endpoint))  # fmt: skip
    return endpoint


@transaction.atomic
def endpoint_remove(*, actor: User, endpoint: Endpoint) -> None:
    """Remove the webhook and its delivery records. Audited (the trail keeps its address)."""
    _check_lead(actor, endpoint.system)
    audit_record(action="webhook.removed", actor=actor, system=endpoint.system, obj=endpoint,
                 before=_settings(endpoint))  # fmt: skip
    endpoint.delete()


@transaction.atomic
def endpoint_rotate_secret(*, actor: User, endpoint: Endpoint) -> Endpoint:
    """A new signing secret, in use from the next attempt on. Audited (not the secret)."""
    _check_lead(actor, endpoint.system)
    endpoint = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
    endpoint.secret = new_secret()
    endpoint.save(update_fields=["secret", "updated_at"])
    audit_record(action="webhook.secret_rotated", actor=actor, system=endpoint.system,
                 obj=endpoint)  # fmt: skip
    return endpoint


@transaction.atomic
def endpoint_ping(*, actor: User, endpoint: Endpoint) -> Delivery:
    """Send a test event now, whatever the webhook is subscribed to."""
    _check_lead(actor, endpoint.system)
    data = {"message": "A test event, sent from Openbook by the system's lead."}
    [delivery] = _create([endpoint], Event.PING, endpoint.system.code, data, {})
    audit_record(action="webhook.test_sent", actor=actor, system=endpoint.system, obj=endpoint,
                 payload={"delivery": delivery.webhook_id})  # fmt: skip
    return delivery


@transaction.atomic
def delivery_resend(*, actor: User, delivery: Delivery) -> Delivery:
    """Send a delivery again now, once, with the same id (so the receiver can tell)."""
    _check_lead(actor, delivery.endpoint.system)
    delivery = Delivery.objects.select_for_update().select_related("endpoint").get(pk=delivery.pk)
    if not delivery.endpoint.is_active:
        raise ValidationError("Turn the webhook on before sending anything again.")
    if delivery.status == Delivery.Status.PENDING and delivery.attempts == 0:
        raise ValidationError("This delivery has not been tried yet: it is on its way.")
    delivery.status, delivery.next_attempt_at = Delivery.Status.PENDING, timezone.now()
    delivery.save(update_fields=["status", "next_attempt_at"])
    audit_record(action="webhook.resent", actor=actor, system=delivery.endpoint.system,
                 obj=delivery.endpoint, payload={"delivery": delivery.webhook_id})  # fmt: skip
    _send_after_commit([delivery.pk])
    return delivery


# --- raising events ---------------------------------------------------------------------------


def _absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _send_after_commit(ids: list[int]) -> None:
    def send() -> None:
        for pk in ids:
            current_app.send_task(DELIVER_TASK, args=[pk])

    # Robust: a broker that is down must not fail a change already made; the sweep sends them.
    transaction.on_commit(send, robust=True)


def _create(endpoints, event: Event, system_code: str, data: dict, links: dict) -> list[Delivery]:
    now = timezone.now()
    deliveries = []
    for endpoint in endpoints:
        delivery = Delivery(endpoint=endpoint, event=event, next_attempt_at=now)
        delivery.body = json.dumps(
            {"id": delivery.webhook_id, "type": str(event), "timestamp": now.isoformat(),
             "system": system_code, "data": data,
             "links": {name: _absolute(path) for name, path in links.items()}},
            cls=DjangoJSONEncoder,
        )  # fmt: skip
        deliveries.append(delivery)
    Delivery.objects.bulk_create(deliveries)
    _send_after_commit([d.pk for d in deliveries])
    return deliveries


def emit(event: Event, system: System, data: dict, links: dict | None = None) -> int:
    """Raise an event for the system's webhooks that want it: called inside the change's
    transaction. `data` names what happened (ids, codes, figures as strings); `links` are
    paths on this site, sent as full addresses. Returns how many deliveries it made."""
    endpoints = Endpoint.objects.filter(system=system, is_active=True, events__contains=[event])
    return len(_create(list(endpoints), event, system.code, data, links or {}))


# --- delivering -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    status_code: int | None
    error: str
    response: str
    duration_ms: int

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def signed_headers(secret: str, webhook_id: str, body: str, at: dt.datetime, event: str) -> dict:
    """The Standard Webhooks headers for one attempt: the signature covers the id, the
    attempt's time (so an old call cannot be replayed) and the body."""
    signature = Webhook(secret).sign(msg_id=webhook_id, timestamp=at, data=body)
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
        "openbook-event": event,
    }


def _resolves_private(host: str) -> bool:
    if _private(host):
        return True
    try:
        found = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError:
        return False  # the call itself will fail and say so
    return any(_private(str(info[4][0]).split("%")[0]) for info in found)


def _post(endpoint: Endpoint, delivery: Delivery) -> Answer:
    started = time.monotonic()

    def took() -> int:
        return int((time.monotonic() - started) * 1000)

    host = urlsplit(endpoint.url).hostname or ""
    if not settings.WEBHOOKS_ALLOW_PRIVATE_HOSTS and _resolves_private(host):
        return Answer(None, f"Not sent: {host} now points to a private address.", "", took())
    at = dt.datetime.now(dt.UTC).replace(microsecond=0)
    headers = signed_headers(endpoint.secret, delivery.webhook_id, delivery.body, at,
                             delivery.event)  # fmt: skip
    client = httpx.Client(timeout=settings.WEBHOOKS_TIMEOUT_SECONDS, follow_redirects=False)
    try:
        with client, client.stream("POST", endpoint.url, content=delivery.body.encode(),
                                   headers=headers) as response:  # fmt: skip
            start = b""
            for chunk in response.iter_bytes():  # only the answer's start is kept
                start += chunk
                if len(start) >= 500:
                    break
            text = start[:500].decode("utf-8", "replace")
            error = ""
            if response.is_redirect:
                error = (f"The receiver answered {response.status_code}, a redirect; redirects "
                         "are not followed: register the address it gives.")  # fmt: skip
            elif not response.is_success:
                error = f"The receiver answered {response.status_code}."
            return Answer(response.status_code, error, text, took())
    except httpx.TimeoutException:
        limit = settings.WEBHOOKS_TIMEOUT_SECONDS
        return Answer(None, f"No answer within {limit:g} seconds.", "", took())
    except httpx.HTTPError as exc:
        return Answer(None, f"Could not connect: {exc}"[:500], "", took())


def retry_waits() -> list[int]:
    return [int(s) for s in settings.WEBHOOKS_RETRY_SECONDS]


def deliver(delivery_id: int) -> tuple[str, float | None]:
    """One attempt at a delivery that is due. Returns its status and, when another attempt
    follows, how many seconds from now. Safe to call twice: the row is locked while the call
    is made, a delivery not yet due or already done is left alone."""
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("endpoint")
            .filter(pk=delivery_id, status=Delivery.Status.PENDING)
            .first()
        )
        if delivery is None:
            return "not pending", None
        now = timezone.now()
        if delivery.next_attempt_at and delivery.next_attempt_at > now + dt.timedelta(seconds=1):
            return "not due", None  # the attempt before it queued the next one
        endpoint = delivery.endpoint
        if endpoint.is_active:
            answer = _post(endpoint, delivery)
        else:
            answer = Answer(None, "Not sent: the webhook is turned off.", "", 0)
        delivery.attempts += 1
        Attempt.objects.create(delivery=delivery, number=delivery.attempts, at=now,
                               status_code=answer.status_code, error=answer.error[:500],
                               response=answer.response[:500],
                               duration_ms=answer.duration_ms)  # fmt: skip
        waits = retry_waits()
        wait: float | None = None
        if answer.succeeded:
            delivery.status, delivery.delivered_at = Delivery.Status.DELIVERED, timezone.now()
            delivery.next_attempt_at = None
        elif not endpoint.is_active or delivery.attempts > len(waits):
            delivery.status, delivery.next_attempt_at = Delivery.Status.FAILED, None
        else:
            wait = waits[min(delivery.attempts, len(waits)) - 1]
            delivery.next_attempt_at = timezone.now() + dt.timedelta(seconds=wait)
        delivery.save(update_fields=["status", "attempts", "next_attempt_at", "delivered_at"])
    if delivery.status == Delivery.Status.FAILED:
        log.warning("webhook delivery %s to %s failed after %s attempts",
                    delivery.webhook_id, endpoint.url, delivery.attempts)  # fmt: skip
    return delivery.status, wait


def due(grace_seconds: int = 60) -> list[int]:
    """Deliveries whose next attempt is overdue (their message to the worker was lost)."""
    late = timezone.now() - dt.timedelta(seconds=grace_seconds)
    return list(
        Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=late)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
