"""`openbook demo`: `openbook serve` with the demo data seeded, and the demo logins printed."""

import os

from demo.people import DEMO_LOGINS
from openbook.management.commands.serve import Command as ServeCommand


class Command(ServeCommand):
    help = "Run Openbook with demo data (embedded PostgreSQL and Redis unless configured)."
    seed_demo_data = True

    def handle(self, *args, **options):
        # The demo's people sign in now and then, months apart, with the printed logins: their
        # accounts do not expire (accounts/expiry.py) unless the environment says otherwise.
        # The worker and beat started below inherit this.
        os.environ.setdefault("ACCOUNT_EXPIRY_DAYS", "0")
        return super().handle(*args, **options)

    def print_logins(self) -> None:
        self.stdout.write(f"\nDemo logins (password for all: {self.demo_password}):")
        for email, what in DEMO_LOGINS:
            self.stdout.write(f"  {email:<42} {what}")
        self.stdout.write("")
