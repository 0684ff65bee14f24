"""API authentication by personal token."""

from __future__ import annotations

from typing import Any

from knox.auth import TokenAuthentication as KnoxTokenAuthentication


class TokenAuthentication(KnoxTokenAuthentication):
    """Knox tokens (hashed, expiring, revocable), noting when each was last used."""

    def authenticate_credentials(self, token: bytes) -> tuple[Any, Any]:
        user, auth_token = super().authenticate_credentials(token)
        from accounts.second_factor import USER_ATTRIBUTE
        from accounts.services import token_touch

        token_touch(auth_token)
        # A token made in a session that had confirmed a second factor carries it.
        setattr(user, USER_ATTRIBUTE, auth_token.second_factor or None)
        return user, auth_token
