"""Single sign-on by OpenID Connect (NHS.net is Microsoft Entra ID), on mozilla-django-oidc.

The library runs the authorisation-code flow with state, nonce and PKCE. This module gives it
the provider's endpoints from its discovery document (so a site sets only the issuer), checks
more of the ID token than the library does (issuer and audience), and decides who may come in:
a person is matched by a verified e-mail address, or their account is made only when an
invitation to that address is waiting. Nobody gains access by having an account at the
identity provider alone.

A refusal leaves its reason on the request (`request.sso_refusal`) for the sign-in page to say.
"""

from __future__ import annotations

import logging
import threading
import time

import httpx
import jwt
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core import checks
from django.core.exceptions import SuspiciousOperation
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings

from accounts import invitations, policy
from accounts.models import User
from openbook.audit import audit_record
from openbook.client_address import client_address

log = logging.getLogger(__name__)

DISCOVERY_TTL_SECONDS = 3600
# A provider that failed is not asked again for this long: during an outage each click on the
# button would otherwise hold a web worker for the whole timeout.
FAILURE_MEMORY_SECONDS = 60
# Connect, then read: short, as every call happens while a person waits on a web worker.
TIMEOUT = (3.0, 5.0)
# How far the provider's clock may be from ours when checking exp and iat.
CLOCK_SKEW_SECONDS = 60

# The library's setting names and the discovery document's fields that answer them.
_DISCOVERED = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
}
_FIXED = {
    "OIDC_RP_SIGN_ALGO": "RS256",
    "OIDC_USE_PKCE": True,
    "OIDC_PKCE_CODE_CHALLENGE_METHOD": "S256",
    "OIDC_USE_NONCE": True,
    "OIDC_RP_SCOPES": "openid email profile",
    "OIDC_CREATE_USER": False,  # accounts are made here, from invitations only
    "OIDC_AUTHENTICATION_CALLBACK_URL": "sso_callback",
    "OIDC_TIMEOUT": TIMEOUT,
}

_discovery: dict[str, tuple[float, dict]] = {}
_failed: dict[str, tuple[float, str]] = {}
_discovery_lock = threading.Lock()


class ProviderUnavailable(Exception):
    """The identity provider could not be asked (down, or its answer made no sense)."""


def enabled() -> bool:
    return bool(settings.OIDC_ISSUER)


def discovery() -> dict:
    """The provider's discovery document, fetched once an hour per process."""
    issuer = settings.OIDC_ISSUER.rstrip("/")
    with _discovery_lock:
        cached = _discovery.get(issuer)
        if cached and time.monotonic() - cached[0] < DISCOVERY_TTL_SECONDS:
            return cached[1]
        failed = _failed.get(issuer)
        if failed and time.monotonic() - failed[0] < FAILURE_MEMORY_SECONDS:
            raise ProviderUnavailable(failed[1])
    try:
        response = httpx.get(
            f"{issuer}/.well-known/openid-configuration",
            timeout=httpx.Timeout(TIMEOUT[1], connect=TIMEOUT[0]),
        )
        response.raise_for_status()
        document = response.json()
        # OpenID Connect Discovery 1.0, section 4.3: the issuer must be the one asked.
        if document.get("issuer", "").rstrip("/") != issuer or any(
            field not in document
            for field in ("authorization_endpoint", "token_endpoint", "jwks_uri")
        ):
            raise ValueError("it answered for another issuer, or without the code flow")
    except (httpx.HTTPError, ValueError) as exc:
        reason = f"discovery at {issuer} failed: {exc}"
        with _discovery_lock:
            _failed[issuer] = (time.monotonic(), reason)
        raise ProviderUnavailable(reason) from exc
    with _discovery_lock:
        _failed.pop(issuer, None)
        _discovery[issuer] = (time.monotonic(), document)
    return document


def setting(attr: str, *default):
    """What mozilla-django-oidc asks for, answered from our settings and the discovery."""
    if attr in _DISCOVERED:
        return discovery().get(_DISCOVERED[attr], *default)
    if attr in _FIXED:
        return _FIXED[attr]
    if attr == "OIDC_RP_CLIENT_ID":
        return settings.OIDC_CLIENT_ID
    if attr == "OIDC_RP_CLIENT_SECRET":
        return settings.OIDC_CLIENT_SECRET
    return import_from_settings(attr, *default)


def second_factor_asserted(amr: object) -> bool:
    """Whether the provider says the sign-in used a second factor: one of the amr values (RFC
    8176) the site counts as one, by default only "mfa" (more than one factor)."""
    if not isinstance(amr, list):
        return False
    return bool({str(value) for value in amr} & set(settings.OIDC_SECOND_FACTOR_AMR))


class Refused(Exception):
    """The provider vouched for someone Openbook will not let in; the text is for them."""


def _refuse(request, email: str, reason: str, text: str) -> None:
    audit_record(
        action="auth.sso_refused",
        actor_label=email[:254],
        payload={
            "attempted": email[:254], "reason": reason, "ip": client_address(request),
            "user_agent": request.headers.get("User-Agent", "")[:200],
        },
    )  # fmt: skip
    raise Refused(text)


class Backend(OIDCAuthenticationBackend):
    """Signs a person in from the provider's ID token; asked only by the callback page."""

    def __init__(self, *args, **kwargs):
        # Built for every request of a person signed in this way (to find them from their
        # session), so nothing here may ask the provider; the library's own __init__ does.
        self.UserModel = User
        self.OIDC_RP_SIGN_ALGO = _FIXED["OIDC_RP_SIGN_ALGO"]
        self.OIDC_RP_IDP_SIGN_KEY = None

    get_settings = staticmethod(setting)

    @property
    def OIDC_RP_CLIENT_ID(self) -> str:  # noqa: N802 - the library's attribute names
        return settings.OIDC_CLIENT_ID

    @property
    def OIDC_RP_CLIENT_SECRET(self) -> str:  # noqa: N802
        return settings.OIDC_CLIENT_SECRET

    @property
    def OIDC_OP_TOKEN_ENDPOINT(self) -> str:  # noqa: N802
        return setting("OIDC_OP_TOKEN_ENDPOINT")

    @property
    def OIDC_OP_USER_ENDPOINT(self) -> str | None:  # noqa: N802
        return setting("OIDC_OP_USER_ENDPOINT", None)

    @property
    def OIDC_OP_JWKS_ENDPOINT(self) -> str:  # noqa: N802
        return setting("OIDC_OP_JWKS_ENDPOINT")

    def get_user(self, user_id):
        # Django's own, which refuses a deactivated account (the library's does not): closing
        # an account ends the sessions begun by single sign-on too.
        return ModelBackend.get_user(self, user_id)

    def authenticate(self, request, **kwargs):
        # Only the callback passes a nonce; a password sign-in never reaches the provider.
        if not enabled() or request is None or "nonce" not in kwargs:
            return None
        return super().authenticate(request, **kwargs)

    def _verify_jws(self, payload, key):
        """The signature as the library checks it, then what it leaves out: the token is from
        our issuer, for us, current, and names its subject (OpenID Connect Core 3.1.3.7)."""
        header = jwt.get_unverified_header(payload)
        if header.get("alg") != self.OIDC_RP_SIGN_ALGO:
            raise SuspiciousOperation("The ID token is not signed with RS256.")
        try:
            claims = jwt.decode(
                payload, key, algorithms=[self.OIDC_RP_SIGN_ALGO],
                audience=settings.OIDC_CLIENT_ID, issuer=settings.OIDC_ISSUER.rstrip("/"),
                leeway=CLOCK_SKEW_SECONDS,
                options={"require": ["iss", "aud", "exp", "iat", "sub"]},
            )  # fmt: skip
        except jwt.PyJWTError as exc:
            raise SuspiciousOperation(f"The ID token failed its checks: {exc}") from exc
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != settings.OIDC_CLIENT_ID:
            raise SuspiciousOperation("The ID token was issued to another party.")
        return claims

    def get_userinfo(self, access_token, id_token, payload):
        """The ID token's claims, with the userinfo endpoint's where the token lacks them.
        Entra ID's tokens carry the e-mail address only as an optional claim."""
        claims = dict(payload)
        if self.OIDC_OP_USER_ENDPOINT and not claims.get("email"):
            extra = super().get_userinfo(access_token, id_token, payload)
            if extra.get("sub") != payload.get("sub"):
                # Core 5.3.2: a userinfo answer for another subject must not be used.
                raise SuspiciousOperation("The userinfo answer is for another person.")
            claims = {**extra, **claims}
        return claims

    def get_or_create_user(self, access_token, id_token, payload):
        request = self.request
        claims = self.get_userinfo(access_token, id_token, payload)
        raw = str(claims.get("email") or "").strip()
        identity = f"{payload['iss']} {payload['sub']}"
        if not raw:
            _refuse(request, "", "no e-mail",
                    "Your NHS account did not tell Openbook your e-mail address. Ask your "
                    "administrator to release the email claim to Openbook.")  # fmt: skip
        if not raw.isascii():
            # As invitations refuse them: lower-casing some letters outside ASCII gives plain
            # ones ("\u212a" becomes "k"), so such an address could pass for another person's.
            _refuse(request, raw, "address not plain ASCII",
                    "Openbook takes only e-mail addresses in plain letters and digits; yours "
                    "has others. Ask your administrator.")  # fmt: skip
        email = raw.lower()
        refusal = policy.sso_refusal(email=email, claims=claims, issuer=str(payload["iss"]))
        if refusal:
            _refuse(request, email, *refusal)
        user = User.objects.filter(sso_identity=identity).first()
        if user is None:
            user = User.objects.filter(email=email).first()
            if user is not None and user.sso_identity:
                _refuse(request, email, "address held by another identity",
                        f"The Openbook account for {email} belongs to another NHS identity. "
                        "Ask your administrator.")  # fmt: skip
        if user is None:
            user = invitations.invitations_accept_by_sso(
                email=email, full_name=str(claims.get("name") or "").strip()
            )
        if user is None:
            _refuse(request, email, "not invited",
                    f"There is no Openbook account or waiting invitation for {email}. Ask "
                    "your organisation's approver to invite you.")  # fmt: skip
        assert user is not None
        if not user.is_active:
            _refuse(request, email, "account closed",
                    "This account has been closed. Ask your administrator.")  # fmt: skip
        if not user.sso_identity:
            user.sso_identity = identity
            user.save(update_fields=["sso_identity"])
            # Who this account answers to from now on: a change that matters, in the trail.
            audit_record(action="account.sso_bound", actor=user, obj=user,
                         after={"issuer": str(payload["iss"])[:200]})  # fmt: skip
        # From the signed ID token only, never the userinfo answer.
        request.sso_amr = [str(v) for v in payload.get("amr") or []][:10]
        request.sso_second_factor = second_factor_asserted(payload.get("amr"))
        return user


def check_configuration(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """A system check: refuse to start half-configured (an issuer without its client, or the
    reverse), or with no way in at all."""
    errors: list[checks.CheckMessage] = []
    parts = [settings.OIDC_ISSUER, settings.OIDC_CLIENT_ID, settings.OIDC_CLIENT_SECRET]
    if any(parts) and not all(parts):
        errors.append(checks.Error(
            "Single sign-on needs OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET together.",
            id="openbook.E101",
        ))  # fmt: skip
    if (
        enabled()
        and not settings.OIDC_REQUIRE_EMAIL_VERIFIED
        and not (settings.OIDC_ALLOWED_EMAIL_DOMAINS)
    ):
        errors.append(checks.Error(
            "OIDC_REQUIRE_EMAIL_VERIFIED is off and OIDC_ALLOWED_EMAIL_DOMAINS is empty: any "
            "address the provider holds would match an account.", id="openbook.E103",
        ))  # fmt: skip
    if not settings.PASSWORD_SIGN_IN and not enabled():
        errors.append(checks.Error(
            "PASSWORD_SIGN_IN is off and single sign-on is not configured: nobody could sign "
            "in.", id="openbook.E102",
        ))  # fmt: skip
    return errors
