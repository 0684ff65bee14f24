"""`openbook bench NAME`: speed measured against a baseline in the same run, as one JSON line."""

import json

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run a benchmark and print one line of JSON (ratio = ours / baseline)."

    def add_arguments(self, parser):
        parser.add_argument("name", choices=["upload", "collate"])
        parser.add_argument("--repeats", type=int, default=5)
        parser.add_argument("--round", dest="round_slug", help="collate: the round (national).")

    def handle(self, *args, name: str, repeats: int, round_slug: str | None, **options):
        from openbook.bench import collate, upload

        if name == "collate":
            extra = {"round_slug": round_slug} if round_slug else {}
            result = collate.run(repeats=repeats, **extra)
        else:
            result = upload.run(repeats=repeats)
        self.stdout.write(json.dumps(result))
