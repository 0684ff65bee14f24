"""`openbook recalc --round R [--system S | --all] [--force]`: recalculate systems, showing
progress. `--force` stores fresh results even where the inputs and the calculation version are
unchanged."""

from __future__ import annotations

import sys
import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.models import System
from payments import coalescing
from payments.models import RecalculationRun
from payments.services import recalculation
from plans.models import PlanningRound


def bar(done: int, total: int, width: int = 30) -> str:
    filled = int(width * done / total) if total else width
    return f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total}"


class Command(BaseCommand):
    help = "Recalculate control-total positions for one system or every system in a round."

    def add_arguments(self, parser):
        parser.add_argument("--round", required=True, dest="round_slug", help="The round's slug.")
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--system", help="One system's code.")
        which.add_argument(
            "--all", action="store_true", help="Every system with plans in the round."
        )
        parser.add_argument(
            "--here",
            action="store_true",
            help="Run in this process instead of on the Celery worker.",
        )
        parser.add_argument(
            "--timeout", type=float, default=600, help="Seconds to wait for the worker."
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Work every result out again, even on unchanged inputs and calculation version.",
        )

    def handle(self, *args, round_slug, system, all, here, timeout, force=False, **options):
        plan_round = PlanningRound.objects.filter(slug=round_slug).first()
        if plan_round is None:
            raise CommandError(f"There is no round {round_slug!r}.")
        if system:
            systems = list(System.objects.filter(code=system))
            if not systems:
                raise CommandError(f"There is no system {system!r}.")
        else:
            systems = recalculation.round_systems(plan_round)
        total = len(systems)
        if here:
            for n, s in enumerate(systems, start=1):
                recalculation.recalculate(
                    system_id=s.pk, round_id=plan_round.pk, trigger="command", force=force
                )
                self._progress(n, total)
        else:
            since = timezone.now()
            for s in systems:
                coalescing.enqueue(
                    round_id=plan_round.pk, system_id=s.pk, trigger="command", force=force
                )
            deadline = time.monotonic() + timeout
            done = 0
            while done < total:
                finished = RecalculationRun.objects.filter(
                    round=plan_round, system__in=systems, started_at__gte=since
                ).exclude(  # an abandoned run's work is still to be done, by another run
                    status__in=[RecalculationRun.Status.RUNNING, RecalculationRun.Status.ABANDONED]
                )
                if force:  # its own runs, not one another change had queued
                    finished = finished.filter(trigger="command")
                done = finished.values("system").distinct().count()
                self._progress(done, total)
                if done < total:
                    if time.monotonic() > deadline:
                        raise CommandError(
                            "The worker did not finish in time. Is a Celery worker running?"
                        )
                    time.sleep(0.5)
        failed = RecalculationRun.objects.filter(
            round=plan_round, system__in=systems, status="failed"
        ).count()
        self.stdout.write(
            f"\n{total} system(s) recalculated." + (f" {failed} run(s) failed." if failed else "")
        )

    def _progress(self, done: int, total: int) -> None:
        self.stdout.write(f"\r{bar(done, total)}", ending="")
        sys.stdout.flush()
