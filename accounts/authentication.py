"""API authentication by personal token."""

from __future__ import annotations

from typing import Any

from knox.auth import TokenAuthentication as KnoxTokenAuthentication


class TokenAuthentication(KnoxTokenAuthentication):
    """Knox tokens (hashed, expiring, revocable), noting when each was last used."""

    def authenticate_credentials(self, token: bytes) -> tuple[Any, Any]:
        user, auth_token = super().authenticate_credentials(token)
        from accounts.services import token_touch

        token_touch(auth_token)
        return user, auth_token
