"""Two-step verification on every request (after AuthenticationMiddleware).

- Puts the session's second factor on request.user, where accounts/policy.py reads it.
- A session signed in with a password whose person has an authenticator, or any session when
  the platform requires it of everyone, goes to the code page (or the set-up page) before
  any other; so do staff on the administration pages.
- An act refused for want of a second factor (policy.SecondFactorRequired, raised by a
  service or a view) sends the person to set one up or type the code, with a message saying
  why, and back to the page they were on: never a bare 403. The API answers in its own way
  (openbook/api.py).

Views a session without its second factor must still reach (the code page, the set-up
pages, signing out) are marked with `exempt`.
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from django.contrib import messages
from django.http import HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import HttpResponseClientRedirect

from accounts import policy, second_factor


def exempt(view):
    """Mark a view a session without its second factor may use."""
    view.second_factor_exempt = True
    return view


def safe_next(request, value: str | None, default: str = "home") -> str:
    """A path on this site to go back to, else `default` (a view's name)."""
    if (
        value
        and value.startswith("/")
        and url_has_allowed_host_and_scheme(
            value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return value
    return reverse(default)


def _back(request) -> str:
    """Where the person was: this page for a GET; for a form sent, the page it was on."""
    if request.method in ("GET", "HEAD"):
        return request.get_full_path()
    referer = urlsplit(request.headers.get("Referer", ""))
    if referer.netloc == request.get_host() and referer.path:
        return safe_next(request, referer.path + (f"?{referer.query}" if referer.query else ""))
    return reverse("home")


def _is_api(request) -> bool:
    return request.path_info.startswith("/api/")


def send(request, act: str | None = None):
    """To the code page if the person has an authenticator, else to set one up; then back."""
    user = request.user
    due = "verify" if second_factor.has_device(user) else "set_up"
    if _is_api(request):
        text = (str(policy.SecondFactorRequired(act)) if act else
                "Confirm it is you with your security code on the sign-in page first.")  # fmt: skip
        return JsonResponse(
            {"error": {"code": "second_factor_required", "message": text}}, status=403
        )
    if act:
        if due == "verify":
            messages.info(request, f"To {act}, confirm it is you: enter the security code from "
                          "your authenticator app. Then do it again.")  # fmt: skip
        else:
            messages.info(request, f"To {act} you need two-step verification. Set it up now: "
                          "it takes a minute, with an authenticator app on your phone. Then you "
                          "come back to where you were.")  # fmt: skip
    name = "second_factor_verify" if due == "verify" else "second_factor_set_up"
    url = f"{reverse(name)}?{urlencode({'next': _back(request)})}"
    if request.headers.get("HX-Request"):
        return HttpResponseClientRedirect(url)
    return HttpResponseRedirect(url)


class SecondFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # No session cookie, no one signed in by it (and nothing to load to find out).
        if request.session.session_key and request.user.is_authenticated:
            setattr(request.user, second_factor.USER_ATTRIBUTE, second_factor.method_of(request))
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = request.user
        if not user.is_authenticated or getattr(view_func, "second_factor_exempt", False):
            return None
        # request.user here is the session's person: a request with a token and no session is
        # anonymous at this point, and the API's token authentication decides for it. Any
        # header sent beside a session changes nothing (pages and the API's session
        # authentication would still act for the session's person).
        if policy.has_second_factor(user):
            return None
        if second_factor.is_pending(request) or policy.second_factor_before_anything(user):
            return send(request)
        match = request.resolver_match
        if (
            match is not None
            and match.app_name == "admin"
            and (policy.admin_pages_need_second_factor(user))
        ):
            return send(request, "use the administration pages")
        return None

    def process_exception(self, request, exception):
        if isinstance(exception, policy.SecondFactorRequired) and request.user.is_authenticated:
            return send(request, exception.act)
        return None
