"""Audit sign-ins, sign-outs and failed sign-ins, whichever way they happen (form, admin, API),
and keep the person's list of signed-in browsers (accounts/sessions.py).

Django's auth signals are the one place every authentication path passes through.
"""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from accounts import second_factor, sessions
from openbook.audit import audit_record
from openbook.client_address import client_address


def _client(request) -> dict[str, str]:
    if request is None:
        return {}
    return {
        "ip": client_address(request),
        "user_agent": request.headers.get("User-Agent", "")[:200],
    }


@receiver(user_logged_in, dispatch_uid="audit_login")
def audit_login(sender, request, user, **kwargs):
    payload = _client(request)
    method = getattr(request, "sign_in_method", None)
    if method:
        payload["method"] = method
        payload["amr"] = getattr(request, "sso_amr", [])
    audit_record(action="auth.login", actor=user, obj=user, payload=payload)
    if request is not None:
        sessions.session_started(request, user)
        if getattr(request, "session", None) is not None:
            second_factor.signed_in(request, user)


@receiver(user_logged_out, dispatch_uid="audit_logout")
def audit_logout(sender, request, user, **kwargs):
    if user is not None:
        audit_record(action="auth.logout", actor=user, obj=user, payload=_client(request))
    if request is not None:
        sessions.session_signed_out(request)


@receiver(user_login_failed, dispatch_uid="audit_login_failed")
def audit_login_failed(sender, credentials, request=None, **kwargs):
    attempted = str(credentials.get("username") or credentials.get("email") or "")[:254]
    wait = getattr(request, "signin_wait_seconds", None)
    if wait:
        # Refused for waiting, the password unread: recorded once a wait, not at every
        # attempt a script makes in it (each would be a row in the trail).
        if getattr(request, "signin_wait_first", False):
            audit_record(
                action="auth.login_throttled",
                actor_label=attempted,
                payload={"attempted": attempted, "wait_seconds": wait, **_client(request)},
            )
        return
    audit_record(
        action="auth.login_failed",
        actor_label=attempted,
        payload={"attempted": attempted, **_client(request)},
    )
