"""The isolation matrix: every route × every kind of person → the status they must get.

Every URL the platform serves appears in ROUTES (or in EXEMPT, with the reason), in one table
a part of the platform (tests/isolation/<part>.py). Each later capability adds its routes to
its table; test_isolation_matrix fails if a route is missing.

Expectations are written per actor with a default for the rest, so a row reads as the policy:
"a partner in the same system sees it; an outsider from another system gets 404".
"""

from __future__ import annotations

from tests.isolation import accounts, audit, payments, plans, returns, webhooks
from tests.isolation.common import Route

# The states the matrix sets up, for other tests that need the same.
from tests.isolation.payments import (  # noqa: F401
    POOL,
    _with_agreement,
    _with_fund,
    _with_settlement,
    _with_transfer,
    _with_transfer_only,
)
from tests.isolation.plans import _plans_submitted, _system_submitted  # noqa: F401

ROUTES: list[Route] = [
    *accounts.ROUTES, *plans.ROUTES, *payments.ROUTES, *returns.ROUTES, *webhooks.ROUTES,
    *audit.ROUTES,
]  # fmt: skip

# Routes outside the matrix, and why.
EXEMPT = {
    "login": "public: the sign-in page",
    "sso_start": "public: off to the identity provider; tested in test_sso",
    "sso_callback": "public, guarded by state, nonce and PKCE; tested in test_sso",
    "logout": "ends whatever session there is; tested in test_login",
    "password_change": "acts on the signed-in person only; tested in test_login",
    "password_change_done": "a confirmation page",
    "password_reset": "public by design; tested in test_login",
    "password_reset_done": "public confirmation",
    "password_reset_confirm": "guarded by its one-time token; tested in test_login",
    "password_reset_complete": "public confirmation",
    "healthz": "public health check; tested in test_health",
    "api_schema": "public description of the API; tested by the schemathesis test",
    "api_docs": "public API reference page",
    "api-root": "DRF's index of API links",
}
