"""Unused accounts expire: a person whose account has not been used for ACCOUNT_EXPIRY_DAYS is
deactivated, after an e-mail ACCOUNT_EXPIRY_WARNING_DAYS before. Run daily by beat
(accounts.expire_unused); ACCOUNT_EXPIRY_DAYS=0 turns it off.

"Used" is the latest of: signing in, a signed-in browser seen (accounts/sessions.py), an API
token used, an administrator re-activating the account, or (never used at all) joining. A
person is always warned first and given the whole warning period, however long ago they last
came (as when expiry is first turned on). Platform administrators (superusers) never expire:
they are the ones who re-activate the others, and an unused administrator account is for the
platform's operators to close by hand.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import DateTimeField, F, Max, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Greatest
from django.template.loader import render_to_string
from django.utils import timezone

from accounts import sessions
from accounts.models import PersonalToken, User, UserSession
from openbook.audit import audit_record

log = logging.getLogger(__name__)
EXPIRY_LABEL = "account expiry"


def _latest(model, field: str) -> Subquery:
    return Subquery(
        model.objects.filter(user=OuterRef("pk"))
        .order_by()
        .values("user")
        .annotate(latest=Max(field))
        .values("latest"),
        output_field=DateTimeField(),
    )


def with_last_active(people: QuerySet[User]) -> QuerySet[User]:
    """Each person with `last_active`: PostgreSQL's GREATEST passes over the NULLs (never
    signed in, no tokens), and date_joined is never NULL."""
    return people.annotate(
        last_active=Greatest(
            "date_joined",
            "last_login",
            "reactivated_at",
            _latest(PersonalToken, "last_used_at"),
            _latest(UserSession, "last_seen_at"),
        )
    )


def _periods() -> tuple[timedelta, timedelta] | None:
    days = settings.ACCOUNT_EXPIRY_DAYS
    if days <= 0:
        return None
    warning = max(0, min(settings.ACCOUNT_EXPIRY_WARNING_DAYS, days))
    return timedelta(days=days), timedelta(days=warning)


def _warned_this_period(person: User) -> bool:
    warned = person.expiry_warned_at
    return warned is not None and warned >= person.last_active  # type: ignore[attr-defined]


def expires_on(person: User, expiry: timedelta, notice: timedelta) -> datetime:
    """When the account may be deactivated: a period after last use, and never sooner than the
    warning period after the warning went."""
    due = person.last_active + expiry  # type: ignore[attr-defined]
    if notice and _warned_this_period(person):
        due = max(due, person.expiry_warned_at + notice)  # type: ignore[operator]
    return due


def accounts_expire(*, now: datetime) -> dict[str, int]:
    """Warn the people whose accounts are nearly unused for the period, and deactivate those
    warned whose time has come. Idempotent: each is warned once a period, and each step
    re-reads the person under a row lock, so a sign-in meanwhile is seen."""
    periods = _periods()
    if periods is None:
        return {"warned": 0, "expired": 0}
    expiry, notice = periods
    people = with_last_active(User.objects.filter(is_active=True, is_superuser=False))
    unwarned = Q(expiry_warned_at__isnull=True) | Q(expiry_warned_at__lt=F("last_active"))
    # The warned whose week is not up are left alone (each step re-checks all of this).
    ripe = Q(last_active__lte=now - expiry, expiry_warned_at__lte=now - notice)
    due = people.filter(Q(last_active__lte=now - (expiry - notice)) & (unwarned | ripe))  # type: ignore[misc]
    done = {"warned": 0, "expired": 0}
    for pk in due.order_by("pk").values_list("pk", flat=True):
        step = _step(pk, now=now, expiry=expiry, notice=notice)
        if step:
            done[step] += 1
    sessions.sessions_forget_stale(now=now)
    return done


@transaction.atomic
def _step(pk: int, *, now: datetime, expiry: timedelta, notice: timedelta) -> str | None:
    locked = User.objects.select_for_update(of=("self",)).filter(pk=pk, is_active=True)
    person = with_last_active(locked).first()
    if person is None or person.is_superuser:
        return None
    if person.last_active > now - (expiry - notice):  # type: ignore[attr-defined]
        return None  # used since the list was read
    if notice and not _warned_this_period(person):
        account_expiry_warn(person=person, now=now, expiry=expiry, notice=notice)
        return "warned"
    if now >= expires_on(person, expiry, notice):
        account_expire(person=person, expiry=expiry)
        return "expired"
    return None


def account_expiry_warn(*, person: User, now: datetime, expiry: timedelta, notice: timedelta):
    """Record the warning and e-mail it, in the caller's transaction: a mail server that is
    away rolls the record back too, so the task's retry (or tomorrow's run) warns again and
    nobody is deactivated unwarned. A message refused for itself (a bad address) is logged and
    the warning stands: the period still runs."""
    person.expiry_warned_at = now
    person.save(update_fields=["expiry_warned_at"])
    deadline = expires_on(person, expiry, notice)
    audit_record(action="account.expiry_warned", actor_label=EXPIRY_LABEL, obj=person,
                 payload={"last_active": person.last_active, "expires_on": deadline})  # type: ignore[attr-defined]  # fmt: skip
    from notifications.services import TRANSIENT

    try:
        _warning_message(person, deadline, expiry).send()
    except TRANSIENT:
        raise
    except Exception as exc:  # noqa: BLE001  (this person only: see TRANSIENT)
        log.warning("account expiry warning to user %s not sent: %r", person.pk, exc)


def _warning_message(person: User, deadline: datetime, expiry: timedelta) -> EmailMessage:
    context = {
        "person": person,
        "last_active": person.last_active,  # type: ignore[attr-defined]
        "deadline": deadline,
        "days": expiry.days,
        "login_url": settings.SITE_URL.rstrip("/") + "/login/",
    }
    return EmailMessage(
        subject=f"Openbook: sign in by {timezone.localtime(deadline):%-d %B %Y} to keep your "
        "account",
        body=render_to_string("accounts/email/expiry_warning.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[person.email],
    )


def account_expire(*, person: User, expiry: timedelta) -> None:
    """Deactivate an unused account: it can no longer sign in, its API tokens are revoked and
    its sessions end. Audited. An administrator re-activates it in the admin."""
    person.is_active = False
    person.save(update_fields=["is_active"])
    tokens = PersonalToken.objects.filter(user=person)
    names = sorted(tokens.values_list("name", flat=True))
    tokens.delete()
    ended = sessions.sessions_end_all(person)
    audit_record(action="account.expired", actor_label=EXPIRY_LABEL, obj=person,
                 before={"is_active": True}, after={"is_active": False},
                 payload={"last_active": person.last_active, "unused_days": expiry.days,  # type: ignore[attr-defined]
                          "tokens_revoked": names, "sessions_ended": ended})  # fmt: skip
