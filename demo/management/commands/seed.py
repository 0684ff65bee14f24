"""`openbook seed`: load the demo data (idempotent)."""

from django.core.management.base import BaseCommand

from demo.people import seed_demo
from demo.plans import seed_plans


class Command(BaseCommand):
    help = "Load the demo region, systems, organisations and people. Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale",
            choices=["demo", "national"],
            default="demo",
            help="How much data to make. 'demo': one region, two systems. 'national': seven "
            "regions, 42 systems, about 450 organisations with full submitted plans.",
        )

    def handle(self, *args, scale: str, **options):
        if scale == "national":
            from demo.national import seed_national

            made = seed_national(out=self.stdout)
            summary = ", ".join(f"{count} {what}" for what, count in made.items())
            self.stdout.write(f"National round: {summary}.")
            return
        from demo.money import seed_agreements, seed_control_totals, seed_fund
        from demo.plans import ROUND_SLUG

        made = seed_demo() | seed_plans()
        made |= seed_control_totals(ROUND_SLUG)
        made |= seed_fund(ROUND_SLUG)
        made |= seed_agreements(ROUND_SLUG)
        summary = ", ".join(f"{count} {what}" for what, count in made.items())
        self.stdout.write(
            f"Demo data: made {summary}."
            if any(made.values())
            else "Demo data already present; nothing to make."
        )
