"""Wayfinding: from each person's home page, every kind of page they can reach at all by
following links is reachable in two clicks at most; every page says where it sits."""

from __future__ import annotations

import re
from collections import deque
from urllib.parse import urlsplit

import pytest
from django.urls import Resolver404, resolve

from tests import isolation

pytestmark = pytest.mark.django_db

LINK = re.compile(r'<a\s[^>]*href="(/[^"#]*)')
# Not pages: files to download, the API, the admin (its own navigation), signing out.
NOT_PAGES = re.compile(r"\.(csv|xlsx|json|pdf)$|^/api/|^/admin/|^/logout/")
# Parts of a page that the page itself opens in place (a cell's history, a line's help), and
# the forms of an action taken on the page's object (spread a line, edit an agreement, accept
# a plan): each is the next step from its page, not a place to find.
PARTS = {"plan_section_cell", "plan_section_cells", "plan_section_history",
         "plan_section_spread", "plan_upload", "plan_submit", "plan_accept", "plan_return",
         "agreement_new", "agreement_edit", "system_submit", "system_approve", "system_return",
         "return_upload"}  # fmt: skip
PER_KIND = 4  # enough examples of each kind of page to find where links lead
PERSONAS = ["member", "approver", "viewer", "partner", "lead", "system_viewer", "reviewer"]


def crawl(client, limit_depth: int = 5) -> tuple[dict[str, int], list[str]]:
    """Every kind of page (URL name) reachable from "/" by links, with the fewest clicks; and
    any link shown to this person that does not open for them."""
    depth_of: dict[str, int] = {}
    broken: list[str] = []
    seen: set[str] = {"/"}
    per_kind: dict[str, int] = {}
    queue = deque([("/", 0)])
    while queue:
        url, depth = queue.popleft()
        response = client.get(url)
        if response.status_code >= 400:
            broken.append(f"{url} answers {response.status_code}")
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        try:
            name = resolve(urlsplit(url).path).url_name
        except Resolver404:
            continue
        depth_of.setdefault(name, depth)
        if depth >= limit_depth:
            continue
        for href in LINK.findall(response.content.decode()):
            href = href.replace("&amp;", "&")
            path = urlsplit(href).path
            if NOT_PAGES.search(path) or href in seen:
                continue
            try:
                kind = resolve(path).url_name
            except Resolver404:
                continue
            if kind in PARTS or per_kind.get(kind, 0) >= PER_KIND:
                continue
            per_kind[kind] = per_kind.get(kind, 0) + 1
            seen.add(href)
            queue.append((href, depth + 1))
    return depth_of, broken


@pytest.fixture
def busy_world(world):
    """A round with a plan submitted, control totals, a transfer, an agreement and a settlement
    proposed, and the system plan sent to the region: every kind of page has something."""
    isolation._with_settlement(world)  # Alpha's plan submitted, control totals, the pool
    isolation._with_transfer_only(world)
    from plans.models import PlanningRound
    from plans.services.system import system_plan_submit
    from plans.system_plan import system_plan_get

    lead = world.people["lead"]
    system_plan_submit(actor=lead, plan=system_plan_get(lead, PlanningRound.objects.get(),
                       world.s1), narrative="Our plan")  # fmt: skip
    return world


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_page_is_two_clicks_from_home(client_for, busy_world, persona):
    depths, broken = crawl(client_for(busy_world.people[persona]))
    assert not broken, f"{persona} is shown links that do not open: {broken}"
    far = {name: d for name, d in depths.items() if d > 2}
    assert not far, f"{persona}: more than two clicks from home: {far}"
    # And the pages each person works on are among them.
    expected = {
        "member": {"plan_detail", "plan_section", "return_list", "system_plan"},
        "approver": {"plan_detail", "plan_section", "agreement_detail", "settlement_detail",
                     "control_totals"},
        "viewer": {"plan_detail", "system_plan"},
        "partner": {"plan_detail", "system_plan"},
        "lead": {"system_plan", "system_balances", "control_totals", "fund", "agreement_list",
                 "audit_timeline", "plan_detail", "notification_list"},
        "system_viewer": {"system_plan", "system_balances", "audit_timeline"},
        "reviewer": {"region_systems", "system_plan", "system_version", "notification_list",
                     "settlement_detail", "audit_timeline"},
    }[persona]  # fmt: skip
    assert expected <= set(depths), f"{persona} cannot reach {expected - set(depths)}"


def test_money_pages_have_breadcrumbs(client_for, busy_world):
    from payments.models import Agreement, Settlement

    lead = client_for(busy_world.people["lead"])
    agreement = Agreement.objects.get()
    settlement = Settlement.objects.get()
    base = "/rounds/2026-27/systems/s1/"
    for path in ("control-totals/", "fund/", "agreements/", f"agreements/{agreement.pk}/",
                 f"agreements/{agreement.pk}/settlements/{settlement.pk}/", "balances/"):  # fmt: skip
        page = lead.get(base + path).content.decode()
        crumbs = page.split('aria-label="Breadcrumb"', 1)[1].split("</nav>", 1)[0]
        assert 'href="/rounds/2026-27/systems/s1/"' in crumbs, path
        assert "System One" in crumbs, path


def test_an_administrator_reaches_the_people_import_from_home(client_for, world):
    depths, broken = crawl(client_for(world.people["admin"]), limit_depth=1)
    assert not broken, f"admin is shown links that do not open: {broken}"
    assert depths.get("people_import") == 1
