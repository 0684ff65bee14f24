"""`openbook bench NAME`: speed measured against a baseline in the same run, as one JSON line."""

import json

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run a benchmark and print one line of JSON (ratio = ours / baseline)."

    def add_arguments(self, parser):
        parser.add_argument(
            "name", choices=["upload", "collate", "recalc", "grid", "audit", "submit", "load"]
        )
        parser.add_argument(
            "--repeats", type=int, default=None, help="How many timed runs (5; submit: 20)."
        )
        parser.add_argument(
            "--round", dest="round_slug", help="collate, recalc: the round (national)."
        )
        parser.add_argument(
            "--no-browser", action="store_true", help="grid: the server's side only."
        )
        parser.add_argument("--events", type=int, default=20000, help="audit: the chain's length.")
        parser.add_argument("--users", type=int, default=50, help="load: people at once.")
        parser.add_argument("--seconds", type=float, default=60, help="load: how long, timed.")
        parser.add_argument(
            "--servers", type=int, default=1, help="load: gunicorn masters sharing the workers."
        )
        parser.add_argument(
            "--split", action="store_true", help="load: a pool of its own for cell saves."
        )
        parser.add_argument(
            "--celery-workers", type=int, default=0,
            help="load: Celery workers, recalculating as plans arrive.",
        )  # fmt: skip

    def handle(self, *args, name: str, repeats: int | None, round_slug: str | None, **options):
        from demo.bench import audit, collate, grid, load, recalc, submit, upload

        if name == "submit":  # a p95 wants more than five
            self.stdout.write(json.dumps(submit.run(repeats=repeats or 20)))
            return
        repeats = repeats or 5
        extra = {"round_slug": round_slug} if round_slug else {}
        if name == "grid":
            result = grid.run(repeats=repeats, browser=not options["no_browser"])
        elif name == "audit":
            result = audit.run(repeats=repeats, events=options["events"])
        elif name == "collate":
            result = collate.run(repeats=repeats, **extra)
        elif name == "recalc":
            result = recalc.run(repeats=repeats, **extra)
        elif name == "load":
            result = load.run(
                users=options["users"], seconds=options["seconds"], servers=options["servers"],
                split=options["split"], workers=options["celery_workers"],
            )  # fmt: skip
        else:
            result = upload.run(repeats=repeats)
        self.stdout.write(json.dumps(result))
