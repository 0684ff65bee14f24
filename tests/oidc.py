"""A real OpenID Connect provider for tests: the certified npm package `oidc-provider`, run
under Node on 127.0.0.1 by demo/oidc/provider.mjs, and a driver that plays the browser's part
at the provider."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "demo" / "oidc" / "provider.mjs"
CLIENT_ID = "openbook-tests"
CLIENT_SECRET = "a-client-secret-for-the-tests-only-0123456789"
PASSWORD = "provider-password"


@dataclass
class Provider:
    issuer: str
    process: subprocess.Popen

    def tamper_next_id_token(self) -> None:
        httpx.post(f"{self.issuer}/_test/tamper", timeout=30).raise_for_status()

    def settings(self) -> dict:
        return {"OIDC_ISSUER": self.issuer, "OIDC_CLIENT_ID": CLIENT_ID,
                "OIDC_CLIENT_SECRET": CLIENT_SECRET}  # fmt: skip


def account(email: str, *, verified: bool = True, amr=("pwd",), name: str = "") -> dict:
    return {"password": PASSWORD, "email": email, "email_verified": verified,
            "name": name or email.split("@")[0].replace(".", " ").title(), "amr": list(amr)}  # fmt: skip


def start(tmp_path: Path, accounts: dict[str, dict], redirect_uris: list[str]) -> Provider:
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("Node.js is needed for the OpenID Connect provider (make install)")
    config = tmp_path / "oidc-provider.json"
    config.write_text(json.dumps({
        "clients": [{"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                     "redirect_uris": redirect_uris}],
        "accounts": accounts,
    }))  # fmt: skip
    log = tmp_path / "oidc-provider.log"
    env = {**os.environ, "OIDC_PROVIDER_CONFIG": str(config), "OIDC_PROVIDER_PORT": "0",
           "OIDC_PROVIDER_TEST_CONTROLS": "1"}  # fmt: skip
    process = subprocess.Popen(
        [node, str(SCRIPT)], cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for line in log.read_text().splitlines():
            if line.startswith("listening "):
                return Provider(line.split(" ", 1)[1].strip(), process)
        if process.poll() is not None:
            break
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"the OpenID Connect provider did not start:\n{log.read_text()[-2000:]}")


def stop(provider: Provider) -> None:
    provider.process.terminate()
    try:
        provider.process.wait(30)
    except subprocess.TimeoutExpired:
        provider.process.kill()


def through_provider(authorize_url: str, login: str, password: str = PASSWORD) -> str:
    """Sign in at the provider as a browser would; the URL it sends the browser back to."""
    issuer = "{0.scheme}://{0.netloc}".format(urlsplit(authorize_url))
    with httpx.Client(timeout=30) as browser:
        url, form = authorize_url, None
        for _ in range(12):
            response = browser.post(url, data=form) if form is not None else browser.get(url)
            form = None
            if response.is_redirect:
                url = urljoin(url, response.headers["location"])
                if not url.startswith(issuer):
                    return url
                continue
            if response.status_code == 200 and 'name="password"' in response.text:
                if "not right" in response.text:
                    raise AssertionError("the provider refused the password")
                action = response.text.split('action="', 1)[1].split('"', 1)[0]
                url, form = urljoin(url, action), {"login": login, "password": password}
                continue
            raise AssertionError(f"unexpected answer at {url}: {response.status_code} "
                                 f"{response.text[:300]}")  # fmt: skip
    raise AssertionError("the provider never sent the browser back")


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
