"""Every `openbook` command, not only `demo` and `serve`, finds the demo's own database (and its
Redis and secret key) when DATABASE_URL is not set; with no demo it says which database it
falls back to, rather than quietly using whatever answers on 127.0.0.1:5432."""

import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest
import redis

from openbook.runtime import embedded_services

OPENBOOK = Path(sys.executable).with_name("openbook")
UNSET = ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "STATIC_ROOT")


@pytest.fixture
def home(monkeypatch, tmp_path):
    """A demo home, and this process's environment as a user's shell with nothing set."""
    for name in UNSET:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENBOOK_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def openbook(home: Path, *args: str, secret_key: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in UNSET}
    env["OPENBOOK_HOME"] = str(home)
    if secret_key:
        env["SECRET_KEY"] = secret_key
    return subprocess.run(
        [str(OPENBOOK), *args], env=env, capture_output=True, text=True, timeout=600
    )


def test_with_no_demo_a_command_says_which_database_it_falls_back_to(home):
    done = openbook(home, "check", secret_key="a-key-for-this-test-only-0123456789-abcdefghij")
    assert done.returncode == 0, done.stderr
    assert (
        f"openbook: DATABASE_URL is not set and there is no demo database in {home}; using "
        "postgres://postgres@127.0.0.1:5432/openbook. Set DATABASE_URL, or run `openbook demo` "
        "first" in done.stderr
    )
    assert "System check identified no issues" in done.stdout
    assert not home.exists()  # looking for the demo made nothing


def _postmaster_pid(home: Path) -> int:
    return int((home / "postgres" / "postmaster.pid").read_text().split()[0])


WRITE_EVENTS = """
import os
from django.conf import settings
from openbook.audit import audit_record
audit_record(action="demo.checked")
audit_record(action="demo.checked.again")
key = open(os.environ["OPENBOOK_HOME"] + "/secret_key").read().strip()
print("the demo's key:", settings.SECRET_KEY == key)
"""


@pytest.mark.slow
def test_commands_use_the_demo_database_redis_and_secret_key(home):
    using = f"openbook: using the demo's database in {home / 'postgres'} (DATABASE_URL is not set)"
    # The demo is running (its PostgreSQL and Redis started as `openbook demo` starts them).
    with embedded_services(say=None) as urls:
        postmaster = _postmaster_pid(home)
        migrated = openbook(home, "migrate", "--verbosity", "0")
        assert migrated.returncode == 0, migrated.stderr
        assert using in migrated.stderr
        written = openbook(home, "shell", "-c", WRITE_EVENTS)
        assert written.returncode == 0, written.stderr
        assert "the demo's key: True" in written.stdout
        verified = openbook(home, "audit", "verify")
        assert verified.returncode == 0, verified.stderr
        assert "platform: 2 events, intact" in verified.stdout
        assert using in verified.stderr
        # The commands used the demo's servers and left them running for the demo.
        assert _postmaster_pid(home) == postmaster and psutil.pid_exists(postmaster)
        socket_path = urls["REDIS_URL"].removeprefix("unix://").split("?")[0]
        assert redis.Redis(unix_socket_path=socket_path).ping()

    # The demo stopped: a command starts the demo's PostgreSQL for itself, and stops it after.
    assert not psutil.pid_exists(postmaster) or psutil.Process(postmaster).status() == "zombie"
    verified = openbook(home, "audit", "verify")
    assert verified.returncode == 0, verified.stderr
    assert "platform: 2 events, intact" in verified.stdout
    assert using in verified.stderr
    pid = _postmaster_pid(home) if (home / "postgres" / "postmaster.pid").exists() else None
    assert pid is None or not psutil.pid_exists(pid)
