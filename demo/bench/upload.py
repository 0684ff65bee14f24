"""`openbook bench upload`: a full plan through Excel, against a bare openpyxl read.

In one run: build a bench organisation's full pre-filled template, time its download, time
upload-and-store end to end into an empty draft, and time a bare openpyxl read of the same
file (every cell visited) as the baseline. Medians of several repeats.
"""

from __future__ import annotations

import datetime as dt
import io
import statistics
import time

from django.db import transaction
from django.utils import timezone
from openpyxl import load_workbook

from accounts.models import Organisation, Region, System, User
from demo.synthetic import plan_cells
from plans import excel
from plans.models import PlanningRound, Submission, Value, Version
from plans.services import draft_save, plan_upload, round_save, submission_start, template_load

K = Organisation.Kind


def bench_trust() -> Organisation:
    """A bench system's acute trust (ZZB01), with six commissioners and three other trusts
    as partners (rows of income and spend with each); made once, reused."""
    region, _ = Region.objects.get_or_create(code="bench", defaults={"name": "Bench region"})
    system, _ = System.objects.get_or_create(
        code="bench", defaults={"name": "Bench system", "region": region}
    )
    kinds = [K.ACUTE] + [K.COMMISSIONER] * 6 + [K.ACUTE] * 3
    for n, kind in enumerate(kinds, start=1):
        Organisation.objects.get_or_create(
            ods_code=f"ZZB{n:02d}",
            defaults={"name": f"Bench {kind} {n}", "kind": kind, "system": system},
        )
    return Organisation.objects.get(ods_code="ZZB01")


def _setup() -> tuple[PlanningRound, Organisation, User]:
    """A bench system with enough partners for a big template; made once, reused."""
    from accounts.models import Role
    from accounts.services import membership_create

    organisation = bench_trust()
    user = User.objects.filter(email="bench@openbook.invalid").first()
    if user is None:
        user = User.objects.create_user("bench@openbook.invalid", None, full_name="Bench preparer")
        membership_create(actor=None, user=user, role=Role.ORG_APPROVER, organisation=organisation)
    version, _ = template_load()
    plan_round = PlanningRound.objects.filter(slug="bench").first()
    if plan_round is None:
        now = timezone.now()
        plan_round = round_save(
            actor=None,
            plan_round=PlanningRound(
                name="Bench round", slug="bench", financial_year=2026, template_version=version,
                draft_deadline=now + dt.timedelta(days=300),
                final_deadline=now + dt.timedelta(days=301),
            ),
        )  # fmt: skip
    return plan_round, organisation, user


def _clear_draft(submission: Submission) -> None:
    # Bench scaffolding only: empty the draft so every upload really stores every value.
    Value.objects.filter(version__submission=submission, version__number=0).delete()


def _baseline_read(data: bytes) -> int:
    wb = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    count = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows(values_only=True):
            count += sum(1 for value in row if value is not None)
    wb.close()
    return count


def run(repeats: int = 5) -> dict:
    plan_round, organisation, user = _setup()
    submission = Submission.objects.filter(round=plan_round, organisation=organisation).first()
    if submission is None:
        submission = submission_start(actor=user, plan_round=plan_round, organisation=organisation)
    cells = plan_cells(plan_round, organisation)
    _clear_draft(submission)
    draft_save(actor=user, submission=submission, cells=cells, source="bench")
    download_times, upload_times, baseline_times = [], [], []
    for _ in range(repeats):
        started = time.perf_counter()
        draft = Version.objects.get(submission=submission, number=0)
        data = excel.workbook_bytes(excel.build_workbook(plan_round, organisation, draft))
        download_times.append(time.perf_counter() - started)

        _clear_draft(submission)
        started = time.perf_counter()
        kind = excel.sniff("bench.xlsx", data)
        parsed = excel.parse_xlsx(data, plan_round, organisation)
        with transaction.atomic():
            result = plan_upload(actor=user, submission=submission, parsed=parsed, source=kind)
        upload_times.append(time.perf_counter() - started)
        assert result.changed >= len(cells), (result.changed, len(cells))

        started = time.perf_counter()
        _baseline_read(data)
        baseline_times.append(time.perf_counter() - started)
    seconds = statistics.median(upload_times)
    baseline = statistics.median(baseline_times)
    return {
        "bench": "upload",
        "values": len(cells),
        "seconds": round(seconds, 4),
        "baseline_seconds": round(baseline, 4),
        "ratio": round(seconds / baseline, 2),
        "download_seconds": round(statistics.median(download_times), 4),
    }
