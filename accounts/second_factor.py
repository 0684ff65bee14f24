"""Two-step verification's state: whether this session has confirmed the person with a second
factor, and how. The rules of who must (accounts/policy.py) read it from here.

The contract for every way of signing in (the password form here; single sign-on calls
`mark_verified(request, "identity-provider")` when the identity provider's `amr` claim says
it asked for a second factor):

- `mark_verified(request, method)`, after `login()`: this session now has a second factor,
  by `method` ("totp", "recovery" or "identity-provider"). It cycles nothing else (no new
  session key, no other session touched). A sign-in starts every session without one.
- `method_of(request)`: how this session confirmed it, or None.

accounts/middleware.py copies the session's method onto request.user (USER_ATTRIBUTE) on
every request; API token authentication copies the token's (accounts/authentication.py).
A person fetched outside a request carries neither, and so has no second factor: acts that
need one are refused, except inside `unattended()` (the demo seeds, run by the operators).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from redis.exceptions import RedisError

if TYPE_CHECKING:
    from accounts.models import User

log = logging.getLogger(__name__)


class SecondFactorRequired(PermissionDenied):
    """An act that needs two-step verification, by a person whose session (or API token) has
    not confirmed it is them with a second factor. A page sends them to set one up or to type
    the code, and back (accounts/middleware.py); the API answers 403 with the code
    "second_factor_required" (openbook/api.py)."""

    def __init__(self, act: str):
        self.act = act
        super().__init__(
            f"To {act} you need to confirm it is you with a security code from your "
            "authenticator app (two-step verification)."
        )


METHODS = ("totp", "recovery", "identity-provider")
SESSION_KEY = "_openbook_second_factor"
# Set at sign-in for a person who has an authenticator: the session asks for a code before
# anything else (accounts/middleware.py).
PENDING_KEY = "_openbook_second_factor_pending"
USER_ATTRIBUTE = "second_factor_method"
EVERYONE_CACHE_KEY = "second-factor-for-everyone"
EVERYONE_CACHE_SECONDS = 60

_unattended: ContextVar[str | None] = ContextVar("second_factor_unattended", default=None)


def mark_verified(request, method: str) -> None:
    """Record that this session has confirmed the signed-in person with a second factor."""
    if method not in METHODS:
        raise ValueError(f"Unknown second factor {method!r}: one of {', '.join(METHODS)}.")
    user = request.user
    if not user.is_authenticated:
        raise ValueError("No one is signed in to this session: call login() first.")
    request.session[SESSION_KEY] = {
        "user": str(user.pk),
        "method": method,
        "at": timezone.now().isoformat(),
    }
    request.session.pop(PENDING_KEY, None)
    setattr(user, USER_ATTRIBUTE, method)


def method_of(request) -> str | None:
    """How this session confirmed its person with a second factor; None if it has not (or a
    mark left by someone else who signed in to the same browser)."""
    mark: Any = request.session.get(SESSION_KEY)
    user = request.user
    if (
        isinstance(mark, dict)
        and user.is_authenticated
        and mark.get("user") == str(user.pk)
        and mark.get("method") in METHODS
    ):
        return mark["method"]
    return None


def confirmed_within(request, seconds: int) -> bool:
    """Whether this session confirmed its second factor in the last `seconds`: replacing or
    removing it asks for a fresh code, so a stolen session alone cannot take it over."""
    mark: Any = request.session.get(SESSION_KEY)
    if method_of(request) is None or not isinstance(mark, dict):
        return False
    try:
        at = datetime.fromisoformat(str(mark.get("at")))
    except ValueError:
        return False
    return timezone.now() - at <= timedelta(seconds=seconds)


def forget(request) -> None:
    """This session no longer has a second factor (the person removed theirs)."""
    request.session.pop(SESSION_KEY, None)
    request.session.pop(PENDING_KEY, None)
    setattr(request.user, USER_ATTRIBUTE, None)


def signed_in(request, user: User) -> None:
    """At every sign-in (accounts/receivers.py): the session starts without a second factor,
    and one whose person has an authenticator asks for its code before going on."""
    request.session.pop(SESSION_KEY, None)
    if has_device(user):
        request.session[PENDING_KEY] = True
    else:
        request.session.pop(PENDING_KEY, None)
    setattr(user, USER_ATTRIBUTE, None)


def is_pending(request) -> bool:
    """Signed in with a password, the authenticator's code still to come."""
    return bool(request.session.get(PENDING_KEY)) and method_of(request) is None


def has_device(user: User) -> bool:
    """Has the person set up an authenticator app (and confirmed it with a code)?"""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def required_of_everyone() -> bool:
    """Has the platform been told to require two-step verification of everyone? The
    administrators' choice (SecuritySetting), else SECOND_FACTOR_FOR_EVERYONE; kept in the
    cache for a minute (dropped when it changes), as every page of an unverified session asks."""
    try:
        value = cache.get(EVERYONE_CACHE_KEY)
    except RedisError:
        log.exception("the cache is away; reading the two-step setting from the database")
        value = None
    if value is None:
        from accounts.models import SecuritySetting

        row = SecuritySetting.objects.filter(pk=1).values_list(
            "second_factor_for_everyone", flat=True
        )
        value = row[0] if row else settings.SECOND_FACTOR_FOR_EVERYONE
        with suppress(RedisError):
            cache.set(EVERYONE_CACHE_KEY, bool(value), EVERYONE_CACHE_SECONDS)
    return bool(value)


def forget_everyone_setting() -> None:
    try:
        cache.delete(EVERYONE_CACHE_KEY)
    except RedisError:
        log.exception("the two-step setting could not be dropped from the cache (a minute)")


@contextmanager
def unattended(why: str) -> Iterator[None]:
    """Work the operators run outside any request (the demo and national seeds) acts for
    people who are not there to type a code: inside this block nobody is asked for one.
    Never for anything a request or a task runs (tests/accounts/test_second_factor.py
    checks that only demo/ uses it)."""
    token = _unattended.set(why)
    try:
        yield
    finally:
        _unattended.reset(token)


def is_unattended() -> bool:
    return _unattended.get() is not None
