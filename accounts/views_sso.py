"""The two pages of single sign-on: off to the identity provider, and back (accounts/sso.py).

Every way the return can fail ends on the sign-in page with a sentence saying why, never on an
error page: a person who cannot get in needs to know whom to ask."""

import logging

import jwt
import requests
from django.contrib import messages
from django.core.exceptions import SuspiciousOperation
from django.http import Http404
from django.shortcuts import redirect
from mozilla_django_oidc import views as oidc_views

from accounts import second_factor, sso
from openbook.audit import audit_record
from openbook.client_address import client_address

log = logging.getLogger(__name__)

UNAVAILABLE = "The NHS sign-in service could not be reached just now. Try again in a few minutes."
UNCHECKED = ("Openbook could not check that sign-in, so it has not let you in. Start again "
             "from this page.")  # fmt: skip


class Start(oidc_views.OIDCAuthenticationRequestView):
    """Off to the provider, with state, nonce and a PKCE challenge kept in the session."""

    get_settings = staticmethod(sso.setting)

    def __init__(self, *args, **kwargs):
        # The library reads the endpoints when the view is made; here they come from the
        # provider's discovery, asked for only when someone clicks.
        super(oidc_views.OIDCAuthenticationRequestView, self).__init__(*args, **kwargs)

    def get(self, request):
        if not sso.enabled():
            raise Http404("Single sign-on is not configured here.")
        try:
            self.OIDC_OP_AUTH_ENDPOINT = sso.setting("OIDC_OP_AUTHORIZATION_ENDPOINT")
        except sso.ProviderUnavailable as exc:
            log.warning("single sign-on unavailable: %s", exc)
            messages.error(request, UNAVAILABLE)
            return redirect("login")
        self.OIDC_RP_CLIENT_ID = sso.setting("OIDC_RP_CLIENT_ID")
        return super().get(request)


class Callback(oidc_views.OIDCAuthenticationCallbackView):
    """Back from the provider: the library checks state, nonce and PKCE and asks the backend."""

    get_settings = staticmethod(sso.setting)

    @property
    def failure_url(self):
        return "login"

    def get(self, request):
        if not sso.enabled():
            raise Http404("Single sign-on is not configured here.")
        error = request.GET.get("error")
        if error:
            # Said, and the flow's state dropped; whoever is signed in stays so (a link to
            # this page must not sign anyone out).
            log.info("identity provider answered %s", error)
            states = request.session.get("oidc_states", {})
            if states.pop(request.GET.get("state", ""), None) is not None:
                request.session["oidc_states"] = states
            messages.error(request, "Sign-in was cancelled." if error == "access_denied"
                           else UNCHECKED)  # fmt: skip
            return redirect(self.failure_url)
        try:
            return super().get(request)
        except sso.Refused as exc:
            messages.error(request, str(exc))
        except (SuspiciousOperation, jwt.PyJWTError, KeyError) as exc:
            # A state never issued, a nonce or signature that does not match, a token that is
            # not one: a replayed or forged answer, or one from a session since ended.
            log.warning("single sign-on answer refused: %s", exc)
            audit_record(
                action="auth.sso_refused", actor_label="",
                payload={"reason": "answer failed its checks", "detail": str(exc)[:200],
                         "ip": client_address(request)},
            )  # fmt: skip
            messages.error(request, UNCHECKED)
        except requests.HTTPError as exc:
            # The provider refused the exchange (a code used twice, a PKCE verifier that does
            # not match): the answer was not genuine, or not this browser's.
            log.warning("single sign-on code exchange refused: %s", exc)
            status = exc.response.status_code if exc.response is not None else 500
            messages.error(request, UNCHECKED if 400 <= status < 500 else UNAVAILABLE)
        except (requests.RequestException, sso.ProviderUnavailable) as exc:
            log.warning("single sign-on exchange failed: %s", exc)
            messages.error(request, UNAVAILABLE)
        return redirect(self.failure_url)

    said = False

    def login_failure(self):
        if not self.said:
            messages.error(self.request, UNCHECKED)
        return redirect(self.failure_url)

    def login_success(self):
        self.request.sign_in_method = "single sign-on"
        if self.request.user.is_authenticated and self.request.user == self.user:
            # The library keeps the session of someone signing in again as themselves; what
            # this sign-in proves belongs to a new session key all the same.
            self.request.session.cycle_key()
        response = super().login_success()
        # Only after auth.login: what the provider asserted about this sign-in belongs to this
        # session, and counts as its second factor (accounts/second_factor.py).
        if getattr(self.request, "sso_second_factor", False):
            second_factor.mark_verified(self.request, "identity-provider")
        return response
