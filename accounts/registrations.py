"""What the accounts app tells the platform (openbook/registry.py): its audit actions and what
waits on a person."""

from __future__ import annotations

from openbook import registry

ACTIONS = {
    "membership.created": "Role given",
    "membership.changed": "Role changed",
    "membership.deleted": "Role taken away",
    "token.created": "API token created",
    "token.revoked": "API token revoked",
    "password.changed": "Password changed, and API tokens revoked",
    "auth.login": "Signed in",
    "auth.logout": "Signed out",
    "auth.login_failed": "Sign-in refused",
    "account.sso_bound": "Account bound to its single sign-on identity",
    "auth.sso_refused": "Single sign-on refused (no account or invitation, or not allowed)",
    "auth.login_throttled": "Sign-in refused until a wait is over (too many wrong passwords)",
    "invitation.created": "Person invited",
    "invitation.accepted": "Invitation accepted",
    "invitation.withdrawn": "Invitation withdrawn",
    "people.imported": "People imported from a file (invited, or given roles)",
    "account.created": "Account created",
    "account.expiry_warned": "Warned that an unused account will be deactivated",
    "account.expired": "Unused account deactivated, its API tokens revoked",
    "region.created": "Region added from the ODS files",
    "system.created": "System added from the ODS files",
    "system.updated": "System changed from the ODS files",
    "organisation.created": "Organisation added from the ODS files",
    "organisation.updated": "Organisation changed from the ODS files",
    "session.ended": "Signed out of one browser",
    "sessions.ended_elsewhere": "Signed out everywhere else",
    "second_factor.set_up": "Two-step verification set up (authenticator app and recovery codes)",
    "second_factor.verified": "Confirmed with a security code",
    "second_factor.recovery_used": "Confirmed with a recovery code (used up)",
    "second_factor.failed": "Wrong security code",
    "second_factor.codes_replaced": "New recovery codes made (the old ones stopped working)",
    "second_factor.removed": "Two-step verification removed",
    "second_factor.reset": "Two-step verification reset by an administrator",
    "settings.second_factor_for_everyone": "Changed who must use two-step verification",
}


def register() -> None:
    from accounts import selectors

    registry.register_actions({}, ACTIONS)
    registry.register_attention(selectors.attention_items)
