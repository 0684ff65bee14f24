"""The demo's stand-in for NHS.net sign-in: the local OpenID Connect provider
(demo/oidc/provider.mjs, on the npm package oidc-provider) with every demo login as an account.

Started by `openbook demo` only when Node.js and the package are there and no real provider is
configured (OIDC_ISSUER unset), so the demo shows single sign-on without any network."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
from pathlib import Path

from django.conf import settings

from demo.people import DEMO_LOGINS

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "demo" / "oidc" / "provider.mjs"
CLIENT_ID = "openbook-demo"
# Decision makers' sign-ins at the stand-in assert a second factor (amr "mfa"), as NHS.net's
# would for staff with multi-factor authentication; everyone else's are password only.
STRONG = ("approver", "lead", "reviewer", "admin")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def available() -> bool:
    return (
        not settings.OIDC_ISSUER
        and shutil.which("node") is not None
        and (ROOT / "node_modules" / "oidc-provider").is_dir()
    )


def prepare(home: Path, web_port: int) -> list[str]:
    """Write the provider's accounts and client, point this process's environment (which the
    web server inherits) at it, and return the command that runs it."""
    port = _free_port()
    secret = secrets.token_urlsafe(32)
    accounts = {
        email: {
            "password": settings.DEMO_PASSWORD,
            "email": email,
            "email_verified": True,
            "name": email.split("@")[0],
            "amr": ["pwd", "mfa"] if any(word in email for word in STRONG) else ["pwd"],
        }
        for email, _ in DEMO_LOGINS
    }
    redirects = [f"http://{host}:{web_port}/sso/callback/" for host in ("127.0.0.1", "localhost")]
    config = home / "oidc-provider.json"
    config.unlink(missing_ok=True)
    # Made readable by this user only from the start: it holds the client secret.
    with os.fdopen(os.open(config, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as out:
        json.dump({
            "clients": [{"client_id": CLIENT_ID, "client_secret": secret,
                         "redirect_uris": redirects}],
            "accounts": accounts,
        }, out)  # fmt: skip
    os.environ.update({
        "OIDC_PROVIDER_CONFIG": str(config), "OIDC_PROVIDER_PORT": str(port),
        "OIDC_ISSUER": f"http://127.0.0.1:{port}", "OIDC_CLIENT_ID": CLIENT_ID,
        "OIDC_CLIENT_SECRET": secret,
        "OIDC_PROVIDER_NAME": os.environ.get("OIDC_PROVIDER_NAME", "NHS.net (demo stand-in)"),
    })  # fmt: skip
    return [str(shutil.which("node")), str(SCRIPT)]
