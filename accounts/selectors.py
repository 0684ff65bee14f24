"""Reads of accounts data, already scoped to the person asking (through accounts.policy)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from accounts import policy
from accounts.models import (
    Invitation,
    Membership,
    Organisation,
    PersonalToken,
    Region,
    System,
    User,
)

if TYPE_CHECKING:
    from accounts.policy import AnyUser


def regions_visible_to(user: AnyUser) -> QuerySet[Region]:
    return Region.objects.filter(policy.regions_q(user)).distinct()


def systems_visible_to(user: AnyUser) -> QuerySet[System]:
    return (
        System.objects.filter(policy.systems_q(user))
        .select_related("region")
        .annotate(organisation_count=Count("organisations"))
    )


def organisations_visible_to(user: AnyUser) -> QuerySet[Organisation]:
    return Organisation.objects.filter(policy.organisations_q(user)).select_related(
        "system", "system__region"
    )


def organisation_get(user: AnyUser, ods_code: str) -> Organisation:
    """The organisation with this ODS code, or 404 if it does not exist or is not visible."""
    try:
        return organisations_visible_to(user).get(ods_code=ods_code.upper())
    except Organisation.DoesNotExist:
        raise Http404("No such organisation.") from None


def system_get(user: AnyUser, code: str) -> System:
    try:
        return systems_visible_to(user).get(code=code)
    except System.DoesNotExist:
        raise Http404("No such system.") from None


def region_get(user: AnyUser, code: str) -> Region:
    region = Region.objects.filter(code=code).first()
    if region is None or not policy.can_view_region(user, region):
        raise Http404("No such region.")
    return region


def memberships_of(user: AnyUser) -> QuerySet[Membership]:
    """The signed-in person's own memberships."""
    if not user.is_authenticated:
        return Membership.objects.none()
    return (
        Membership.objects.filter(user=user)
        .select_related("organisation", "organisation__system__region", "system__region", "region")
        # The home page lists every plan in each system (and each system of a region).
        .prefetch_related(
            "region__systems__organisations",
            "organisation__system__organisations",
            "system__organisations",
        )
    )


def organisation_people(user: AnyUser, organisation: Organisation) -> QuerySet[Membership]:
    """Who holds which role in a visible organisation (names and roles, open to partners)."""
    if not policy.can_view_organisation(user, organisation):
        raise Http404("No such organisation.")
    return organisation.memberships.select_related("user").order_by("role", "user__full_name")


def system_people(user: AnyUser, system: System) -> QuerySet[Membership]:
    if not policy.can_view_system(user, system):
        raise Http404("No such system.")
    return system.memberships.select_related("user").order_by("role", "user__full_name")


def people_with_roles(
    roles: tuple[str, ...], *, organisations=(), systems=(), regions=()
) -> QuerySet[User]:
    """The active people holding one of these roles in these places: whom something waits on.
    Not scoped to a person asking: the notifications read it on the system's behalf."""
    places = Q(pk__in=[])
    if organisations:
        places |= Q(organisation__in=organisations)
    if systems:
        places |= Q(system__in=systems)
    if regions:
        places |= Q(region__in=regions)
    holders = Membership.objects.filter(places, role__in=roles).values("user_id")
    return User.objects.filter(pk__in=holders, is_active=True).order_by("pk")


def tokens_of(user: AnyUser) -> QuerySet[PersonalToken]:
    if not user.is_authenticated:
        return PersonalToken.objects.none()
    return PersonalToken.objects.filter(user=user)


def token_get(user: AnyUser, token_key: str) -> PersonalToken:
    token = tokens_of(user).filter(token_key=token_key).first()
    if token is None:
        raise Http404("No such token.")
    return token


def attention_items(user: AnyUser) -> list[dict[str, str]]:
    """What needs this person's attention on their home page; later capabilities add to it."""
    items: list[dict[str, str]] = []
    soon = timezone.now() + timedelta(days=7)
    for token in tokens_of(user).filter(expiry__isnull=False, expiry__lte=soon):
        expired = token.expiry <= timezone.now()
        items.append(
            {
                "title": f"API token “{token.name}” {'has expired' if expired else 'expires soon'}",
                "detail": f"{'Expired' if expired else 'Expires'} {token.expiry:%d %B %Y %H:%M}.",
                "url": reverse("token_list"),
            }
        )
    return items


def invitation_for_inviter(user: AnyUser, pk: int) -> Invitation:
    """An invitation, for someone who may invite at its place (404 to anyone else)."""
    invitation = (
        Invitation.objects.filter(pk=pk).select_related("organisation", "system", "region").first()
    )
    place = {"organisation": getattr(invitation, "organisation", None),
             "system": getattr(invitation, "system", None),
             "region": getattr(invitation, "region", None)}  # fmt: skip
    if invitation is None:
        raise Http404("No such invitation.")
    if not policy.invitable_roles(user, **place):
        if _place_visible(user, invitation.scope):
            raise PermissionDenied("Only the people who manage access here can withdraw it.")
        raise Http404("No such invitation.")
    return invitation


def access_review(
    user: AnyUser, *, organisation: Organisation | None = None, system: System | None = None,
    region: Region | None = None,
) -> QuerySet[Membership]:  # fmt: skip
    """Who holds which role at a place, with when each last signed in: for those who manage
    access there (the caller checks invitable_roles)."""
    return (
        Membership.objects.filter(organisation=organisation, system=system, region=region)
        .select_related("user")
        .order_by("role", "user__full_name")
    )


def membership_for_manager(user: AnyUser, pk: int) -> Membership:
    """A membership, for someone who may take it away (403 to others who can see its place,
    404 to anyone else)."""
    membership = (
        Membership.objects.filter(pk=pk)
        .select_related("user", "organisation", "system", "region")
        .first()
    )
    if membership is None:
        raise Http404("No such role.")
    managed = policy.invitable_roles(
        user, organisation=membership.organisation, system=membership.system,
        region=membership.region,
    )  # fmt: skip
    if membership.role in managed:
        return membership
    if _place_visible(user, membership.scope):
        raise PermissionDenied("Only the people who manage access here can take a role away.")
    raise Http404("No such role.")


def _place_visible(user: AnyUser, scope) -> bool:
    if isinstance(scope, Organisation):
        return policy.can_view_organisation(user, scope)
    if isinstance(scope, System):
        return policy.can_view_system(user, scope)
    return regions_visible_to(user).filter(pk=scope.pk).exists()
