"""Registering a system's webhooks, raising events, and delivering them.

Events are raised inside the service transaction that made the change (`emit`), as delivery
rows: a change that is refused or rolled back sends nothing, and one that commits is sent at
least once, by the worker after the commit, or by the sweep if that message was lost. Each
delivery goes to the address the lead registered and nowhere else (to the address its name
resolved to when checked, so a name cannot be pointed inside the network between the check
and the call), signed as Standard Webhooks describes (HMAC-SHA256 over id, timestamp and
body), and is retried with growing waits until the receiver answers 2xx or the retries run
out. An attempt is claimed, made and recorded in three steps, so no database transaction is
open while a receiver is called, and an attempt that dies half way is tried again.
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
from urllib.parse import urlsplit, urlunsplit

import httpx
from celery import current_app
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from accounts import policy
from accounts.models import System
from openbook.audit import audit_record
from openbook.errors import Conflict
from webhooks.models import SUBSCRIBABLE, Attempt, Delivery, Endpoint, Event

if TYPE_CHECKING:
    from accounts.models import User

log = logging.getLogger(__name__)
DELIVER_TASK = "webhooks.deliver"
MAX_ENDPOINTS = 10  # per system: each event is sent to every one
SWEEP_BATCH = 500
USER_AGENT = "Openbook-Webhooks/1"


# --- the lead's endpoints ---------------------------------------------------------------------


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _private_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return _private_address(address.ipv4_mapped)
        if address in NAT64:  # reaches an IPv4 address, perhaps a private one
            return _private_address(ipaddress.IPv4Address(address.packed[-4:]))
    return not address.is_global


def _private(host: str) -> bool:
    """Whether the host names this machine or a private network, where a delivery could reach
    services never meant to be called from outside."""
    host = host.lower().rstrip(".")
    if host in {"localhost", "localhost.localdomain"} or host.endswith(".localhost"):
        return True
    try:
        return _private_address(ipaddress.ip_address(host.split("%")[0]))
    except ValueError:
        return False


def check_url(raw: str) -> str:
    """The address as it will be called, or a ValidationError that says what to change."""
    url = (raw or "").strip()

    def refuse(problem: str) -> ValidationError:
        return ValidationError({"url": problem})

    if not url:
        raise refuse("Give the address to send events to, starting https://.")
    if len(url) > 500:
        raise refuse("The address is longer than 500 characters.")
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:
        raise refuse("This is not a web address: give one like https://finance.example.nhs.uk/"
                     "openbook.") from None  # fmt: skip
    if parts.scheme not in {"https", "http"} or not host:
        raise refuse("Give the full address, starting https://.")
    if port == 0:
        raise refuse("The port after the colon must be between 1 and 65535.")
    try:
        host.encode("idna")
    except UnicodeError:
        raise refuse(f"{host} is not a host name that can be looked up.") from None
    if parts.username or parts.password:
        raise refuse("Leave the user name and password out of the address: every delivery is "
                     "signed, for the receiver to check.")  # fmt: skip
    if parts.fragment:
        raise refuse("Leave out the part after #: it is never sent.")
    private = _private(host)
    if parts.scheme == "http" and not (private and settings.WEBHOOKS_ALLOW_PRIVATE_HOSTS):
        raise refuse("Use an https:// address: deliveries carry your system's figures and must "
                     "be encrypted on the way.")  # fmt: skip
    if private and not settings.WEBHOOKS_ALLOW_PRIVATE_HOSTS:
        raise refuse(f"{host} is a private or local address; give one your finance system can "
                     "be reached at.")  # fmt: skip
    return url


def shown(url: str) -> str:
    """The address for the audit trail and the logs: without its query, which may carry a
    receiver's token (partners read the trail; only the lead sees the address in full)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}" + ("?…" if parts.query else "")


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
    return {"url": shown(endpoint.url), "events": list(endpoint.events),
            "description": endpoint.description, "active": endpoint.is_active}  # fmt: skip


def _state(endpoint: Endpoint) -> tuple:
    return endpoint.url, list(endpoint.events), endpoint.description, endpoint.is_active


@transaction.atomic
def endpoint_create(
    *, actor: User, system: System, url: str, events: Iterable[str], description: str = ""
) -> Endpoint:
    """Register an address for the system's events, with a new signing secret. Audited."""
    _check_lead(actor, system)
    url, events = check_url(url), check_events(events)
    System.objects.select_for_update().get(pk=system.pk)  # one registration at a time: the limit
    if Endpoint.objects.filter(system=system).count() >= MAX_ENDPOINTS:
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
    is_active: bool | None = None, expected_revision: int | None = None,
) -> Endpoint:  # fmt: skip
    """Change what is sent where, or turn the webhook off (a pause: events wait) and on again
    (they are sent). `expected_revision`, when given, is the one the person read: if someone
    has changed it since, nothing is changed. Audited."""
    _check_lead(actor, endpoint.system)
    endpoint = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
    if expected_revision is not None and expected_revision != endpoint.revision:
        raise Conflict("Someone changed this webhook after you opened it. Nothing was saved: "
                       "look at its settings now, then change them again.")  # fmt: skip
    before, was = _settings(endpoint), _state(endpoint)
    resumed = is_active is True and not endpoint.is_active
    if url is not None:
        endpoint.url = check_url(url)
    if events is not None:
        endpoint.events = check_events(events)
    if description is not None:
        endpoint.description = description.strip()[:200]
    if is_active is not None:
        endpoint.is_active = is_active
    if _state(endpoint) != was:
        endpoint.revision += 1
        endpoint.save()
        audit_record(action="webhook.changed", actor=actor, system=endpoint.system,
                     obj=endpoint, before=before, after=_settings(endpoint))  # fmt: skip
    if resumed:  # what waited while it was off goes now
        waiting = endpoint.deliveries.filter(status=Delivery.Status.PENDING)
        waiting.update(next_attempt_at=timezone.now())
        _send_after_commit(list(waiting.values_list("pk", flat=True)[:SWEEP_BATCH]))
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
    endpoint.revision += 1
    endpoint.save(update_fields=["secret", "revision", "updated_at"])
    audit_record(action="webhook.secret_rotated", actor=actor, system=endpoint.system,
                 obj=endpoint)  # fmt: skip
    return endpoint


@transaction.atomic
def endpoint_ping(*, actor: User, endpoint: Endpoint) -> Delivery:
    """Send a test event now, whatever the webhook is subscribed to."""
    _check_lead(actor, endpoint.system)
    endpoint = Endpoint.objects.select_related("system").get(pk=endpoint.pk)
    if not endpoint.is_active:
        raise ValidationError("Turn the webhook on to send a test event.")
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
    if delivery.status == Delivery.Status.PENDING:
        raise ValidationError("This delivery is still being tried: it is on its way.")
    delivery.status, delivery.next_attempt_at = Delivery.Status.PENDING, timezone.now()
    delivery.delivered_at, delivery.budget = None, delivery.attempts + 1
    delivery.save(update_fields=["status", "next_attempt_at", "delivered_at", "budget"])
    audit_record(action="webhook.resent", actor=actor, system=delivery.endpoint.system,
                 obj=delivery.endpoint, payload={"delivery": delivery.webhook_id})  # fmt: skip
    _send_after_commit([delivery.pk])
    return delivery


# --- raising events ---------------------------------------------------------------------------


def _absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _send_after_commit(ids: list[int]) -> None:
    if not ids:
        return

    def send() -> None:
        for pk in ids:
            current_app.send_task(DELIVER_TASK, args=[pk])

    # Robust: a broker that is down must not fail a change already made; the sweep sends them.
    transaction.on_commit(send, robust=True)


def _create(endpoints, event: Event, system_code: str, data: dict, links: dict) -> list[Delivery]:
    now = timezone.now()
    deliveries = []
    for endpoint in endpoints:
        delivery = Delivery(endpoint=endpoint, event=event, next_attempt_at=now,
                            budget=1 + len(retry_waits()))  # fmt: skip
        delivery.body = json.dumps(
            {"id": delivery.webhook_id, "type": str(event), "timestamp": now.isoformat(),
             "system": system_code, "data": data,
             "links": {name: _absolute(path) for name, path in links.items()}},
            cls=DjangoJSONEncoder,
        )  # fmt: skip
        deliveries.append(delivery)
    Delivery.objects.bulk_create(deliveries)
    _send_after_commit([d.pk for d in deliveries if d.endpoint.is_active])
    return deliveries


def emit(event: Event, system: System, data: dict, links: dict | None = None) -> int:
    """Raise an event for the system's webhooks that want it: called inside the change's
    transaction. `data` names what happened (ids, codes, figures as strings); `links` are
    paths on this site, sent as full addresses. A webhook that is off keeps its events for
    when it is on again. Returns how many deliveries it made."""
    endpoints = Endpoint.objects.filter(system=system, events__contains=[event])
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
    at = at.astimezone(dt.UTC)  # the library takes the time as UTC, whatever it is given
    signature = Webhook(secret).sign(msg_id=webhook_id, timestamp=at, data=body)
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
        "openbook-event": event,
    }


class NotSent(Exception):
    """The call was not made, and why (in words for the lead)."""


def _address_for(host: str, port: int) -> str:
    """The one address the call goes to: the host's own, looked up once here, refused when it
    is private (unless allowed) or cannot be looked up."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise NotSent(f"Not sent: {host} could not be looked up.") from None
    addresses = [str(info[4][0]) for info in found]
    if not settings.WEBHOOKS_ALLOW_PRIVATE_HOSTS and (
        _private(host) or any(_private(a) for a in addresses)
    ):
        raise NotSent(f"Not sent: {host} points to a private address.")
    return addresses[0]


def _post(endpoint: Endpoint, delivery: Delivery) -> Answer:
    """One call, to the address the host name had when looked up here (the TLS certificate is
    still checked against the name): whatever happens comes back as an Answer."""
    started = time.monotonic()

    def took() -> int:
        return int((time.monotonic() - started) * 1000)

    limit = settings.WEBHOOKS_TIMEOUT_SECONDS
    try:
        parts = urlsplit(endpoint.url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        address = _address_for(host, port)
        netloc = f"[{address}]" if ":" in address else address
        path = parts.path or "/"
        pinned = urlunsplit((parts.scheme, f"{netloc}:{port}", path, parts.query, ""))
        at = dt.datetime.now(dt.UTC).replace(microsecond=0)
        headers = signed_headers(endpoint.secret, delivery.webhook_id, delivery.body, at,
                                 delivery.event)  # fmt: skip
        headers["host"] = parts.netloc  # the name registered, though the call goes by address
        # No proxies from the environment: the call goes to the address checked above.
        client = httpx.Client(timeout=limit, follow_redirects=False, trust_env=False)
        with client, client.stream("POST", pinned, content=delivery.body.encode(),
                                   headers=headers,
                                   extensions={"sni_hostname": host}) as response:  # fmt: skip
            start = b""
            for chunk in response.iter_bytes():  # only the answer's start is kept
                start += chunk
                if len(start) >= 500 or time.monotonic() - started > 2 * limit:
                    break
            text = start[:500].decode("utf-8", "replace")
            error = ""
            if response.is_redirect:
                error = (f"The receiver answered {response.status_code}, a redirect; redirects "
                         "are not followed: register the address it gives.")  # fmt: skip
            elif not response.is_success:
                error = f"The receiver answered {response.status_code}."
            return Answer(response.status_code, error, text, took())
    except NotSent as exc:
        return Answer(None, str(exc), "", took())
    except httpx.TimeoutException:
        return Answer(None, f"No answer within {limit:g} seconds.", "", took())
    except httpx.ConnectError as exc:
        secure = "certificate" in str(exc).lower() or "ssl" in str(exc).lower()
        problem = ("The secure connection failed: check the receiver's certificate." if secure
                   else "Could not connect to the receiver.")  # fmt: skip
        return Answer(None, problem, "", took())
    except Exception:  # noqa: BLE001  (anything else, even the worker's time limit: recorded)
        log.exception("webhook delivery %s failed to send", delivery.webhook_id)
        return Answer(None, "The call failed before the receiver answered.", "", took())


def retry_waits() -> list[int]:
    return [int(s) for s in settings.WEBHOOKS_RETRY_SECONDS]


def _lease() -> dt.timedelta:
    """How long an attempt under way holds its delivery: if the worker dies in the call, the
    sweep tries again once this has passed."""
    return dt.timedelta(seconds=2 * settings.WEBHOOKS_TIMEOUT_SECONDS + 60)


def _claim(delivery_id: int) -> tuple[Delivery | None, str]:
    """Take the next attempt of a delivery that is due (in a short transaction of its own)."""
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("endpoint")
            .filter(pk=delivery_id, status=Delivery.Status.PENDING)
            .first()
        )
        if delivery is None:
            return None, "not pending"
        now = timezone.now()
        if delivery.next_attempt_at and delivery.next_attempt_at > now + dt.timedelta(seconds=1):
            return None, "not due"  # the attempt before it queued the next one
        if not delivery.endpoint.is_active:
            return None, "paused"  # kept for when the webhook is on again
        if delivery.attempts >= delivery.budget:  # its last attempt was lost half way
            delivery.status, delivery.next_attempt_at = Delivery.Status.FAILED, None
            delivery.save(update_fields=["status", "next_attempt_at"])
            return None, "failed"
        delivery.attempts += 1
        delivery.next_attempt_at = now + _lease()
        delivery.save(update_fields=["attempts", "next_attempt_at"])
    return delivery, "claimed"


def deliver(delivery_id: int) -> tuple[str, float | None]:
    """One attempt at a delivery that is due: claimed, made with no transaction open, and
    recorded. Returns its status and, when another attempt follows, how many seconds from now.
    Safe to call twice: a delivery not due, under way elsewhere or done is left alone."""
    delivery, status = _claim(delivery_id)
    if delivery is None:
        return status, None
    at = timezone.now()
    answer = _post(delivery.endpoint, delivery)
    waits = retry_waits()
    with transaction.atomic():
        current = Delivery.objects.select_for_update().filter(pk=delivery.pk).first()
        if current is None:
            return "removed", None  # the webhook was removed during the call
        Attempt.objects.create(delivery=current, number=delivery.attempts, at=at,
                               status_code=answer.status_code, error=answer.error[:500],
                               response=answer.response[:500],
                               duration_ms=answer.duration_ms)  # fmt: skip
        wait: float | None = None
        if answer.succeeded:
            current.status, current.delivered_at = Delivery.Status.DELIVERED, timezone.now()
            current.next_attempt_at = None
        elif current.attempts >= current.budget:
            current.status, current.next_attempt_at = Delivery.Status.FAILED, None
        else:
            wait = waits[min(current.attempts, len(waits)) - 1] if waits else 0
            current.next_attempt_at = timezone.now() + dt.timedelta(seconds=wait)
        current.save(update_fields=["status", "next_attempt_at", "delivered_at"])
    if current.status == Delivery.Status.FAILED:
        log.warning("webhook delivery %s to %s failed after %s attempts",
                    current.webhook_id, shown(delivery.endpoint.url), current.attempts)  # fmt: skip
    return current.status, wait


def due(grace_seconds: int = 60) -> list[int]:
    """Deliveries whose next attempt is overdue (their message to the worker was lost, their
    wait was too long to queue, or the attempt under way died), on webhooks that are on."""
    late = timezone.now() - dt.timedelta(seconds=grace_seconds)
    return list(
        Delivery.objects.filter(
            status=Delivery.Status.PENDING, next_attempt_at__lte=late, endpoint__is_active=True
        )  # fmt: skip
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
