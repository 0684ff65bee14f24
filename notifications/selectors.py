"""A person's own notifications and e-mail choices: nobody reads anyone else's."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet
from django.http import Http404

from notifications.models import Frequency, Kind, Notification, Preference

if TYPE_CHECKING:
    from accounts.policy import AnyUser


def notifications_for(user: AnyUser) -> QuerySet[Notification]:
    if not user.is_authenticated:
        return Notification.objects.none()
    return Notification.objects.filter(recipient=user)


def unread_count(user: AnyUser) -> int:
    return notifications_for(user).filter(read_at__isnull=True).count()


def notification_get(user: AnyUser, pk: int) -> Notification:
    found = notifications_for(user).filter(pk=pk).first()
    if found is None:
        raise Http404("No such notification.")
    return found


def preferences_of(user: AnyUser) -> dict[str, str]:
    """Every kind with this person's choice (at once where they have made none)."""
    chosen = dict(Preference.objects.filter(user=user).values_list("kind", "frequency"))
    return {kind: chosen.get(kind, Frequency.IMMEDIATELY) for kind in Kind.values}
