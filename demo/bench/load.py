"""`openbook bench load`: deadline day on this machine. gunicorn is started as production runs
it (deploy/gunicorn.conf.py, its own worker and thread counts, DEBUG off, HTTPS as the proxy
says), and a bounded asyncio client on 127.0.0.1 keeps signed-in people busy with no pause
between requests, each on one of:

- a system lead's system page, and the API's system plan;
- a regional reviewer's region page;
- a preparer's finance grid, and a preparer saving a cell in it (as the grid script does).

It reports throughput, p50/p95/p99 by kind and overall, and every error (any answer but 200,
or no answer). The baseline is as many people with the same client asking for a small static
file (served by the same gunicorn workers through Django's middleware by WhiteNoise, no view):
what this machine's HTTP path and the client itself cost, measured in the same run.

Nothing is submitted while it runs, so after the first request for each system the system
page, the API and the region page read their stored sums and answers: this is deadline day
between submissions. Each submission makes its system's next page add its sums up again
(`openbook bench collate` times that, and `openbook bench submit` the submission itself).

Deadline day scaled out (`--servers 2 --celery-workers 2`): as many gunicorn masters, each with its
share of the workers and the people, and as many Celery workers; meanwhile plans arrive (one
recalled and submitted again every few seconds, as an approver would), so the workers
recalculate and store sums while the pages are read. `--split` adds a pool of its own for
cell saves, as deploy/README.md describes, with the page pools' workers at a lower CPU
priority, so saves neither queue behind pages nor share the CPU equally with them.

Run `openbook seed --scale national` first. A few of the round's plans are recalled so they
can be edited, and at the end their saved cells are put back and they are submitted again
(a new version with the same figures); any that could not be are named.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import httpx
from django.conf import settings
from django.templatetags.static import static
from django.test import Client
from django.utils import timezone

from accounts.models import Membership, Organisation, Role, System, User
from accounts.second_factor import unattended
from demo.bench.scaleout import (
    Arrivals,
    arriving,
    celery_workers,
    gunicorn_config,
    pools,
    recalculated,
)
from demo.national import ROUND_SLUG
from demo.synthetic import board_approver
from plans.calculations import parse_value
from plans.cells import CellInput
from plans.models import Line, PlanningRound, Submission, Value
from plans.services import draft_save, submission_recall, submission_submit

KINDS = ("system", "api_plan", "region", "grid", "save")
SECTION = "finance"
PAGE_TARGET_MS, SAVE_TARGET_MS = 1000, 300
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass
class Person:
    kind: str
    cookie: str
    url: str
    server: int = 0  # which gunicorn master it asks
    csrf: str = ""
    line: str = ""  # save: the cell's line, and what it holds now
    value: Decimal = Decimal(0)
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _member(role: str, code: str, **where) -> User:
    """A bench person with this role, made once."""
    scope = {f"memberships__{k}": v for k, v in where.items()}
    user = User.objects.filter(memberships__role=role, **scope).first()
    if user is None:
        user = User.objects.create_user(f"bench-{role}-{code}@openbook.invalid".lower(), None,
                                        full_name=f"Bench {role} {code}")  # fmt: skip
        Membership.objects.create(user=user, role=role, **where)
    return user


def _cookie(user: User) -> str:
    """A signed-in session, made as sign-in makes one (the session store and its row)."""
    client = Client(HTTP_HOST="localhost", HTTP_X_FORWARDED_PROTO="https")
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def _editable_line(plan_round: PlanningRound, organisation: Organisation) -> Line:
    """A line of the finance grid the trust types itself, with no partner rows."""
    return (
        Line.objects.filter(
            section__template_version=plan_round.template_version,
            section__code=SECTION,
            kinds__contains=[organisation.kind],
            formula__isnull=True,
            fed_by="",
            provided=False,
            counterparty="",
        )  # fmt: skip
        .order_by("position")
        .first()
    )


def _people(
    plan_round: PlanningRound, per_kind: int, people: list[Person], recalled: list[Submission]
) -> None:
    """Into `people`, everyone the load is made of; into `recalled`, each plan recalled so it
    can be edited, as soon as it is (to be submitted again whatever happens next)."""
    systems = sorted(System.objects.filter(organisations__submissions__round=plan_round).distinct(),
                     key=lambda s: -s.organisations.count())  # fmt: skip
    regions = sorted({s.region for s in systems}, key=lambda r: r.code)
    base = f"/rounds/{plan_round.slug}"
    for n in range(per_kind):
        system = systems[n % len(systems)]
        lead = _member(Role.SYSTEM_LEAD, system.code, system=system)
        people.append(Person("system", _cookie(lead), f"{base}/systems/{system.code}/"))
        analyst = _member(Role.SYSTEM_LEAD, f"{system.code}-api-{n}", system=system)
        api = f"/api/v1/rounds/{plan_round.slug}/systems/{system.code}/plan/"
        people.append(Person("api_plan", _cookie(analyst), api))
        region = regions[n % len(regions)]
        reviewer = _member(Role.REGION_REVIEWER, f"{region.code}-{n}", region=region)
        people.append(Person("region", _cookie(reviewer), f"{base}/regions/{region.code}/"))
    # Acute trusts' plans, recalled to draft so their preparers can work in them.
    trusts = list(
        Organisation.objects.filter(
            submissions__round=plan_round, kind=Organisation.Kind.ACUTE
        ).order_by("ods_code")[: 2 * per_kind]
    )
    for n, trust in enumerate(trusts):
        approver = board_approver(trust, "national.openbook.invalid")
        submission = Submission.objects.get(round=plan_round, organisation=trust)
        if submission.status == Submission.Status.SUBMITTED:
            submission_recall(actor=approver, submission=submission)
            recalled.append(submission)
        url = f"{base}/{trust.ods_code}/sections/{SECTION}/"
        if n < per_kind:
            people.append(Person("grid", _cookie(approver), url))
            continue
        line = _editable_line(plan_round, trust)
        people.append(Person("save", _cookie(approver), url + "cells/", line=line.code))


async def _loop(client: httpx.AsyncClient, person: Person, until: float, start: float) -> None:
    headers = {"Cookie": person.cookie, "X-Forwarded-Proto": "https"}
    if person.kind == "save":  # the grid first, for its form's token, as a browser has it
        page = await client.get(person.url.removesuffix("cells/"), headers=headers)
        person.csrf = TOKEN.search(page.text).group(1)
        # What the cell holds as the page shows it: the edit starts from there.
        started = re.search(rf'name="e:{person.line}::1" value="([^"]*)"', page.text)
        person.value = parse_value(started.group(1) if started else "") or Decimal(0)
        token = page.cookies.get(settings.CSRF_COOKIE_NAME) or ""
        headers |= {"Cookie": f"{person.cookie}; {settings.CSRF_COOKIE_NAME}={token}",
                    "X-CSRFToken": person.csrf, "HX-Request": "true",
                    "Origin": f"https://{client.base_url.host}:{client.base_url.port}"}  # fmt: skip
    while (now := time.monotonic()) < until:
        try:
            if person.kind == "save":
                cell = f"{person.line}::1"
                response = await client.post(person.url, headers=headers, data={
                    f"v:{cell}": str(person.value + 1), f"e:{cell}": str(person.value),
                    "source": "grid",
                })  # fmt: skip
                if response.status_code == 200:
                    person.value += 1
            else:
                response = await client.get(person.url, headers=headers)
            status = response.status_code
        except httpx.HTTPError as exc:
            status, response = 0, None
            person.errors.append(f"{person.kind}: {type(exc).__name__}")
        took = time.monotonic() - now
        if now < start:
            continue  # warming up: not counted
        if status == 200:
            person.latencies.append(took)
        elif status:
            person.errors.append(f"{person.kind}: {status}")


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(round(p * len(ordered))) - 1)] if ordered else 0.0


def _summary(latencies: list[float], seconds: float) -> dict:
    return {
        "requests": len(latencies),
        "per_second": round(len(latencies) / seconds, 1),
        "p50_ms": round(_percentile(latencies, 0.50) * 1000, 1),
        "p95_ms": round(_percentile(latencies, 0.95) * 1000, 1),
        "p99_ms": round(_percentile(latencies, 0.99) * 1000, 1),
    }


async def _drive(ports: list[int], people: list[Person], seconds: float, warmup: float) -> None:
    limits = httpx.Limits(max_connections=len(people) + 5, max_keepalive_connections=len(people))
    timeout = httpx.Timeout(60.0)
    clients = [
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=timeout)
        for port in ports
    ]
    try:
        start = time.monotonic() + warmup
        await asyncio.gather(*(_loop(clients[p.server], p, start + seconds, start) for p in people))
    finally:
        for client in clients:
            await client.aclose()


def _baseline(ports: list[int], users: int, seconds: float) -> dict:
    people = [
        Person("static", "", static("build/grid.mjs"), server=n % len(ports)) for n in range(users)
    ]
    asyncio.run(_drive(ports, people, seconds, warmup=2))
    return _summary([t for p in people for t in p.latencies], seconds)


def _serve(port: int, **settings_env: str) -> subprocess.Popen:
    """gunicorn as production starts it, on 127.0.0.1, quiet (`settings_env`: its settings'
    environment variables, as a deployment sets them)."""
    env = os.environ | {"GUNICORN_BIND": f"127.0.0.1:{port}"} | settings_env
    env.pop("DEBUG", None)
    config = Path(settings.BASE_DIR) / "deploy" / "gunicorn.conf.py"
    gunicorn = Path(sys.executable).parent / "gunicorn"
    process = subprocess.Popen(  # noqa: S603  (our own server, fixed arguments)
        [
            str(gunicorn),
            "openbook.wsgi:application",
            "--config",
            str(config),
            "--access-logfile",
            "/dev/null",
        ],  # fmt: skip
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            answer = httpx.get(f"http://127.0.0.1:{port}/login/", timeout=5,
                               headers={"X-Forwarded-Proto": "https"})  # fmt: skip
            if answer.status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited: {process.stderr.read().decode()[-2000:]}")
        time.sleep(0.5)
    process.terminate()
    raise SystemExit("gunicorn did not answer within two minutes.")


def _stop(running: list[subprocess.Popen]) -> None:
    """Every server and worker asked to stop, and killed if it has not within a minute (a
    worker finishes the task it holds first)."""
    for process in running:
        process.terminate()
    for process in running:
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                sys.stderr.write(f"Process {process.pid} did not stop when killed.\n")


def _restore(recalled: list[Submission], people: list[Person]) -> list[str]:
    """The plans' figures as they were: each saved cell back to its figure in the plan's last
    submitted version, and the plan submitted again (a new version with the same figures).
    Each plan on its own; returns the ODS codes of any that could not be, and why."""
    lines = {p.url.split("/")[3]: p.line for p in people if p.kind == "save"}
    failed = []
    for submission in recalled:
        organisation = submission.organisation
        try:
            submission.refresh_from_db()
            approver = board_approver(organisation, "national.openbook.invalid")
            last = submission.versions.filter(number__gt=0).order_by("-number").first()
            line = lines.get(organisation.ods_code)
            if line:
                cell = Value.objects.filter(version=last, line__code=line, counterparty=None,
                                            month=1)  # fmt: skip
                held = cell.values_list("value", flat=True).first()
                draft_save(actor=approver, submission=submission, source="bench",
                           cells=[CellInput(line=line, month=1, value=held)])  # fmt: skip
            submission_submit(actor=approver, submission=submission, confirmed=True,
                              board_approval_date=last.board_approval_date)  # fmt: skip
        except Exception as exc:  # noqa: BLE001  (every plan is tried; each failure named)
            failed.append(f"{organisation.ods_code}: {exc}"[:200])
    return failed


@unattended("a benchmark: its people are not there to type a code")
def run(
    users: int = 50,
    seconds: float = 60,
    warmup: float = 10,
    port: int = 8765,
    servers: int = 1,
    split: bool = False,
    workers: int = 0,
) -> dict:
    plan_round = PlanningRound.objects.filter(slug=ROUND_SLUG).first()
    if plan_round is None:
        raise SystemExit(f"No round {ROUND_SLUG!r}: run `openbook seed --scale national` first.")
    if settings.DEBUG:
        raise SystemExit("Run the load bench with DEBUG off: it measures production settings.")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per request
    per_kind = max(1, users // len(KINDS))
    people: list[Person] = []
    recalled: list[Submission] = []
    masters = pools(servers, split)
    ports = [port + n for n in range(len(masters))]
    running: list[subprocess.Popen] = []
    arrivals = Arrivals([], 0)
    since = timezone.now()
    try:
        _people(plan_round, per_kind, people, recalled)
        for n, person in enumerate(people):
            person.server = servers if split and person.kind == "save" else n % servers
        for at, pool in zip(ports, masters, strict=True):
            running.append(_serve(at, **pool))
        celery_workers(workers, running)
        baseline = _baseline(ports[:servers], len(people), min(seconds, 15))
        if workers:
            arrivals = Arrivals(arriving(plan_round, recalled), warmup + seconds)
            arrivals.start()
        asyncio.run(_drive(ports, people, seconds, warmup))
        arrivals.finish()
        background = recalculated(arrivals, since) if workers else None
    finally:
        try:
            try:
                arrivals.finish()
            finally:
                _stop(running)
        finally:
            not_restored = _restore(recalled + arrivals.left_recalled(), people)
            if not_restored:
                sys.stderr.write("Plans not submitted again: " + "; ".join(not_restored) + "\n")
    by_kind = {
        kind: _summary([t for p in people if p.kind == kind for t in p.latencies], seconds)
        for kind in KINDS
    }
    pages = [t for p in people if p.kind != "save" for t in p.latencies]
    errors = [e for p in people for e in p.errors]
    everything = _summary([t for p in people for t in p.latencies], seconds)
    return {
        "bench": "load",
        "users": len(people),
        "seconds": seconds,
        "cores": os.cpu_count(),
        "gunicorn": {k: v for k, v in gunicorn_config().items() if k in ("workers", "threads")},
        "servers": [
            {
                "port": p,
                "workers": int(pool["WEB_CONCURRENCY"]),
                "nice": int(pool.get("GUNICORN_NICE", 0)),
                "serves": "cell saves" if split and n == servers else "pages" if split else "all",
            }
            for n, (p, pool) in enumerate(zip(ports, masters, strict=True))
        ],  # fmt: skip
        "celery_workers": workers,
        **everything,
        "errors": len(errors),
        "error_kinds": sorted(set(errors))[:10],
        "pages_p95_ms": round(_percentile(pages, 0.95) * 1000, 1),
        "save_p95_ms": by_kind["save"]["p95_ms"],
        "targets": {"pages_p95_ms": PAGE_TARGET_MS, "save_p95_ms": SAVE_TARGET_MS},
        "not_restored": not_restored,
        "by_kind": by_kind,
        "background": background,
        "baseline": baseline | {"what": "a small static file, asked for by as many people"},
    }
