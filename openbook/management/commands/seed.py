"""`openbook seed`: load the demo data (idempotent)."""

from django.core.management.base import BaseCommand

from accounts.demo import seed_demo
from plans.demo import seed_plans


class Command(BaseCommand):
    help = "Load the demo region, systems, organisations and people. Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale",
            choices=["demo"],
            default="demo",
            help="How much data to make. 'demo': one region, two systems.",
        )

    def handle(self, *args, scale: str, **options):
        made = seed_demo() | seed_plans()
        summary = ", ".join(f"{count} {what}" for what, count in made.items())
        self.stdout.write(
            f"Demo data: made {summary}."
            if any(made.values())
            else "Demo data already present; nothing to make."
        )
