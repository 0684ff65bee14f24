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
import smtplib
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

# A mail server gone away (as notifications/services.py has it; the layers keep accounts from
# importing it): the run stops and the task retries. Anything else is about one message.
TRANSIENT = (ConnectionError, TimeoutError, smtplib.SMTPServerDisconnected,
             smtplib.SMTPConnectError)  # fmt: skip
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


def _step(pk: int, *, now: datetime, expiry: timedelta, notice: timedelta) -> str | None:
    """One person: warned, expired, or left. The warning is e-mailed outside any transaction
    (no lock is held while a mail server answers) and recorded only once it has gone: a
    message that did not go leaves nothing recorded, so nobody is deactivated unwarned; it is
    tried again on the next run. A crash between the two sends it twice, the safe way round."""
    with transaction.atomic():
        locked = User.objects.select_for_update(of=("self",)).filter(pk=pk, is_active=True)
        person = with_last_active(locked).first()
        if person is None or person.is_superuser:
            return None
        if person.last_active > now - (expiry - notice):  # type: ignore[attr-defined]
            return None  # used since the list was read
        warn = bool(notice) and not _warned_this_period(person)
        if not warn:
            if now >= expires_on(person, expiry, notice):
                account_expire(person=person, expiry=expiry)
                return "expired"
            return None
    return "warned" if account_expiry_warn(person=person, now=now, expiry=expiry,
                                           notice=notice) else None  # fmt: skip


def account_expiry_warn(
    *, person: User, now: datetime, expiry: timedelta, notice: timedelta
) -> bool:
    """E-mail the warning, then record it (audited); whether it was recorded. A mail server
    that is away stops the run (TRANSIENT: the task retries); a message refused for itself is
    logged, and the person is tried again next time."""
    before = person.expiry_warned_at
    person.expiry_warned_at = now  # the deadline counts from the warning
    deadline = expires_on(person, expiry, notice)
    try:
        _warning_message(person, deadline, expiry).send()
    except TRANSIENT:
        raise
    except Exception as exc:  # noqa: BLE001  (this person only: see TRANSIENT)
        log.warning("account expiry warning to user %s not sent: %r", person.pk, exc)
        return False
    with transaction.atomic():
        recorded = User.objects.filter(pk=person.pk, expiry_warned_at=before).update(
            expiry_warned_at=now
        )
        if recorded:
            audit_record(action="account.expiry_warned", actor_label=EXPIRY_LABEL, obj=person,
                         payload={"last_active": person.last_active,  # type: ignore[attr-defined]
                                  "expires_on": deadline})  # fmt: skip
    return bool(recorded)


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
