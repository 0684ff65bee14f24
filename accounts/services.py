"""Writes to accounts data. Each is one transaction, checks the policy and is audited."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import policy
from accounts.models import Membership, Organisation, PersonalToken
from openbook.audit import audit_record

if TYPE_CHECKING:
    from accounts.models import Organisation, Region, System, User

TOKEN_LIFETIMES_DAYS = (7, 30, 90, 365)


def _membership_snapshot(membership: Membership) -> dict[str, Any]:
    return {
        "user": membership.user.email,
        "role": membership.role,
        "organisation": membership.organisation.ods_code if membership.organisation else None,
        "system": membership.system.code if membership.system else None,
        "region": membership.region.code if membership.region else None,
    }


def _membership_system(membership: Membership) -> System | None:
    if membership.organisation is not None:
        return membership.organisation.system
    return membership.system


@transaction.atomic
def membership_create(
    *,
    actor: User | None,
    user: User,
    role: str,
    organisation: Organisation | None = None,
    system: System | None = None,
    region: Region | None = None,
    reason: str = "",
) -> Membership:
    """Give a person a role. Only platform administrators (or set-up commands, actor=None)."""
    if actor is not None and not policy.is_platform_admin(actor):
        raise PermissionDenied("Only a platform administrator can change memberships.")
    membership = Membership(
        user=user, role=role, organisation=organisation, system=system, region=region
    )
    membership.full_clean(validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            membership.save()
    except IntegrityError as exc:
        raise ValidationError(
            "That person already has this role here, or the role does not fit the level chosen."
        ) from exc
    audit_record(
        action="membership.created",
        actor=actor,
        actor_label="" if actor else "system set-up",
        organisation=organisation,
        system=_membership_system(membership),
        obj=membership,
        after=_membership_snapshot(membership),
        reason=reason,
    )
    policy.forget_roles(user)
    return membership


@transaction.atomic
def membership_delete(*, actor: User | None, membership: Membership, reason: str = "") -> None:
    """Take a role away from a person: administrators anywhere, and whoever may invite to
    that role at its place (accounts/policy.invitable_roles), from its access page."""
    if actor is not None and membership.role not in policy.invitable_roles(
        actor,
        organisation=membership.organisation,
        system=membership.system,
        region=membership.region,
    ):
        raise PermissionDenied("Only the people who manage access here can take a role away.")
    before = _membership_snapshot(membership)
    system = _membership_system(membership)
    organisation = membership.organisation
    pk = membership.pk
    membership.delete()
    audit_record(
        action="membership.deleted",
        actor=actor,
        actor_label="" if actor else "system set-up",
        organisation=organisation,
        system=system,
        object_type="accounts.membership",
        object_id=pk,
        before=before,
        reason=reason,
    )
    policy.forget_roles(membership.user)


@transaction.atomic
def membership_update(*, actor: User, membership: Membership, before: dict[str, Any]) -> None:
    """Record a change an administrator made to a membership in the admin."""
    if not policy.is_platform_admin(actor):
        raise PermissionDenied("Only a platform administrator can change memberships.")
    membership.save()
    audit_record(
        action="membership.changed",
        actor=actor,
        organisation=membership.organisation,
        system=_membership_system(membership),
        obj=membership,
        before=before,
        after=_membership_snapshot(membership),
    )


def membership_snapshot(membership: Membership) -> dict[str, Any]:
    return _membership_snapshot(membership)


@transaction.atomic
def token_create(*, actor: User, name: str, lifetime_days: int) -> tuple[PersonalToken, str]:
    """Make a personal API token. The clear token is returned once and never stored. It can
    sign, submit and decide only if this session (or token) had confirmed a second factor."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give the token a name, so you can recognise it later."})
    if lifetime_days not in TOKEN_LIFETIMES_DAYS:
        raise ValidationError({"lifetime_days": "Choose 7, 30, 90 or 365 days."})
    if PersonalToken.objects.filter(user=actor, name__iexact=name).exists():
        raise ValidationError({"name": "You already have a token with that name."})
    method = policy.second_factor_method(actor) or ""
    token, clear = PersonalToken.objects.create(
        user=actor, expiry=timedelta(days=lifetime_days), name=name, second_factor=method
    )
    audit_record(
        action="token.created",
        actor=actor,
        obj=token,
        object_id=token.token_key,
        after={"name": name, "expires": token.expiry, "second_factor": method},
    )
    return token, clear


@transaction.atomic
def token_revoke(*, actor: User, token: PersonalToken) -> None:
    """Revoke one of the person's own tokens; it stops working at once."""
    if token.user_id != actor.pk and not policy.is_platform_admin(actor):
        raise PermissionDenied("You can only revoke your own tokens.")
    audit_record(
        action="token.revoked",
        actor=actor,
        object_type="accounts.personaltoken",
        object_id=token.token_key,
        before={"name": token.name},
    )
    token.delete()


@transaction.atomic
def password_changed(*, actor: User | None, user: User, how: str) -> int:
    """After a person's password is changed or reset, however that happened (their own page,
    a reset link, an administrator in the admin, `manage.py changepassword`, actor None):
    every API token of theirs is revoked, as a password changed because it leaked must not
    leave tokens working, and any sign-in wait on the account ends. (Other sessions end by
    themselves: Django checks each session against the password.) Audited; returns how many
    tokens went. Not for a new account's first password: it has no tokens to revoke."""
    from accounts import throttle

    tokens = PersonalToken.objects.filter(user=user)
    names = sorted(tokens.values_list("name", flat=True))
    tokens.delete()
    audit_record(action="password.changed", actor=actor, obj=user,
                 actor_label="" if actor else "command line",
                 payload={"how": how, "tokens_revoked": names})  # fmt: skip
    # At once rather than on commit: lifting a wait is harmless even if this rolls back.
    throttle.forget(user.email)
    return len(names)


def token_touch(token: PersonalToken) -> None:
    """Note when a token was last used, at most once a minute (one conditional UPDATE)."""
    now = timezone.now()
    PersonalToken.objects.filter(digest=token.digest).exclude(
        last_used_at__gt=now - timedelta(minutes=1)
    ).update(last_used_at=now)


@transaction.atomic
def admin_change_record(
    *, actor: User, obj: Any, changed: list[str], before: dict[str, Any]
) -> None:
    """Audit what an administrator changed on a person or an organisation in the admin
    (roles, access, which system an organisation belongs to)."""
    if not changed:
        return

    organisation = obj if isinstance(obj, Organisation) else None
    audit_record(
        action=f"{obj._meta.model_name}.changed_in_admin",
        actor=actor,
        organisation=organisation,
        obj=obj,
        before={field: before.get(field) for field in changed},
        after={field: getattr(obj, field, None) for field in changed},
    )


def user_set_more_places(*, actor: User, more: bool) -> None:
    """A person's own display choice: figures to every place kept, or to the unit's usual
    places. Only ever their own, and not audited (it changes nothing anyone else sees)."""
    if actor.more_places != more:
        actor.more_places = more
        actor.save(update_fields=["more_places"])
