"""`openbook bench NAME`: speed measured against a baseline in the same run, as one JSON line."""

import json

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run a benchmark and print one line of JSON (ratio = ours / baseline)."

    def add_arguments(self, parser):
        parser.add_argument("name", choices=["upload", "collate"])
        parser.add_argument("--repeats", type=int, default=5)

    def handle(self, *args, name: str, repeats: int, **options):
        from openbook.bench import collate, upload

        result = {"upload": upload.run, "collate": collate.run}[name](repeats=repeats)
        self.stdout.write(json.dumps(result))
