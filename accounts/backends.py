"""Password sign-in through the throttle (accounts/throttle.py), whichever page asks (the
sign-in page, the admin's): an authentication backend is the one place every password check
passes through."""

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from accounts import throttle


class ThrottledModelBackend(ModelBackend):
    """Django's own check of e-mail and password, asked only when the throttle allows.

    Refusals raise PermissionDenied, which ends the sign-in without asking other backends
    and sends user_login_failed (audited). A refusal for waiting leaves the seconds to wait on
    the request, for the page to say."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        username = username if username is not None else kwargs.get("email")
        if username is None or password is None:
            return None
        if not settings.PASSWORD_SIGN_IN:
            # Refused here, so no later backend is asked for the password either.
            raise PermissionDenied
        device = throttle.device_id(request, username)
        claim = throttle.claim(username, device)
        if not claim.allowed:
            if request is not None:
                request.signin_wait_seconds = claim.wait_seconds
                request.signin_wait_first = claim.first_refusal
            raise PermissionDenied
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            raise PermissionDenied  # counted already; no other backend checks passwords
        throttle.clear(username, device)
        return user
