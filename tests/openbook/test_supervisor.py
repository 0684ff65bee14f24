"""The supervisor behind `openbook serve`: a process that dies is restarted, after a wait that
doubles; one that keeps dying is given up on, by name; and in a real `openbook serve`, killing
the web server, the worker or beat leaves the platform running and answering."""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

import psutil
import pytest

from openbook.supervisor import CrashLoop, Supervisor


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"waited {timeout:.0f}s for {what}")


def test_a_dying_child_is_restarted_with_doubling_waits_then_given_up_on():
    said: list[str] = []
    clock = Clock()
    supervisor = Supervisor(say=said.append, clock=clock)
    try:
        supervisor.start("flaky", [sys.executable, "-c", "import sys; sys.exit(3)"])
        for delay in (1, 2, 4, 8):
            _wait_for(lambda: supervisor.watched["flaky"].child.died(), 30, "the child to exit")
            supervisor.check()
            assert said[-1] == f"flaky died (exit code 3); restarting it in {delay}s"
            clock.now += delay - 0.01
            supervisor.check()  # not yet
            assert "restarted" not in said[-1]
            clock.now += 0.01
            supervisor.check()
            assert said[-1].startswith("restarted flaky (pid ")
        _wait_for(lambda: supervisor.watched["flaky"].child.died(), 30, "the child to exit")
        with pytest.raises(CrashLoop, match=r"flaky died 5 times within 60s \(last: exit code 3\)"):
            supervisor.check()
    finally:
        supervisor.stop()


def test_deaths_far_apart_are_not_a_crash_loop():
    said: list[str] = []
    clock = Clock()
    supervisor = Supervisor(say=said.append, clock=clock)
    try:
        supervisor.start("sleeper", [sys.executable, "-c", "import time; time.sleep(600)"])
        for _ in range(7):
            pid = supervisor.pid("sleeper")
            os.kill(pid, signal.SIGKILL)
            _wait_for(lambda: supervisor.watched["sleeper"].child.died(), 30, "the kill")
            supervisor.check()
            # A minute on, the earlier deaths no longer count: the wait is back to 1 s.
            assert said[-1] == "sleeper died (killed by SIGKILL); restarting it in 1s"
            clock.now += 61
            supervisor.check()
            assert supervisor.pid("sleeper") != pid
    finally:
        supervisor.stop()
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _test_database_url() -> str:
    from django.db import connection

    db = connection.settings_dict
    auth = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"], safe="")
    host = quote(db["HOST"] or "127.0.0.1", safe="")
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{auth}@{host}{port}/{db['NAME']}"


def _platform_child(serve: subprocess.Popen, name: str) -> psutil.Process | None:
    """gunicorn, `celery … worker` or `celery … beat`, as a direct child of `openbook serve`."""
    with contextlib.suppress(psutil.NoSuchProcess):
        for child in psutil.Process(serve.pid).children():
            with contextlib.suppress(psutil.NoSuchProcess, psutil.ZombieProcess):
                argv = child.cmdline()
                if name == "web" and any(part.endswith("/gunicorn") for part in argv):
                    return child
                if name in argv and any(part.endswith("/celery") for part in argv):
                    return child
    return None


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as r:
            return r.status == 200 and json.loads(r.read())["status"] == "ok"
    except (OSError, urllib.error.HTTPError, ValueError):
        return False


@pytest.mark.slow
def test_serve_restarts_each_killed_child(django_db_setup, tmp_path):
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": _test_database_url(),
        "OPENBOOK_HOME": str(tmp_path / "home"),
        "CELERY_QUEUE": f"openbook-restart-{port}",
        "WEB_CONCURRENCY": "1",
        "WORKER_CONCURRENCY": "1",
    }
    log_path = tmp_path / "serve.log"
    openbook = Path(sys.executable).with_name("openbook")
    seen: set[int] = set()
    with log_path.open("w") as log:
        serve = subprocess.Popen(
            [str(openbook), "serve", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_for(lambda: _healthy(port) or serve.poll() is not None, 180, "/healthz")
        assert serve.poll() is None, log_path.read_text()
        for name in ("web", "worker", "beat"):
            old = _wait_for(lambda n=name: _platform_child(serve, n), 60, f"the {name}")
            seen.add(old.pid)
            os.kill(old.pid, signal.SIGKILL)
            new = _wait_for(
                lambda n=name, o=old: (c := _platform_child(serve, n)) and c.pid != o.pid and c,
                120,
                f"a new {name}",
            )
            seen.add(new.pid)
            # The web server answers again, and the worker answers /healthz's ping task.
            _wait_for(lambda: _healthy(port), 120, f"/healthz after killing the {name}")
            assert serve.poll() is None, log_path.read_text()
            output = log_path.read_text()
            assert f"{name} died (killed by SIGKILL); restarting it in 1s" in output
            assert f"restarted {name} (pid {new.pid})" in output
        for name in ("web", "worker", "beat"):
            assert _platform_child(serve, name).is_running()
    finally:
        descendants = []
        with contextlib.suppress(psutil.NoSuchProcess):
            descendants = psutil.Process(serve.pid).children(recursive=True)
        serve.send_signal(signal.SIGTERM)
        try:
            serve.wait(60)
        finally:
            for pgid in [serve.pid, *seen]:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(pgid, signal.SIGKILL)
            for process in descendants:
                with contextlib.suppress(psutil.NoSuchProcess):
                    process.kill()
    assert serve.returncode == 0, log_path.read_text()
    assert "stopping web, worker and beat" in log_path.read_text()
    gone, alive = psutil.wait_procs(descendants, timeout=15)
    assert not alive, f"left running: {alive}"
