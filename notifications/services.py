"""Raising notifications, e-mailing them (at once or in a daily digest, each once), and a
person's own reading and choices."""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Iterable
from typing import TYPE_CHECKING

from celery import current_app
from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from notifications.models import Frequency, Kind, Notification, Preference

if TYPE_CHECKING:
    from accounts.models import User

log = logging.getLogger(__name__)
SEND_TASK = "notifications.send_pending"
BATCH = 100

_EMAIL_FOR = {
    Frequency.IMMEDIATELY: Notification.Email.PENDING,
    Frequency.DAILY: Notification.Email.DIGEST,
    Frequency.OFF: Notification.Email.NONE,
}


def notify(
    *,
    kind: Kind,
    recipients: Iterable[User],
    title: str,
    body: str,
    url: str,
    key: str,
    actor: User | None = None,
) -> int:
    """Tell these people (not the one who caused it) that something now waits on them.
    Called inside the service's transaction, so a refused change notifies nobody; `key` names
    the occasion, and one person is told of one occasion once. Returns how many were told."""
    people = {u.pk for u in recipients if u.is_active and (actor is None or u.pk != actor.pk)}
    if not people:
        return 0
    chosen = dict(
        Preference.objects.filter(user_id__in=people, kind=kind).values_list("user_id", "frequency")
    )
    already = set(
        Notification.objects.filter(recipient_id__in=people, key=key).values_list(
            "recipient_id", flat=True
        )
    )
    rows = [
        Notification(recipient_id=pk, kind=kind, title=title[:300], body=body, url=url, key=key,
                     email=_EMAIL_FOR[Frequency(chosen.get(pk, Frequency.IMMEDIATELY))])
        for pk in sorted(people - already)
    ]  # fmt: skip
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    if any(n.email == Notification.Email.PENDING for n in rows):
        # After the commit, so the worker finds the rows; robust, so a broker that is down
        # does not fail a change already made (the sweep every few minutes sends them).
        transaction.on_commit(lambda: current_app.send_task(SEND_TASK), robust=True)
    return len(rows)


def _link(url: str) -> str:
    return settings.SITE_URL.rstrip("/") + url


def _message(recipient: User, subject: str, template: str, context: dict) -> EmailMessage:
    context = context | {"recipient": recipient, "settings_url": _link("/notifications/settings/")}
    return EmailMessage(
        subject=subject,
        body=render_to_string(template, context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[recipient.email],
    )


# A mail server gone away: put the claimed e-mails back and let the task retry. Anything
# else is about one message (an address refused, a bad header): that one is given up on and
# logged, and the rest still go.
TRANSIENT = (ConnectionError, TimeoutError, smtplib.SMTPServerDisconnected,
             smtplib.SMTPConnectError)  # fmt: skip


def _claim(query) -> list[Notification]:
    """Take a batch of notifications to e-mail, marking them sent before anything goes: a
    second worker skips them, and one that restarts mid-send does not send them twice. Only
    for people still active: the others' are not e-mailed."""
    now = timezone.now()
    with transaction.atomic():
        query.filter(recipient__is_active=False).update(email=Notification.Email.NONE)
        batch = list(
            query.filter(recipient__is_active=True)
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("recipient")
            .order_by("id")[:BATCH]
        )
        Notification.objects.filter(pk__in=[n.pk for n in batch]).update(
            email=Notification.Email.SENT, emailed_at=now
        )
    return batch


def _unclaim(notifications: Iterable[Notification], state: str) -> None:
    """Put back what did not go, for the next run."""
    Notification.objects.filter(pk__in=[n.pk for n in notifications]).update(
        email=state, emailed_at=None
    )


def _give_up(notifications: Iterable[Notification], exc: Exception) -> None:
    ids = [n.pk for n in notifications]
    Notification.objects.filter(pk__in=ids).update(email=Notification.Email.NONE)
    log.warning("notification e-mail %s not sent: %r", ids, exc)


def emails_send_pending() -> int:
    """E-mail every notification whose person wants it at once; return how many went."""
    sent = 0
    pending = Notification.objects.filter(email=Notification.Email.PENDING)
    with get_connection() as connection:
        while batch := _claim(pending):
            for n, notification in enumerate(batch):
                try:
                    connection.send_messages([_message(
                        notification.recipient,
                        f"Openbook: {notification.title}",
                        "notifications/email/one.txt",
                        {"notification": notification, "link": _link(notification.url)},
                    )])  # fmt: skip
                except TRANSIENT:
                    _unclaim(batch[n:], Notification.Email.PENDING)
                    raise
                except Exception as exc:  # noqa: BLE001  (this message only: see TRANSIENT)
                    _give_up([notification], exc)
                    continue
                sent += 1
    return sent


def digests_send() -> int:
    """One e-mail to each person with digest notifications waiting, gathering them all;
    return how many e-mails went."""
    sent = 0
    people = (
        Notification.objects.filter(email=Notification.Email.DIGEST)
        .order_by()
        .values_list("recipient_id", flat=True)
        .distinct()
    )
    with get_connection() as connection:
        for person in list(people):
            theirs = Notification.objects.filter(
                email=Notification.Email.DIGEST, recipient_id=person
            )
            items: list[Notification] = []
            while batch := _claim(theirs):
                items += batch
            if not items:
                continue  # another worker has it
            items.sort(key=lambda n: n.created_at)
            try:
                connection.send_messages([_message(
                    items[0].recipient,
                    f"Openbook: {len(items)} thing{'s' if len(items) != 1 else ''} waiting "
                    "for you",
                    "notifications/email/digest.txt",
                    {"items": [(n, _link(n.url)) for n in items]},
                )])  # fmt: skip
            except TRANSIENT:
                _unclaim(items, Notification.Email.DIGEST)
                raise
            except Exception as exc:  # noqa: BLE001  (this person only: see TRANSIENT)
                _give_up(items, exc)
                continue
            sent += 1
    return sent


# --- a person's own -----------------------------------------------------------------------------


def notification_open(*, actor: User, notification: Notification) -> str:
    """Mark it read; return where it points."""
    if notification.read_at is None:
        Notification.objects.filter(pk=notification.pk, recipient=actor).update(
            read_at=timezone.now()
        )
    return notification.url


def notifications_read_all(*, actor: User) -> int:
    return Notification.objects.filter(recipient=actor, read_at__isnull=True).update(
        read_at=timezone.now()
    )


@transaction.atomic
def preferences_set(*, actor: User, choices: dict[str, str]) -> None:
    """Each kind's e-mail choice; at once is the default, so it is kept as no row."""
    for kind, frequency in choices.items():
        Kind(kind), Frequency(frequency)  # refuse anything else
        if frequency == Frequency.IMMEDIATELY:
            Preference.objects.filter(user=actor, kind=kind).delete()
        else:
            Preference.objects.update_or_create(
                user=actor, kind=kind, defaults={"frequency": frequency}
            )
