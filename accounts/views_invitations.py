"""Who has access to an organisation, system or region, for those who manage it: inviting
people, taking up an invitation, and the access review (who holds which role, when each last
signed in; a role taken away with a reason)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from accounts import invitations, policy, selectors, services, sso
from accounts.forms import InvitationForm, NewAccountForm
from accounts.models import Role, User
from openbook.refusals import attempt

PLACES = {"organisation": selectors.organisation_get, "system": selectors.system_get,
          "region": selectors.region_get}  # fmt: skip


def _place(request, kind: str, code: str) -> dict:
    """The place by its code, through its selector (404 outside), as invitations name it."""
    return {kind: PLACES[kind](request.user, code)}


@login_required
@require_http_methods(["GET", "POST"])
def invite(request, kind: str, code: str):
    place = _place(request, kind, code)
    roles = policy.invitable_roles(request.user, **place)
    if not roles:
        raise PermissionDenied("Only the people who manage access here can invite others.")
    choices = [(r, Role(r).label) for r in roles]
    form = InvitationForm(request.POST or None, roles=choices)
    if request.method == "POST" and form.is_valid():
        with attempt(form=form) as call:
            invitation = invitations.invitation_create(
                actor=request.user, email=form.cleaned_data["email"],
                role=form.cleaned_data["role"], **place,
            )  # fmt: skip
        if call.ok:
            messages.success(
                request,
                f"Invitation sent to {invitation.email} as {invitation.get_role_display()}. "
                f"The link in it works once, for {invitations.INVITATION_DAYS} days.",
            )
            return redirect(request.path)
    return render(
        request,
        "accounts/invite.html",
        {
            "form": form,
            "scope": place[kind],
            "pending": invitations.pending_at(**place),
            "back": reverse(f"{kind}_detail", args=[code]),
            "days": invitations.INVITATION_DAYS,
        },  # fmt: skip
        status=422 if form.errors else 200,
    )


@login_required
@require_POST
def withdraw(request, pk: int):
    invitation = selectors.invitation_for_inviter(request.user, pk)
    with attempt(request) as call:
        invitations.invitation_withdraw(actor=request.user, invitation=invitation)
    if call.ok:
        messages.success(request, f"The invitation to {invitation.email} is withdrawn.")
    return redirect(_back(request))


@never_cache
@sensitive_post_parameters("password1", "password2")
@require_http_methods(["GET", "POST"])
def accept(request, token: str):
    """The link in the e-mail. Someone signed in as the invited address takes the role with
    one button; someone new chooses a name and password; someone with an account signs in."""
    invitation = invitations.invitation_find(token)
    if invitation is None:
        return render(request, "accounts/invitation_accept.html",
                      {"gone": True, "days": invitations.INVITATION_DAYS}, status=404)  # fmt: skip
    account = User.objects.filter(email__iexact=invitation.email).first()
    has_account = account is not None
    signed_in = request.user.is_authenticated
    form = None
    if not signed_in and not has_account and settings.PASSWORD_SIGN_IN:
        form = NewAccountForm(request.POST if request.method == "POST" else None,
                              email=invitation.email,
                              initial={"full_name": invitation.full_name})  # fmt: skip
    accepted = False
    if request.method == "POST" and (signed_in or (form is not None and form.is_valid())):
        with attempt(request, form=form) as call:
            if signed_in:
                invitations.invitation_accept(invitation=invitation, user=request.user)
            else:
                user = invitations.invitation_accept_new(
                    invitation=invitation, full_name=form.cleaned_data["full_name"],
                    password=form.cleaned_data["password1"],
                )  # fmt: skip
                login(request, user, backend="accounts.backends.ThrottledModelBackend")
        accepted = call.ok
    if accepted:
        messages.success(request, f"You are now {invitation.get_role_display()} for "
                         f"{invitation.scope}.")  # fmt: skip
        return redirect("home")
    return render(
        request,
        "accounts/invitation_accept.html",
        {
            "invitation": invitation,
            "form": form,
            "has_account": has_account,
            "wrong_person": signed_in and request.user.email.lower() != invitation.email,
            "deactivated": account is not None and not account.is_active,
            "login_url": reverse("login") + "?" + urlencode({"next": request.path}),
            "sso_name": settings.OIDC_PROVIDER_NAME if sso.enabled() else None,
        },  # fmt: skip
        status=422 if form is not None and form.errors else 200,
    )


@login_required
def access(request, kind: str, code: str):
    place = _place(request, kind, code)
    if not policy.invitable_roles(request.user, **place):
        raise PermissionDenied("Only the people who manage access here can review it.")
    return render(
        request,
        "accounts/access.html",
        {
            "scope": place[kind],
            "kind": kind,
            "code": code,
            "people": selectors.access_review(request.user, **place),
            "pending": invitations.pending_at(**place),
            "back": reverse(f"{kind}_detail", args=[code]),
        },  # fmt: skip
    )


@login_required
@require_POST
def remove(request, pk: int):
    membership = selectors.membership_for_manager(request.user, pk)
    reason = request.POST.get("reason", "").strip()[:500]
    scope = membership.scope
    back = _back(request)
    if not reason:
        messages.error(request, "Say why the role is being taken away: it goes in the audit trail.")
        return redirect(back)
    services.membership_delete(actor=request.user, membership=membership, reason=reason)
    messages.success(request, f"{membership.user} is no longer {membership.get_role_display()} "
                     f"for {scope}.")  # fmt: skip
    return redirect(back)


def _back(request) -> str:
    """The page the form came from, if it is a page of this site; else home."""
    back = request.POST.get("back", "")
    if back.startswith("/") and url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return back
    return reverse("home")
