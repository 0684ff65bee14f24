"""The supervisor behind `openbook serve` and `openbook demo`.

It runs the web server, the Celery worker and beat, and watches the embedded PostgreSQL and
Redis when it started them. One of them dying is not the end of the platform: it is restarted,
after a wait that doubles each time it dies again (1 s up to 30 s). One that dies five times
within a minute is in a crash loop that waiting will not mend, so the supervisor gives up,
naming it, rather than spin for ever.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

FIRST_DELAY = 1.0
MAX_DELAY = 30.0
CRASH_LOOP_DEATHS = 5
CRASH_LOOP_WINDOW = 60.0


def log(message: str) -> None:
    print(f"openbook: {message}", flush=True)


def describe_exit(returncode: int) -> str:
    """`exit code 3`, or `killed by SIGKILL` (Popen gives a signal as a negative code)."""
    if returncode >= 0:
        return f"exit code {returncode}"
    try:
        return f"killed by {signal.Signals(-returncode).name}"
    except ValueError:
        return f"killed by signal {-returncode}"


class CrashLoop(RuntimeError):
    """A child died too often, too quickly, to be worth restarting again."""


class Child(Protocol):
    """What the supervisor needs of anything it restarts."""

    def start(self) -> None: ...

    def died(self) -> str | None:
        """None while it runs; once it has stopped, how (`killed by SIGKILL`)."""

    def clear(self) -> None:
        """Remove what a dead child left behind, before it starts again."""

    @property
    def pid(self) -> int | None: ...


@dataclass
class ProcessChild:
    """A command run in its own session, so that it and everything it forks (gunicorn and
    Celery workers) form one process group that can be stopped together."""

    argv: list[str]
    process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(self.argv, start_new_session=True)

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def died(self) -> str | None:
        if self.process is None:
            return None
        code = self.process.poll()
        return None if code is None else describe_exit(code)

    def clear(self) -> None:
        # A gunicorn master killed outright leaves its workers holding the port, a Celery
        # worker its pool; the new one could not bind, or would share the queue with orphans.
        self.signal_group(signal.SIGKILL)

    def signal_group(self, signum: int) -> None:
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signum)


@dataclass
class _Watch:
    name: str
    child: Child
    deaths: deque[float] = field(default_factory=deque)
    restart_at: float | None = None


@dataclass
class Supervisor:
    """Runs the platform's processes, restarts any that die, and stops every one of them,
    whatever happens."""

    say: Callable[[str], None] = log
    clock: Callable[[], float] = time.monotonic
    watched: dict[str, _Watch] = field(default_factory=dict)

    def start(self, name: str, argv: list[str]) -> None:
        child = ProcessChild(argv)
        child.start()
        self.watched[name] = _Watch(name, child)
        self.say(f"started {name} (pid {child.pid})")

    def watch(self, name: str, child: Child) -> None:
        """Watch (and restart) something already running, such as the embedded Redis."""
        self.watched[name] = _Watch(name, child)

    def pid(self, name: str) -> int | None:
        return self.watched[name].child.pid

    def exited(self) -> str | None:
        """The first child found stopped, if any (used while waiting for a healthy start,
        when a death means the platform cannot start and restarting would not help)."""
        for watch in self.watched.values():
            if watch.restart_at is None and watch.child.died() is not None:
                return watch.name
        return None

    def check(self) -> None:
        """Restart what has died, once its wait is over. Raises CrashLoop."""
        now = self.clock()
        for watch in self.watched.values():
            if watch.restart_at is None:
                how = watch.child.died()
                if how is not None:
                    self._died(watch, how, now)
            elif now >= watch.restart_at:
                watch.restart_at = None
                try:
                    watch.child.start()
                except Exception as exc:  # noqa: BLE001  (a failed start is one more death)
                    self._died(watch, f"could not start again: {exc}", now)
                else:
                    self.say(f"restarted {watch.name} (pid {watch.child.pid})")

    def _died(self, watch: _Watch, how: str, now: float) -> None:
        watch.deaths.append(now)
        while watch.deaths and watch.deaths[0] <= now - CRASH_LOOP_WINDOW:
            watch.deaths.popleft()
        watch.child.clear()
        if len(watch.deaths) >= CRASH_LOOP_DEATHS:
            raise CrashLoop(
                f"{watch.name} died {len(watch.deaths)} times within {CRASH_LOOP_WINDOW:.0f}s "
                f"(last: {how}); giving up, see its output above"
            )
        delay = min(MAX_DELAY, FIRST_DELAY * 2 ** (len(watch.deaths) - 1))
        self.say(f"{watch.name} died ({how}); restarting it in {delay:g}s")
        watch.restart_at = now + delay

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the processes it started (not the embedded services: their own block does)."""
        children = [
            w.child
            for w in self.watched.values()
            if isinstance(w.child, ProcessChild) and w.child.process is not None
        ]
        for child in children:
            if child.died() is None:
                child.signal_group(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for child in children:
            assert child.process is not None
            remaining = max(0.1, deadline - time.monotonic())
            try:
                child.process.wait(remaining)
            except subprocess.TimeoutExpired:
                child.signal_group(signal.SIGKILL)
                child.process.wait()
        # Anything left in a child's group (a forked worker that outlived its parent) goes too.
        for child in children:
            child.signal_group(signal.SIGKILL)
        self.watched.clear()
