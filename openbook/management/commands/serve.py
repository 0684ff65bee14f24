"""`openbook serve`: migrate, then run the web server, Celery worker and beat until stopped.

A process that dies is started again by the supervisor (openbook/supervisor.py); only one that
keeps dying ends the platform."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from openbook.runtime import RUNNING, openbook_home, platform_commands
from openbook.supervisor import CrashLoop, Supervisor


class Command(BaseCommand):
    help = "Run Openbook (web, worker, beat) on 127.0.0.1, with embedded services if unset."
    seed_demo_data = False

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000, help="Port to serve on (8000).")
        parser.add_argument(
            "--no-wait", action="store_true", help="Do not wait for /healthz before returning."
        )

    def handle(self, *args, port: int, no_wait: bool, **options):
        home = openbook_home()
        self.stdout.write("openbook: applying database migrations")
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("openbook: collecting static files")
        call_command("collectstatic", interactive=False, verbosity=0)
        if self.seed_demo_data:
            call_command("seed", stdout=self.stdout)
        supervisor = Supervisor()
        try:
            for name, service in RUNNING.items():
                supervisor.watch(name, service)
            commands = {**self.extra_commands(port, home), **platform_commands(port, home)}
            for name, argv in commands.items():
                supervisor.start(name, argv)
            url = f"http://127.0.0.1:{port}/"
            self._wait_until_healthy(supervisor, url)
            self.stdout.write(self.style.SUCCESS(f"\nOpenbook is running at {url}"))
            self.print_logins()
            self.stdout.write("Press Ctrl-C to stop.\n")
            while True:
                try:
                    supervisor.check()
                except CrashLoop as exc:
                    raise CommandError(f"{exc}; shutting down") from exc
                time.sleep(0.5)
        finally:
            self.stdout.write("openbook: stopping web, worker and beat")
            supervisor.stop()

    def _wait_until_healthy(self, supervisor: Supervisor, url: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        last = "no answer yet"
        while time.monotonic() < deadline:
            gone = supervisor.exited()
            if gone:
                raise CommandError(f"the {gone} process stopped while starting")
            try:
                with urllib.request.urlopen(url + "healthz", timeout=10) as response:  # noqa: S310
                    if response.status == 200:
                        return
            except urllib.error.HTTPError as exc:
                last = json.loads(exc.read() or b"{}").get("down", exc.reason)
            except OSError as exc:
                last = str(exc)
            time.sleep(0.5)
        raise CommandError(f"Openbook did not become healthy in {timeout:.0f}s: {last}")

    def extra_commands(self, port: int, home) -> dict[str, list[str]]:
        """Processes to start before the platform's own (whose environment they may set)."""
        return {}

    def print_logins(self) -> None:
        pass

    @property
    def demo_password(self) -> str:
        return settings.DEMO_PASSWORD
