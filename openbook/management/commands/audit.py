"""`openbook audit verify [--system CODE]`: recompute the audit hash chains."""

from django.core.management.base import BaseCommand, CommandError

from accounts.models import System
from openbook.audit import audit_verify_all, audit_verify_chain
from openbook.models import system_chain


class Command(BaseCommand):
    help = "Check the audit trail. Exit 0 when every chain is intact, 1 naming the first break."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        verify = sub.add_parser("verify", help="Recompute hash chains.")
        verify.add_argument("--system", help="Only this system's chain (its code).")

    def handle(self, *args, action: str, system: str | None = None, **options):
        if system:
            found = System.objects.filter(code=system).first()
            if found is None:
                raise CommandError(f"There is no system with the code {system!r}.")
            reports = [audit_verify_chain(system_chain(found.pk))]
        else:
            reports = audit_verify_all()
        broken = [r for r in reports if not r.ok]
        for report in reports:
            state = "intact" if report.ok else "BROKEN"
            self.stdout.write(f"{report.chain}: {report.events} events, {state}")
        if broken:
            first = broken[0]
            raise CommandError(
                f"chain {first.chain} is broken at event #{first.broken_seq} "
                f"(id {first.broken_event_id}): {first.problem}",
                returncode=1,
            )
        self.stdout.write(self.style.SUCCESS(f"{len(reports)} chain(s) verified."))
