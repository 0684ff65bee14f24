"""The embedded runtime: private PostgreSQL and Redis under a data directory, started and
stopped cleanly, data kept between runs; and `openbook serve` on top of them."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import unquote, urlsplit

import psutil
import psycopg
import pytest
import redis

from openbook.runtime import embedded_services

pytestmark = pytest.mark.slow


def _connect(url: str) -> psycopg.Connection:
    parts = urlsplit(url)
    return psycopg.connect(
        host=unquote(parts.hostname or ""), user=parts.username, dbname=parts.path.lstrip("/")
    )


@pytest.fixture
def no_configured_services(monkeypatch, tmp_path):
    for name in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "STATIC_ROOT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENBOOK_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_embedded_services_start_stop_and_keep_data(no_configured_services):
    home = no_configured_services
    with embedded_services() as urls:
        assert set(urls) >= {"DATABASE_URL", "REDIS_URL", "SECRET_KEY"}
        with _connect(urls["DATABASE_URL"]) as conn:
            conn.execute("CREATE TABLE kept (value text)")
            conn.execute("INSERT INTO kept VALUES ('still here')")
        socket_path = urlsplit(urls["REDIS_URL"]).path
        client = redis.Redis(unix_socket_path=socket_path)
        client.set("kept", "yes")
        postgres_pid = int((home / "postgres" / "postmaster.pid").read_text().split()[0])
        assert psutil.pid_exists(postgres_pid)

    # Stopped: the postmaster has gone and Redis no longer answers.
    deadline = time.monotonic() + 10
    while psutil.pid_exists(postgres_pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not psutil.pid_exists(postgres_pid)
    with pytest.raises((redis.ConnectionError, FileNotFoundError)):
        redis.Redis(unix_socket_path=socket_path, socket_connect_timeout=1).ping()

    # A second run finds the data where the first left it.
    os.environ.pop("DATABASE_URL")
    os.environ.pop("REDIS_URL")
    with embedded_services() as urls:
        with _connect(urls["DATABASE_URL"]) as conn:
            assert conn.execute("SELECT value FROM kept").fetchone() == ("still here",)
        assert redis.Redis(unix_socket_path=socket_path).get("kept") == b"yes"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_runs_the_platform_and_sigterm_stops_everything(no_configured_services):
    port = _free_port()
    openbook = Path(sys.executable).with_name("openbook")
    env = {**os.environ, "CELERY_QUEUE": f"openbook-runtime-{port}"}
    process = subprocess.Popen(
        [str(openbook), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 180
        body = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as r:
                    body = json.loads(r.read())
                    break
            except OSError:
                time.sleep(1)
        assert body is not None and body["status"] == "ok", "openbook serve did not come up"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=10) as r:
            assert "Sign in to Openbook" in r.read().decode()
        children = psutil.Process(process.pid).children(recursive=True)
        assert len(children) >= 4  # gunicorn, worker, beat and their forks; Redis
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    gone, alive = psutil.wait_procs(children, timeout=15)
    assert not alive, f"left running: {[p.info for p in alive]}"
    assert "stopping web, worker and beat" in output
