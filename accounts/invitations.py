"""Inviting people: an e-mail with a link that works once, for INVITATION_DAYS, to a role in
one organisation, system or region. Whoever may invite to what is accounts/policy.py's
`invitable_roles`. Accepting makes the membership (and the account, for someone new); every
invitation, acceptance and withdrawal is audited."""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING

from celery import current_app
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage, get_connection
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts import policy
from accounts.expiry import TRANSIENT
from accounts.models import Invitation, Membership, Organisation, Region, System, User
from accounts.services import _membership_snapshot, _membership_system
from openbook.audit import audit_record

if TYPE_CHECKING:
    from django.db.models import QuerySet

log = logging.getLogger(__name__)

INVITATION_DAYS = 7


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _place(invitation: Invitation) -> dict:
    return {"organisation": invitation.organisation, "system": invitation.system,
            "region": invitation.region}  # fmt: skip


def _system_of(invitation: Invitation) -> System | None:
    return invitation.organisation.system if invitation.organisation else invitation.system


def _snapshot(invitation: Invitation) -> dict:
    scope = invitation.scope
    return {"email": invitation.email, "role": invitation.role,
            "place": getattr(scope, "ods_code", None) or getattr(scope, "code", None),
            "expires_at": invitation.expires_at.isoformat(timespec="seconds")}  # fmt: skip


def pending_at(
    *, organisation: Organisation | None = None, system: System | None = None,
    region: Region | None = None,
) -> QuerySet[Invitation]:  # fmt: skip
    """The invitations waiting at a place (for its invite page, seen by those who may invite)."""
    return Invitation.objects.filter(
        organisation=organisation, system=system, region=region, accepted_at__isnull=True,
        withdrawn_at__isnull=True, expires_at__gt=timezone.now(),
    ).select_related("invited_by")  # fmt: skip


NOT_AN_ADDRESS = "Enter an e-mail address, like name@nhs.net."
NOT_PLAIN = "Use the address with plain letters (a to z) only."


def email_refusal(email: str) -> str | None:
    """Why an address (already stripped and lower-cased) cannot be invited (NOT_AN_ADDRESS or
    NOT_PLAIN); None if it can."""
    try:
        validate_email(email)
    except ValidationError:
        return NOT_AN_ADDRESS
    if not email.isascii():
        # "ſmith" and "smith" are one account to PostgreSQL's case rules but two addresses:
        # NHS addresses are plain letters, so look-alikes are refused.
        return NOT_PLAIN
    return None


SELF = "You cannot invite yourself; ask someone else to."
DEACTIVATED = ("That person's account is deactivated; a platform administrator can "
               "reactivate it.")  # fmt: skip


@transaction.atomic
def invitation_create(
    *,
    actor: User,
    email: str,
    role: str,
    organisation: Organisation | None = None,
    system: System | None = None,
    region: Region | None = None,
    full_name: str = "",
    by_worker: bool = False,
    reason: str = "",
) -> Invitation:
    """Invite `email` to `role` here, and e-mail the link once this commits. An invitation
    still waiting for the same person and role is replaced (its link stops working).

    `by_worker` (many at once, from a file): the worker makes the link and e-mails it, so a
    slow mail server holds no web request; the caller wakes it once after the commit
    (`wake_sender`), and a sweep finds any it missed."""
    if role not in policy.invitable_roles(actor, organisation=organisation, system=system,
                                          region=region):  # fmt: skip
        raise PermissionDenied("You cannot invite people to that role here.")
    email = email.strip().lower()
    refusal = email_refusal(email)
    if refusal:
        raise ValidationError({"email": refusal})
    if email == actor.email.lower():
        raise ValidationError({"email": SELF})
    existing = User.objects.filter(email__iexact=email).first()
    if existing is not None and not existing.is_active:
        raise ValidationError({"email": DEACTIVATED})
    place = {"organisation": organisation, "system": system, "region": region}
    if Membership.objects.filter(user__email__iexact=email, role=role, **place).exists():
        raise ValidationError({"email": "That person already has this role here."})
    now = timezone.now()
    for earlier in (
        pending_at(**place).filter(email=email, role=role).select_for_update(of=("self",))
    ):
        earlier.withdrawn_at = now
        earlier.save(update_fields=["withdrawn_at"])
        audit_record(
            action="invitation.withdrawn", actor=actor, organisation=organisation,
            system=_system_of(earlier), obj=earlier, before=_snapshot(earlier),
            reason="sent again",
        )  # fmt: skip
    token = secrets.token_urlsafe(32)  # by the worker: a token nobody holds, until it sends
    invitation = Invitation.objects.create(
        email=email, role=role, invited_by=actor, token_hash=_hash(token),
        expires_at=now + timedelta(days=INVITATION_DAYS), full_name=full_name.strip()[:150],
        link_unsent=by_worker, **place,
    )  # fmt: skip
    audit_record(
        action="invitation.created", actor=actor, organisation=organisation,
        system=_system_of(invitation), obj=invitation, after=_snapshot(invitation),
        reason=reason,
    )  # fmt: skip
    if not by_worker:
        link = _link(token)
        transaction.on_commit(lambda: _message(invitation, link).send(), robust=True)
    return invitation


def _link(token: str) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("invitation_accept", args=[token])


def _message(invitation: Invitation, link: str) -> EmailMessage:
    context = {"invitation": invitation, "link": link, "days": INVITATION_DAYS,
               "place": invitation.scope, "role": invitation.get_role_display(),
               "inviter": invitation.invited_by}  # fmt: skip
    return EmailMessage(
        subject=f"You are invited to Openbook: {invitation.get_role_display()}, {invitation.scope}",
        body=render_to_string("accounts/email/invitation.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[invitation.email],
    )


SEND_TASK = "accounts.send_invitations"
SEND_BATCH = 50


def wake_sender() -> None:
    """Once the invitations made in bulk are committed, ask the worker to send them. Robust:
    a broker that is down does not undo them (the sweep sends them within minutes)."""
    transaction.on_commit(lambda: current_app.send_task(SEND_TASK), robust=True)


def _claim_unsent() -> list[tuple[Invitation, str]]:
    """A batch of invitations made in bulk, each given its link now, and marked sent before
    anything goes, so a second worker skips them and a retry never sends one twice. The link
    works for INVITATION_DAYS from now: the e-mail says so."""
    now = timezone.now()
    claimed = []
    with transaction.atomic():
        batch = list(
            Invitation.objects.filter(
                link_unsent=True, accepted_at__isnull=True, withdrawn_at__isnull=True,
                expires_at__gt=now,
            ).select_for_update(skip_locked=True, of=("self",))
            .select_related("organisation", "system", "region", "invited_by")
            .order_by("id")[:SEND_BATCH]
        )  # fmt: skip
        for invitation in batch:
            token = secrets.token_urlsafe(32)
            invitation.token_hash = _hash(token)
            invitation.expires_at = now + timedelta(days=INVITATION_DAYS)
            invitation.link_unsent = False
            claimed.append((invitation, _link(token)))
        Invitation.objects.bulk_update(batch, ["token_hash", "expires_at", "link_unsent"])
    return claimed


def invitations_send_waiting() -> int:
    """E-mail every invitation made in bulk that still waits for its link; how many went. A
    mail server gone away puts the rest back (each gets a fresh link next time) and raises
    for the task to retry; a message refused on its own is logged and the rest still go (its
    invitation is listed on the place's invite page, to send again from there)."""
    sent = 0
    with get_connection() as connection:
        while batch := _claim_unsent():
            for n, (invitation, link) in enumerate(batch):
                try:
                    connection.send_messages([_message(invitation, link)])
                except TRANSIENT:
                    Invitation.objects.filter(pk__in=[i.pk for i, _ in batch[n:]]).update(
                        link_unsent=True
                    )
                    raise
                except Exception as exc:  # noqa: BLE001  (this message only: see TRANSIENT)
                    log.warning("invitation %s not e-mailed: %r", invitation.pk, exc)
                    continue
                sent += 1
    return sent


def invitation_find(token: str) -> Invitation | None:
    """The waiting invitation the link is for; None for one used, withdrawn, expired or never
    made (the page says the same for each)."""
    found = (
        Invitation.objects.filter(token_hash=_hash(token))
        .select_related("organisation", "system", "region", "invited_by")
        .first()
    )
    return found if found is not None and found.pending else None


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user: User) -> Membership:
    """The invited person takes up the role: the membership is made, the link used up."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if not invitation.pending:
        raise ValidationError("This invitation has already been used, withdrawn or has expired.")
    if user.email.lower() != invitation.email:
        raise PermissionDenied(f"This invitation is for {invitation.email}.")
    inviter = invitation.invited_by
    if (
        inviter is None
        or not inviter.is_active
        or invitation.role not in policy.invitable_roles(inviter, **_place(invitation))
    ):
        # Someone who has since lost the right to invite here cannot let anyone in by an
        # invitation sent before (to themselves at another address, say).
        raise ValidationError("The person who invited you can no longer give this role; ask "
                              "someone who manages access here to invite you again.")  # fmt: skip
    membership, created = Membership.objects.get_or_create(user=user, role=invitation.role,
                                                           **_place(invitation))  # fmt: skip
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    audit_record(
        action="invitation.accepted", actor=user, organisation=invitation.organisation,
        system=_system_of(invitation), obj=invitation, after=_snapshot(invitation),
    )  # fmt: skip
    if created:
        audit_record(
            action="membership.created", actor=user, organisation=membership.organisation,
            system=_membership_system(membership), obj=membership,
            after=_membership_snapshot(membership),
            payload={"invited_by": getattr(invitation.invited_by, "email", None)},
        )  # fmt: skip
    policy.forget_roles(user)
    return membership


@transaction.atomic
def invitation_accept_new(*, invitation: Invitation, full_name: str, password: str) -> User:
    """Someone new: their account, with the password they chose, and the role."""
    if User.objects.filter(email__iexact=invitation.email).exists():
        raise ValidationError("There is already an account for this address: sign in first.")
    try:
        with transaction.atomic():
            user = User.objects.create_user(invitation.email, password, full_name=full_name)
    except IntegrityError:
        raise ValidationError(
            "There is already an account for this address: sign in first."
        ) from None
    audit_record(action="account.created", actor=user, obj=user,
                 after={"email": user.email, "by": "invitation"})  # fmt: skip
    invitation_accept(invitation=invitation, user=user)
    return user


@transaction.atomic
def invitations_accept_by_sso(*, email: str, full_name: str) -> User | None:
    """Someone new whom the identity provider vouches for: their account (with no password;
    they sign in through the provider) and every role waiting for the address. None when no
    invitation waits, so nobody is let in by having an identity there alone."""
    waiting = list(
        Invitation.objects.select_for_update().filter(
            email=email.lower(), accepted_at__isnull=True, withdrawn_at__isnull=True,
            expires_at__gt=timezone.now(),
        ).order_by("pk")
    )  # fmt: skip
    if not waiting:
        return None
    try:
        with transaction.atomic():
            user = User.objects.create_user(email.lower(), None, full_name=full_name[:150])
    except IntegrityError:
        return User.objects.filter(email__iexact=email).first()  # made by a parallel sign-in
    audit_record(action="account.created", actor=user, obj=user,
                 after={"email": user.email, "by": "single sign-on invitation"})  # fmt: skip
    accepted = 0
    for invitation in waiting:
        try:
            with transaction.atomic():
                invitation_accept(invitation=invitation, user=user)
            accepted += 1
        except ValidationError:
            continue  # the inviter can no longer give this role; the others still stand
    if not accepted:
        transaction.set_rollback(True)
        return None
    return user


@transaction.atomic
def invitation_withdraw(*, actor: User, invitation: Invitation) -> None:
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    place = _place(invitation)
    if invitation.role not in policy.invitable_roles(actor, **place):
        raise PermissionDenied("You cannot withdraw invitations here.")
    if not invitation.pending:
        raise ValidationError("This invitation has already been used, withdrawn or has expired.")
    invitation.withdrawn_at = timezone.now()
    invitation.save(update_fields=["withdrawn_at"])
    audit_record(
        action="invitation.withdrawn", actor=actor, organisation=invitation.organisation,
        system=_system_of(invitation), obj=invitation, before=_snapshot(invitation),
    )  # fmt: skip
