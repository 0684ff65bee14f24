"""`openbook import_people FILE.csv --by ADMIN-EMAIL [--dry-run]`: bring people on board from
a CSV file (email, name, organisation code, role), as the platform administrators' page does:
the same checks, all or nothing, new people invited (the worker e-mails the links), roles
given to people with accounts. `--by` names the platform administrator the audit trail
records as doing it. Exit 1 naming every bad row."""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts import people_csv, policy
from accounts.models import User
from accounts.people_import import PeoplePlan, people_import, people_import_check
from openbook.errors import SHOWN_PROBLEMS, ProblemList, shown
from openbook.refusals import problem_text


class Command(BaseCommand):
    help = (
        "Invite people, or give them roles, from a CSV file with the columns email, name, "
        "organisation code (or system or region code) and role. All or nothing; a second run "
        "of the same file changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE.csv", type=Path)
        parser.add_argument(
            "--by",
            metavar="EMAIL",
            help="The platform administrator doing the import, as the audit trail will say "
            "(required).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Check the file and say what it would do."
        )

    def handle(self, *args, file: Path, by: str | None, dry_run: bool, **options):
        actor = self._actor(by)
        if not file.is_file():
            raise CommandError(f"{file}: no such file.")
        if file.stat().st_size > people_csv.MAX_BYTES:
            raise CommandError(f"{file} is larger than {people_csv.MAX_BYTES // 2**20} MB.")
        data = file.read_bytes()
        try:
            if dry_run:
                plan = people_import_check(actor=actor, data=data)
            else:
                plan = people_import(actor=actor, data=data, source="command line")
        except ProblemList as refused:
            lines = [problem_text(p) for p in shown(refused.problems)]
            if len(refused.problems) > SHOWN_PROBLEMS:
                lines.append(f"…and {len(refused.problems) - SHOWN_PROBLEMS} more.")
            raise CommandError(
                f"Nothing imported. {refused.summary}\n" + "\n".join(lines)
            ) from None
        except ValidationError as exc:  # the file as a whole: unreadable, too long, no heading
            raise CommandError("Nothing imported. " + " ".join(exc.messages)) from None
        self._summary(plan, dry_run)

    def _actor(self, by: str | None) -> User:
        if not by:
            raise CommandError(
                "Say who is importing: --by the e-mail address of a platform administrator "
                "(the audit trail records them as the one who invited each person)."
            )
        actor = User.objects.filter(email__iexact=by.strip()).first()
        if actor is None or not policy.can_import_people(actor):
            raise CommandError(f"{by} is not an active platform administrator.")
        return actor

    def _summary(self, plan: PeoplePlan, dry_run: bool) -> None:
        out = self.stdout
        if dry_run:
            out.write("Dry run: nothing was stored. This is what an import would do.")
        for heading, rows in (
            ("Invitations to new people", plan.invites),
            ("Roles added to people with accounts", plan.adds),
            ("Unchanged", plan.unchanged),
        ):
            out.write(f"{heading}: {len(rows)}.")
            for p in rows:
                out.write(f"  row {p.row}: {p.email}, {p.role.label}, {p.place} ({p.note})")
        if plan.ignored:
            out.write("Columns not read: " + ", ".join(plan.ignored) + ".")
        if plan.invites and not dry_run:
            out.write("The worker e-mails the invitations; each link works once.")
