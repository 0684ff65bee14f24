"""`openbook load_template [PATH]`: load a template definition (the built-in one by default)."""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from plans.services import BUILTIN_TEMPLATE, template_load


class Command(BaseCommand):
    help = "Load a planning template definition file. Loading the same version again does nothing."

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", default=str(BUILTIN_TEMPLATE))

    def handle(self, *args, path: str, **options):
        try:
            version, created = template_load(path=Path(path))
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        lines = sum(s.lines.count() for s in version.sections.all())
        state = "loaded" if created else "already loaded"
        self.stdout.write(f"{version} {state}: {version.sections.count()} sections, {lines} lines.")
