"""Two-step verification pages: the account's page, setting up an authenticator, the recovery
codes (shown once), removing it, and the code asked for after a password."""

from __future__ import annotations

import base64

import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import devices, policy, second_factor
from accounts.forms import PasswordAgainForm, SecurityCodeForm, SetUpForm
from accounts.middleware import exempt, safe_next
from openbook.refusals import attempt

NEW_KEY = "_openbook_second_factor_new_key"  # the secret being set up, until confirmed
NEW_CODES = "_openbook_recovery_codes"  # recovery codes to show once


def _with_next(name: str, next_url: str) -> str:
    return f"{reverse(name)}?{urlencode({'next': next_url})}"


def _qr_code(url: str) -> str:
    """The otpauth:// address as an SVG QR code, for an <img> (the page's policy allows data:
    images, not inline styles)."""
    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    return "data:image/svg+xml;base64," + base64.b64encode(image.to_string()).decode()


@login_required
@require_GET
def overview(request):
    user = request.user
    device = devices.totp_device_of(user)
    return render(
        request,
        "accounts/second_factor.html",
        {
            "device": device,
            "codes_left": devices.recovery_codes_left(user) if device else 0,
            "needs": policy.needs_second_factor(user),
            "method": policy.second_factor_method(user),
            "can_require_everyone": policy.can_require_second_factor_of_everyone(user),
            "everyone": second_factor.required_of_everyone(),
        },
    )


@exempt  # the way in, when the platform requires it before anything
@login_required
@require_http_methods(["GET", "POST"])
def set_up(request):
    user = request.user
    next_url = safe_next(request, request.GET.get("next") or request.POST.get("next"),
                         "second_factor")  # fmt: skip
    if second_factor.has_device(user):
        messages.info(request, "Two-step verification is already set up for your account.")
        return redirect(next_url)
    key = request.session.get(NEW_KEY)
    if not isinstance(key, str) or len(key) != 2 * devices.KEY_BYTES:
        key = request.session[NEW_KEY] = devices.new_key()
    form = SetUpForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        with attempt(form=form) as call:
            outcome, codes = devices.set_up(actor=user, key=key, code=form.cleaned_data["code"])
        if call.ok:
            if outcome.ok:
                del request.session[NEW_KEY]
                second_factor.mark_verified(request, "totp")
                request.session[NEW_CODES] = codes
                return redirect(_with_next("recovery_codes", next_url))
            form.add_error("code", "That code is not right. Check the app shows Openbook, then "
                           "enter the code it shows now (a new one every 30 seconds).")  # fmt: skip
    device = TOTPDevice(user=user, key=key)  # not saved: for its otpauth:// address
    return render(
        request,
        "accounts/second_factor_set_up.html",
        {
            "form": form,
            "qr_code": _qr_code(device.config_url),
            "key": devices.key_for_people(key),
            "next": next_url,
        },
        status=422 if request.method == "POST" else 200,
    )


@login_required
@require_GET
def recovery_codes(request):
    """New recovery codes, once: reloading the page does not show them again."""
    codes = request.session.pop(NEW_CODES, None)
    if not codes:
        messages.info(request, "Recovery codes are shown only once, when they are made. If you "
                      "did not keep yours, make new ones.")  # fmt: skip
        return redirect("second_factor")
    next_url = safe_next(request, request.GET.get("next"), "second_factor")
    return render(request, "accounts/recovery_codes.html", {"codes": codes, "next": next_url})


FRESH_SECONDS = 300


def _fresh_code_needed(request, what: str, back: str):
    """To the code page for a code typed now, then back to `back`, unless the session
    confirmed it in the last few minutes."""
    if second_factor.confirmed_within(request, FRESH_SECONDS):
        return None
    messages.info(request, f"To {what}, enter a code from your authenticator app (or a "
                  "recovery code) again.")  # fmt: skip
    return redirect(f"{reverse('second_factor_verify')}?{urlencode({'again': 1, 'next': back})}")


@login_required
@require_POST
def recovery_codes_replace(request):
    if devices.totp_device_of(request.user) is not None:
        again = _fresh_code_needed(request, "make new recovery codes", reverse("second_factor"))
        if again:
            return again
    with attempt(request) as call:
        codes = devices.recovery_codes_replace(actor=request.user)
    if not call.ok:
        return redirect("second_factor")
    request.session[NEW_CODES] = codes
    return redirect("recovery_codes")


@login_required
@require_http_methods(["GET", "POST"])
def remove(request):
    user = request.user
    if devices.totp_device_of(user) is None:
        return redirect("second_factor")
    again = _fresh_code_needed(request, "remove two-step verification",
                               reverse("second_factor_remove"))  # fmt: skip
    if again:
        return again
    policy_needs = policy.needs_second_factor(user)
    form = PasswordAgainForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with attempt(form=form) as call:
            ended = devices.remove(actor=user, password=form.cleaned_data["password"],
                                   keep_session_key=request.session.session_key)  # fmt: skip
        if call.ok:
            second_factor.forget(request)
            elsewhere = f" You were signed out of {ended} other session{'s' if ended != 1 else ''}."
            if policy_needs:
                messages.success(request, "Two-step verification is removed." + (elsewhere if ended
                                 else "") + " Set it up again, on your new phone for example: "
                                 "you need it to sign, submit and decide.")  # fmt: skip
                return redirect("second_factor_set_up")
            messages.success(request, "Two-step verification is removed." + (elsewhere if ended
                             else ""))  # fmt: skip
            return redirect("second_factor")
    return render(request, "accounts/second_factor_remove.html",
                  {"form": form, "needs": policy_needs},
                  status=422 if request.method == "POST" else 200)  # fmt: skip


@exempt
@login_required
@require_http_methods(["GET", "POST"])
def verify(request):
    """The code after a password (or before an act that needs it)."""
    user = request.user
    next_url = safe_next(request, request.GET.get("next") or request.POST.get("next"))
    again = bool(request.GET.get("again") or request.POST.get("again"))
    if policy.has_second_factor(user) and not (again and second_factor.has_device(user)):
        return redirect(next_url)
    if not second_factor.has_device(user):
        return redirect(_with_next("second_factor_set_up", next_url))
    form = SecurityCodeForm(request.POST or None, recovery=True)
    if request.method == "POST" and form.is_valid():
        outcome = devices.code_check(actor=user, code=form.cleaned_data["code"])
        if outcome.ok:
            assert outcome.method is not None
            second_factor.mark_verified(request, outcome.method)
            if outcome.method == "recovery":
                left = outcome.codes_left or 0
                text = (f"You used a recovery code: it will not work again. You have {left} "
                        f"left.")  # fmt: skip
                if left <= 3:
                    text += " Make new ones on your Two-step verification page."
                messages.warning(request, text)
            return redirect(next_url)
        if outcome.wait_seconds:
            s = outcome.wait_seconds
            form.add_error("code", f"Too many wrong codes have been tried. Wait {s} second"
                           f"{'s' if s != 1 else ''}, then enter the code again.")  # fmt: skip
        else:
            form.add_error("code", "That code is not right. Enter the code your authenticator "
                           "app shows now, or an unused recovery code.")  # fmt: skip
    return render(request, "accounts/second_factor_verify.html",
                  {"form": form, "next": next_url},
                  status=422 if request.method == "POST" else 200)  # fmt: skip


@login_required
@require_POST
def everyone_set(request):
    if not policy.can_require_second_factor_of_everyone(request.user):
        raise PermissionDenied("Only a platform administrator can change who must use it.")
    required = request.POST.get("everyone") == "1"
    devices.everyone_set(actor=request.user, required=required)
    messages.success(
        request,
        "Everyone now confirms it is them with a security code when they sign in."
        if required
        else "Only approvers, system leads, regional reviewers and administrators must now "
        "use two-step verification.",
    )
    return redirect("second_factor")
