"""`openbook load_template [PATH]`: load a template definition (every built-in version by
default: loading one already loaded does nothing)."""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from plans.services import BUILTIN_TEMPLATES, template_load


class Command(BaseCommand):
    help = (
        "Load a planning template definition file (by default, every built-in version). "
        "Loading the same version again does nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", help="A definition file (YAML).")

    def handle(self, *args, path: str | None, **options):
        for each in [Path(path)] if path else BUILTIN_TEMPLATES:
            try:
                version, created = template_load(path=each)
            except ValidationError as exc:
                raise CommandError("; ".join(exc.messages)) from exc
            lines = sum(s.lines.count() for s in version.sections.all())
            state = "loaded" if created else "already loaded"
            self.stdout.write(
                f"{version} {state}: {version.sections.count()} sections, {lines} lines."
            )
