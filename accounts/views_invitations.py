"""Inviting people to an organisation, system or region, and taking up an invitation."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from accounts import invitations, policy, selectors
from accounts.forms import InvitationForm, NewAccountForm
from accounts.models import Role, User
from openbook.forms import add_errors

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
        try:
            invitation = invitations.invitation_create(
                actor=request.user, email=form.cleaned_data["email"],
                role=form.cleaned_data["role"], **place,
            )  # fmt: skip
        except ValidationError as exc:
            add_errors(form, exc)
        else:
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
        },  # fmt: skip
        status=422 if form.errors else 200,
    )


@login_required
@require_POST
def withdraw(request, pk: int):
    invitation = selectors.invitation_for_inviter(request.user, pk)
    try:
        invitations.invitation_withdraw(actor=request.user, invitation=invitation)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"The invitation to {invitation.email} is withdrawn.")
    return redirect(request.POST.get("back") or reverse("home"))


@require_http_methods(["GET", "POST"])
def accept(request, token: str):
    """The link in the e-mail. Someone signed in as the invited address takes the role with
    one button; someone new chooses a name and password; someone with an account signs in."""
    invitation = invitations.invitation_find(token)
    if invitation is None:
        return render(request, "accounts/invitation_accept.html", {"gone": True}, status=404)
    has_account = User.objects.filter(email__iexact=invitation.email).exists()
    signed_in = request.user.is_authenticated
    form = None
    if not signed_in and not has_account:
        form = NewAccountForm(request.POST if request.method == "POST" else None,
                              email=invitation.email)  # fmt: skip
    if request.method == "POST":
        try:
            if signed_in:
                invitations.invitation_accept(invitation=invitation, user=request.user)
            elif form is not None and form.is_valid():
                user = invitations.invitation_accept_new(
                    invitation=invitation, full_name=form.cleaned_data["full_name"],
                    password=form.cleaned_data["password1"],
                )  # fmt: skip
                login(request, user, backend="accounts.backends.ThrottledModelBackend")
            else:
                raise ValidationError("")
        except ValidationError as exc:
            if form is not None and any(exc.messages):
                add_errors(form, exc)
        else:
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
            "login_url": reverse("login") + "?next=" + request.path,
        },  # fmt: skip
        status=422 if form is not None and form.errors else 200,
    )
