"""Pages for signing in, the NHS structure a person can see and API tokens."""

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_http_methods, require_POST

from accounts import policy, second_factor, selectors, services, sso, throttle
from accounts.forms import LoginForm, TokenCreateForm
from openbook import registry
from openbook.client_address import client_address
from openbook.refusals import attempt

RESETS_PER_ACCOUNT = 3  # an hour: enough for a lost e-mail, too few to flood an inbox


def _within(key: str, limit: int) -> bool:
    """Count one more against `key` for the hour, atomically: INCR, and the hour set only when
    the count starts (EXPIRE NX), so a key never outlives its hour or loses its count."""
    client = cache._cache.get_client(key, write=True)  # type: ignore[attr-defined]
    name = cache.make_key(key)
    with client.pipeline() as pipe:
        count, _ = pipe.incr(name).expire(name, 3600, nx=True).execute()
    return int(count) <= limit


class PasswordsUsed:
    """Pages about passwords, gone where everyone signs in through the identity provider: a
    reset link sent before passwords were switched off must not set one."""

    def dispatch(self, request, *args, **kwargs):
        if not settings.PASSWORD_SIGN_IN:
            raise Http404("Passwords are not used here: sign in with your NHS account.")
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]


class PasswordResetView(PasswordsUsed, auth_views.PasswordResetView):
    """Reset e-mails are limited per account and per client address (the trusted-proxy
    address, openbook/client_address.py; generous, as a whole NHS site may share one). Over a
    limit the page says the same as ever (it never tells whether an account exists) and
    nothing is sent."""

    def form_valid(self, form):
        email = form.cleaned_data["email"]
        address = client_address(self.request)
        if not _within(f"reset:address:{address}", settings.PASSWORD_RESETS_PER_ADDRESS):
            log.warning("password reset limit reached for a client address")
            return HttpResponseRedirect(self.get_success_url())
        # By the account the address finds (as the e-mail goes to it), not by the text typed:
        # another spelling of the same address counts against the same account.
        users = list(form.get_users(email))
        if users and not all(_within(f"reset:account:{u.pk}", RESETS_PER_ACCOUNT) for u in users):
            log.warning("password reset limit reached for an account")
            return HttpResponseRedirect(self.get_success_url())
        return super().form_valid(form)


class PasswordChangeView(PasswordsUsed, auth_views.PasswordChangeView):
    """Changing the password keeps this session, ends the person's others, and revokes their
    API tokens."""

    def form_valid(self, form):
        with transaction.atomic():  # the new password and the tokens' revocation together
            response = super().form_valid(form)
            revoked = services.password_changed(
                actor=self.request.user, user=self.request.user, how="changed"
            )
        if revoked:
            messages.info(self.request, f"Your {revoked} API token{'s' if revoked != 1 else ''} "
                          "stopped working with the old password: make new ones if you need "
                          "them.")  # fmt: skip
        return response


class PasswordResetConfirmView(PasswordsUsed, auth_views.PasswordResetConfirmView):
    """Setting a new password from a reset link ends every session and revokes every token.
    The person is signed in there and then, in a browser now known for the account: a
    stranger still guessing at the account cannot keep them waiting at the sign-in page."""

    post_reset_login = True
    post_reset_login_backend = "accounts.backends.ThrottledModelBackend"

    def form_valid(self, form):
        with transaction.atomic():
            response = super().form_valid(form)
            # The reset proves the person has the mailbox: any sign-in wait ends too.
            services.password_changed(actor=form.user, user=form.user, how="reset")
        remember_device(self.request, response, form.user.email)
        return response


def remember_device(request, response, username: str) -> None:
    """Give the browser a device cookie for the account, unless it holds one already."""
    if throttle.device_id(request, username) is None:
        response.set_cookie(
            throttle.DEVICE_COOKIE,
            throttle.device_cookie_value(request, username),
            max_age=throttle.DEVICE_COOKIE_MAX_AGE,
            path=reverse("login"),
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
            samesite="Lax",
        )


log = logging.getLogger(__name__)


class LoginView(auth_views.LoginView):
    """Sign in. A browser signed in from gets a device cookie for the account (see
    accounts/throttle.py); an attempt refused for waiting answers 429 with Retry-After."""

    form_class = LoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["sso_name"] = settings.OIDC_PROVIDER_NAME if sso.enabled() else None
        context["password_sign_in"] = settings.PASSWORD_SIGN_IN
        return context

    def post(self, request, *args, **kwargs):
        if not settings.PASSWORD_SIGN_IN:
            messages.error(request, f"Passwords are not used here: sign in with "
                                    f"{settings.OIDC_PROVIDER_NAME}.")  # fmt: skip
            return redirect("login")
        return super().post(request, *args, **kwargs)

    def get_success_url(self):
        # A person with an authenticator types its code next, then goes where they were going.
        url = super().get_success_url()
        if second_factor.is_pending(self.request):
            return f"{reverse('second_factor_verify')}?{urlencode({'next': url})}"
        return url

    def form_valid(self, form):
        response = super().form_valid(form)
        remember_device(self.request, response, form.cleaned_data["username"])
        return response

    def form_invalid(self, form):
        response = super().form_invalid(form)
        wait = getattr(self.request, "signin_wait_seconds", None)
        if wait:
            response.status_code = 429
            response["Retry-After"] = str(wait)
        return response


@login_required
def organisation_list(request):
    organisations = selectors.organisations_visible_to(request.user).order_by(
        "system__name", "name"
    )
    page = Paginator(organisations, 50).get_page(request.GET.get("page"))
    return render(request, "accounts/organisation_list.html", {"page": page})


@login_required
def organisation_detail(request, ods_code):
    organisation = selectors.organisation_get(request.user, ods_code)
    people = selectors.organisation_people(request.user, organisation)
    return render(
        request,
        "accounts/organisation_detail.html",
        {
            "organisation": organisation,
            "people": people,
            "round": registry.current("round", request.user),
            "can_invite": bool(policy.invitable_roles(request.user, organisation=organisation)),
        },
    )


@login_required
def system_detail(request, code):
    system = selectors.system_get(request.user, code)
    return render(
        request,
        "accounts/system_detail.html",
        {
            "system": system,
            "organisations": system.organisations.order_by("kind", "name"),
            "people": selectors.system_people(request.user, system),
            "round": registry.current("round", request.user),
            "can_manage_webhooks": policy.can_manage_webhooks(request.user, system),
            "can_invite": bool(policy.invitable_roles(request.user, system=system)),
        },
    )


@login_required
def region_detail(request, code):
    region = selectors.region_get(request.user, code)
    systems = selectors.systems_visible_to(request.user).filter(region=region)
    return render(
        request,
        "accounts/region_detail.html",
        {
            "region": region,
            "systems": systems,
            "round": registry.current("round", request.user),
            "can_invite": bool(policy.invitable_roles(request.user, region=region)),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def token_list(request):
    form = TokenCreateForm(request.POST or None)
    new_token = None
    if request.method == "POST" and form.is_valid():
        with attempt(form=form) as call:
            token, new_token = services.token_create(
                actor=request.user,
                name=form.cleaned_data["name"],
                lifetime_days=form.cleaned_data["lifetime_days"],
            )
        if call.ok:
            form = TokenCreateForm()
    return render(
        request,
        "accounts/token_list.html",
        {
            "form": form,
            "tokens": selectors.tokens_of(request.user),
            "new_token": new_token,
            "needs_second_factor": policy.needs_second_factor(request.user),
            "has_second_factor": policy.has_second_factor(request.user),
        },
        status=422 if request.method == "POST" and form.errors else 200,
    )


@login_required
@require_POST
def token_revoke(request, token_key):
    token = selectors.token_get(request.user, token_key)
    services.token_revoke(actor=request.user, token=token)
    messages.success(request, f"The token “{token.name}” has been revoked. It no longer works.")
    return redirect("token_list")


@login_required
@require_POST
def places_set(request):
    """Show figures to more places, or back to the usual ones; back to the page it came from."""
    services.user_set_more_places(actor=request.user, more=request.POST.get("more") == "1")
    back = request.POST.get("next", "")
    # Back to a page of this site only, by its path ("abc" is no page, and not a view's name).
    if not back.startswith("/") or not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = reverse("home")
    return HttpResponseRedirect(back)
