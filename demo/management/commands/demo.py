"""`openbook demo`: `openbook serve` with the demo data seeded, and the demo logins printed."""

import os

from demo import identity
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

    def extra_commands(self, port: int, home) -> dict[str, list[str]]:
        if not identity.available():
            self.sso_note = (
                "Single sign-on: not shown (it needs Node.js and `make install`'s "
                "npm packages, or OIDC_ISSUER for a real provider; see README)."
            )
            return {}
        self.sso_note = (
            'Single sign-on: "Sign in with NHS.net (demo stand-in)" on the sign-in '
            "page; the same e-mail addresses and password work there."
        )
        return {"identity": identity.prepare(home, port)}

    def print_logins(self) -> None:
        self.stdout.write(f"\nDemo logins (password for all: {self.demo_password}):")
        for email, what in DEMO_LOGINS:
            self.stdout.write(f"  {email:<42} {what}")
        self.stdout.write(f"\n{self.sso_note}\n")
