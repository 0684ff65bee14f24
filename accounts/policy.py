"""Who may see and do what: the single source of access decisions.

Visibility follows DESIGN.md. A person sees the organisations of every system they take part
in (open book among partners), the systems of their region if they review it, and everything
if they are a platform administrator. Selectors build their querysets from the Q objects
here; views and services ask the predicates. Outside visibility is answered as not-found (404),
visible but not allowed as forbidden (403).

Behind the selectors, PostgreSQL's row-level security gives the same answers about who sees
which plans, returns and money rows (accounts/rowsecurity.py; the SQL is in accounts
migration 0009 and the plans and payments row-security migrations). A change here to who
sees what changes them too: tests/accounts/test_row_security.py compares the two.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import Q

from accounts import second_factor
from accounts.models import (
    ORGANISATION_ROLES,
    REGION_ROLES,
    SYSTEM_ROLES,
    Organisation,
    Region,
    Role,
    System,
)
from accounts.second_factor import SecondFactorRequired

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from accounts.models import User

    AnyUser = User | AnonymousUser


def is_platform_admin(user: AnyUser) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_superuser)


def _roles(user: AnyUser) -> list[tuple[str, int | None, int | None, int | None]]:
    """The person's memberships as (role, organisation, system, region) ids, cached per request."""
    if not user.is_authenticated or not user.is_active:
        return []
    cached = getattr(user, "_openbook_roles", None)
    if cached is None:
        cached = list(
            user.memberships.values_list("role", "organisation_id", "system_id", "region_id")
        )
        user._openbook_roles = cached  # type: ignore[union-attr,attr-defined]
    return cached


def forget_roles(user: AnyUser) -> None:
    """Drop the cached memberships (after a membership changes within one request)."""
    if hasattr(user, "_openbook_roles"):
        del user._openbook_roles  # type: ignore[union-attr]


def member_organisation_ids(user: AnyUser, roles: tuple[str, ...] = ORGANISATION_ROLES) -> set[int]:
    return {org for role, org, _, _ in _roles(user) if role in roles and org is not None}


def system_ids_with_role(user: AnyUser, roles: tuple[str, ...]) -> set[int]:
    return {system for role, _, system, _ in _roles(user) if role in roles and system is not None}


def reviewed_region_ids(user: AnyUser) -> set[int]:
    return {
        region
        for role, _, _, region in _roles(user)
        if role == Role.REGION_REVIEWER and region is not None
    }


def _partner_system_ids(user: AnyUser) -> set[int]:
    """Systems the person belongs to through an organisation membership."""
    org_ids = member_organisation_ids(user)
    if not org_ids:
        return set()
    return set(
        Organisation.objects.filter(pk__in=org_ids).values_list("system_id", flat=True).distinct()
    )


def visible_system_ids(user: AnyUser) -> set[int] | None:
    """Systems whose submitted plans the person may see; None means every system."""
    if is_platform_admin(user):
        return None
    ids = _partner_system_ids(user) | system_ids_with_role(
        user, (Role.SYSTEM_VIEWER, Role.SYSTEM_LEAD)
    )
    regions = reviewed_region_ids(user)
    if regions:
        ids |= set(System.objects.filter(region_id__in=regions).values_list("pk", flat=True))
    return ids


def _all_or(ids: set[int] | None, field: str) -> Q:
    if ids is None:
        return Q()
    return Q(**{f"{field}__in": ids})


# --- Q objects for selectors -------------------------------------------------------------


def regions_q(user: AnyUser) -> Q:
    if is_platform_admin(user):
        return Q()
    system_ids = visible_system_ids(user) or set()
    return Q(pk__in=reviewed_region_ids(user)) | Q(systems__pk__in=system_ids)


def systems_q(user: AnyUser) -> Q:
    return _all_or(visible_system_ids(user), "pk")


def organisations_q(user: AnyUser) -> Q:
    return _all_or(visible_system_ids(user), "system_id")


def uploads_q(user: AnyUser) -> Q:
    """A file left with the worker is seen only by the person who uploaded it, and only while
    they may still prepare the organisation's figures (its problems quote a private draft)."""
    if not user.is_authenticated:
        return Q(pk__in=[])
    preparing = member_organisation_ids(user, (Role.ORG_PREPARER, Role.ORG_APPROVER))
    return Q(actor_id=user.pk, organisation_id__in=preparing)


# --- predicates ----------------------------------------------------------------------------


def can_view_system(user: AnyUser, system: System) -> bool:
    ids = visible_system_ids(user)
    return ids is None or system.pk in ids


def can_view_organisation(user: AnyUser, organisation: Organisation) -> bool:
    """May see the organisation and its submitted figures (open book within the system)."""
    ids = visible_system_ids(user)
    return ids is None or organisation.system_id in ids


def can_view_region(user: AnyUser, region: Region) -> bool:
    if is_platform_admin(user) or region.pk in reviewed_region_ids(user):
        return True
    ids = visible_system_ids(user) or set()
    return System.objects.filter(region=region, pk__in=ids).exists()


def can_view_drafts(user: AnyUser, organisation: Organisation) -> bool:
    """Drafts stay private to their own organisation."""
    return organisation.pk in member_organisation_ids(user)


def can_prepare(user: AnyUser, organisation: Organisation) -> bool:
    return organisation.pk in member_organisation_ids(user, (Role.ORG_PREPARER, Role.ORG_APPROVER))


def can_approve(user: AnyUser, organisation: Organisation) -> bool:
    return organisation.pk in member_organisation_ids(user, (Role.ORG_APPROVER,))


def is_system_lead(user: AnyUser, system: System) -> bool:
    return system.pk in system_ids_with_role(user, (Role.SYSTEM_LEAD,))


def is_region_reviewer(user: AnyUser, region: Region) -> bool:
    return region.pk in reviewed_region_ids(user)


def can_view_audit(user: AnyUser, system: System) -> bool:
    """Every partner of a system may read its decision trail (it is theirs to check)."""
    return can_view_system(user, system)


# --- plans ------------------------------------------------------------------------------------


def can_view_submitted(user: AnyUser, organisation: Organisation) -> bool:
    """Submitted versions are open book: the organisation, its system, the region's reviewers."""
    return can_view_organisation(user, organisation)


def can_edit_draft(user: AnyUser, organisation: Organisation) -> bool:
    return can_prepare(user, organisation)


def can_submit(user: AnyUser, organisation: Organisation) -> bool:
    """Submitting (and recalling) is for the organisation's approvers, on behalf of the board."""
    return can_approve(user, organisation)


def can_decide_submission(user: AnyUser, organisation: Organisation) -> bool:
    """Accepting or returning a submission is for the lead of the organisation's system."""
    return organisation.system_id in system_ids_with_role(user, (Role.SYSTEM_LEAD,))


def can_read_comments(user: AnyUser, organisation: Organisation) -> bool:
    """Comments are shared by the organisation, its system and the region's reviewers."""
    return can_view_drafts(user, organisation) or can_view_submitted(user, organisation)


def can_comment(user: AnyUser, organisation: Organisation) -> bool:
    """Writing a comment takes a working role: a preparer or approver in the system, its lead,
    or the region's reviewer. Viewers read."""
    if not can_read_comments(user, organisation):
        return False
    working_orgs = member_organisation_ids(user, (Role.ORG_PREPARER, Role.ORG_APPROVER))
    if (
        working_orgs
        and Organisation.objects.filter(
            pk__in=working_orgs, system_id=organisation.system_id
        ).exists()
    ):
        return True
    if organisation.system_id in system_ids_with_role(user, (Role.SYSTEM_LEAD,)):
        return True
    region_id = System.objects.filter(pk=organisation.system_id).values_list("region_id", flat=True)
    return bool(reviewed_region_ids(user) & set(region_id))


def can_submit_system_plan(user: AnyUser, system: System) -> bool:
    return is_system_lead(user, system)


def can_review_system_plan(user: AnyUser, system: System) -> bool:
    return system.region_id in reviewed_region_ids(user)


def can_comment_system_plan(user: AnyUser, system: System) -> bool:
    return can_submit_system_plan(user, system) or can_review_system_plan(user, system)


# --- payments ---------------------------------------------------------------------------------


def can_set_control_totals(user: AnyUser, system: System) -> bool:
    """Control totals are set by platform administrators and the region's reviewers."""
    return is_platform_admin(user) or can_review_system_plan(user, system)


def can_propose_transfer(user: AnyUser, system: System) -> bool:
    """The system lead, or an approver of an organisation in the system (for a transfer its
    organisation is party to: see can_propose_transfer_between)."""
    if is_system_lead(user, system):
        return True
    approver_of = member_organisation_ids(user, (Role.ORG_APPROVER,))
    return Organisation.objects.filter(pk__in=approver_of, system=system).exists()


def can_propose_transfer_between(
    user: AnyUser, system: System, parties: Iterable[Organisation]
) -> bool:
    """The system lead proposes between any partners; an approver only a transfer one of its
    own organisations takes part in (not one between two others)."""
    if is_system_lead(user, system):
        return True
    approver_of = member_organisation_ids(user, (Role.ORG_APPROVER,))
    return any(o.pk in approver_of and o.system_id == system.pk for o in parties)


def can_manage_fund(user: AnyUser) -> bool:
    """A round's fund and its rules are national: platform administrators set them."""
    return is_platform_admin(user)


def can_set_allocations(user: AnyUser, system: System) -> bool:
    """Indicative allocations are set like control totals: the region's reviewers, admins."""
    return can_set_control_totals(user, system)


def can_choose_system_share(user: AnyUser, system: System) -> bool:
    """The system may tie more of the fund to its own performance; its lead says so."""
    return is_system_lead(user, system)


def can_propose_release(user: AnyUser, system: System) -> bool:
    return is_system_lead(user, system)


def can_decide_release(user: AnyUser, system: System) -> bool:
    """A discretionary release needs the regional reviewer's agreement."""
    return system.region_id in money_duties(user).release_region_ids


def can_draft_agreement(user: AnyUser, system: System) -> bool:
    """Risk-share agreements are drafted and changed by the system lead."""
    return is_system_lead(user, system)


def can_sign_agreement(user: AnyUser, organisation: Organisation) -> bool:
    """A partner signs a risk-share agreement by one of its approvers (the service checks it
    is a partner in the version signed)."""
    return organisation.pk in money_duties(user).signing_organisation_ids


def can_answer_settlement(user: AnyUser, organisation: Organisation) -> bool:
    """A partner accepts or disputes a settlement by one of its approvers."""
    return organisation.pk in money_duties(user).answering_organisation_ids


@dataclass(frozen=True)
class MoneyDuties:
    """Where this person acts in the money workflows, as sets, for a list that asks of many
    things at once (their home page's "waiting for you"). The predicates that answer for one
    thing (can_sign_agreement, can_answer_settlement, can_decide_settlement,
    can_decide_release, transfer_parties) read the same sets."""

    transfer_organisation_ids: set[int]  # parties to a transfer they decide for
    transfer_system_ids: set[int]  # systems whose lead decides transfers: theirs
    signing_organisation_ids: set[int]  # partners they sign agreements for
    answering_organisation_ids: set[int]  # partners they answer settlements for
    settlement_region_ids: set[int]  # regions whose disputed settlements they decide
    release_region_ids: set[int]  # regions whose discretionary releases they decide

    def __bool__(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))


def money_duties(user: AnyUser) -> MoneyDuties:
    """A partner's approvers decide its transfers, sign its agreements and answer its
    settlements; the system lead is a party to every transfer in the system; the region's
    reviewers decide disputed settlements and discretionary releases."""
    approves = member_organisation_ids(user, (Role.ORG_APPROVER,))
    regions = reviewed_region_ids(user)
    return MoneyDuties(
        transfer_organisation_ids=approves,
        transfer_system_ids=system_ids_with_role(user, (Role.SYSTEM_LEAD,)),
        signing_organisation_ids=approves,
        answering_organisation_ids=approves,
        settlement_region_ids=regions,
        release_region_ids=regions,
    )


def transfer_parties(user: AnyUser, transfer) -> list[Organisation | None]:
    """Every party to a transfer this person decides for: each organisation on its lines they
    approve for, and the system lead (None) if they lead its system. One person can hold
    several. (Reads the lines as fetched, so a page listing transfers can prefetch them.)"""
    duties = money_duties(user)
    parties: list[Organisation | None] = [
        line.organisation
        for line in transfer.lines.all()
        if line.organisation_id in duties.transfer_organisation_ids
    ]
    if transfer.system_id in duties.transfer_system_ids:
        parties.append(None)
    return parties


def can_decide_settlement(user: AnyUser, system: System) -> bool:
    """Disputed settlements go to the region's reviewers."""
    return system.region_id in money_duties(user).settlement_region_ids


def can_recalculate_round(user: AnyUser) -> bool:
    """A national recalculation of a round is for platform administrators."""
    return is_platform_admin(user)


# --- two-step verification -----------------------------------------------------------------

# Whoever holds one of these signs, submits, accepts or decides for others.
SECOND_FACTOR_ROLES = (Role.ORG_APPROVER, Role.SYSTEM_LEAD, Role.REGION_REVIEWER)


def second_factor_method(user: AnyUser) -> str | None:
    """How this request's person confirmed it is them with a second factor: in this session
    (accounts/middleware.py) or, through the API, in the session that made the token."""
    return getattr(user, second_factor.USER_ATTRIBUTE, None) or None


def has_second_factor(user: AnyUser) -> bool:
    return second_factor.is_unattended() or second_factor_method(user) is not None


def needs_second_factor(user: AnyUser) -> bool:
    """Must the person confirm a second factor before they sign, submit, accept or decide?
    Approvers, system leads, regional reviewers and platform administrators must; everyone
    must when an administrator requires it of everyone."""
    if not settings.SECOND_FACTOR_REQUIRED or not user.is_authenticated or not user.is_active:
        return False
    if is_platform_admin(user) or any(role in SECOND_FACTOR_ROLES for role, *_ in _roles(user)):
        return True
    return second_factor.required_of_everyone()


def second_factor_missing(user: AnyUser) -> bool:
    return needs_second_factor(user) and not has_second_factor(user)


def require_second_factor(user: AnyUser, act: str) -> None:
    """Services call this after their own permission check, for each act that signs, submits,
    accepts or decides; `act` completes "To … you need …"."""
    if second_factor_missing(user):
        raise SecondFactorRequired(act)


def second_factor_before_anything(user: AnyUser) -> bool:
    """Must every session of the person confirm a second factor before any page (the
    platform requires it of everyone)?"""
    return (
        settings.SECOND_FACTOR_REQUIRED
        and user.is_authenticated
        and second_factor.required_of_everyone()
    )


def admin_pages_need_second_factor(user: AnyUser) -> bool:
    """The administration pages change anyone's access: staff confirm a second factor first."""
    return bool(settings.SECOND_FACTOR_REQUIRED and user.is_authenticated and user.is_staff)


def can_require_second_factor_of_everyone(user: AnyUser) -> bool:
    return is_platform_admin(user)


def can_reset_second_factor(user: AnyUser) -> bool:
    """Someone who lost their authenticator and their recovery codes asks an administrator."""
    return is_platform_admin(user)


# --- webhooks ---------------------------------------------------------------------------------


def can_manage_webhooks(user: AnyUser, system: System) -> bool:
    """A system's webhooks, their signing secrets and what was delivered are for its lead: they
    connect the system's own finance systems, and the secret must not spread further."""
    return is_system_lead(user, system)


def can_import_people(user: AnyUser) -> bool:
    """Bringing people on board from a file (invitations and roles anywhere, many at once) is
    for platform administrators: one file can reach every organisation, system and region."""
    return is_platform_admin(user)


def invitable_roles(
    user: AnyUser,
    *,
    organisation: Organisation | None = None,
    system: System | None = None,
    region: Region | None = None,
) -> list[str]:
    """The roles the person may invite someone to at this place. An organisation's approvers
    invite to its roles (up to their own, the highest); a system's leads to the system's
    roles; a region's reviewers to the roles of its systems and its own; administrators to
    anything."""
    admin = is_platform_admin(user)
    if organisation is not None:
        allowed = admin or can_approve(user, organisation)
        return [r.value for r in ORGANISATION_ROLES] if allowed else []
    if system is not None:
        allowed = (
            admin or is_system_lead(user, system) or system.region_id in reviewed_region_ids(user)
        )
        return [r.value for r in SYSTEM_ROLES] if allowed else []
    if region is not None:
        allowed = admin or region.pk in reviewed_region_ids(user)
        return [r.value for r in REGION_ROLES] if allowed else []
    return []


def sso_refusal(*, email: str, claims: dict, issuer: str) -> tuple[str, str] | None:
    """Why someone the identity provider vouches for may not come in as `email` (a reason for
    the trail and a sentence for them), or None. Whether an account or invitation waits is
    decided after this (accounts/sso.py)."""
    domain = email.rpartition("@")[2]
    allowed = [d.lower().lstrip("@") for d in settings.OIDC_ALLOWED_EMAIL_DOMAINS]
    if allowed and domain not in allowed:
        return ("domain not allowed", f"Openbook does not take sign-ins for {domain} addresses. "
                f"Use your {' or '.join(allowed)} account.")  # fmt: skip
    if settings.OIDC_REQUIRE_EMAIL_VERIFIED and claims.get("email_verified") is not True:
        return ("e-mail not verified", "Your identity provider has not verified your e-mail "
                "address, so Openbook cannot match it to an account.")  # fmt: skip
    idp = claims.get("idp")
    if idp and str(idp).rstrip("/") != issuer.rstrip("/"):
        # Entra ID names the home tenant of a guest account here: a guest's address is theirs
        # to set, so it cannot stand for an account in this directory.
        return ("guest account", "Guest accounts cannot sign in to Openbook: use the account "
                "your own organisation gave you.")  # fmt: skip
    return None
