"""A real gunicorn for tests that measure the web tier as production runs it."""

import os
import re
import runpy
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest
from django.db import connection

from tests.conftest import _database_url

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "deploy" / "gunicorn.conf.py"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def gunicorn(transactional_db, tmp_path):
    """gunicorn with the production config on a free port; yields (base URL, worker count).
    Stopped before the test's tables are emptied (it depends on the database fixture)."""
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": _database_url(connection.settings_dict),
           "GUNICORN_BIND": f"127.0.0.1:{port}"}  # fmt: skip
    env.pop("PASSWORD_HASHERS", None)  # production's PBKDF2, not the tests' fast MD5
    workers = runpy.run_path(str(CONFIG))["workers"]  # read from this same environment
    log = (tmp_path / "gunicorn.log").open("w")
    gunicorn_bin = Path(sys.executable).with_name("gunicorn")
    process = subprocess.Popen(
        [str(gunicorn_bin), "openbook.wsgi:application", "--config", str(CONFIG)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            up = httpx.get(f"{base}/login/", timeout=10).status_code == 200
        except httpx.HTTPError:
            up = False
        if up and len(psutil.Process(process.pid).children()) == workers:
            break
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError((tmp_path / "gunicorn.log").read_text()[-3000:])
        time.sleep(0.5)
    yield base, workers, psutil.Process(process.pid)
    process.terminate()
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    log.close()


class Browser:
    """One browser: its own cookies, signing in through the page as a person would."""

    def __init__(self, base: str, forwarded_for: str | None = None):
        headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
        self.http = httpx.Client(base_url=base, timeout=120, headers=headers)

    def _csrf(self, path: str = "/login/") -> str:
        page = self.http.get(path)
        return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)

    def sign_in(self, email: str, password: str) -> tuple[httpx.Response, float]:
        token = self._csrf()
        started = time.monotonic()
        response = self.http.post("/login/", data={"csrfmiddlewaretoken": token,
                                                    "username": email, "password": password})  # fmt: skip
        return response, time.monotonic() - started

    def sign_out(self) -> None:
        self.http.post("/logout/", data={"csrfmiddlewaretoken": self._csrf("/")})
