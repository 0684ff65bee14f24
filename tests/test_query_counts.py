"""Lists cost the same number of queries however long they are: each list page and API list
is read with a few rows and again with more, and the count must not move (the N+1 guard),
under a ceiling."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db
ROUND = "2026-27"
CEILING = 40  # queries for any list page, whatever its length


def _count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(queries)


def _steady(client, url: str, more) -> None:
    """The same count with more rows as with fewer (read twice first: caches settle)."""
    _count(client, url)
    before = _count(client, url)
    more()
    _count(client, url)
    after = _count(client, url)
    assert after == before, f"{url}: {before} queries with fewer rows, {after} with more"
    assert after <= CEILING, f"{url}: {after} queries"


def _client(user, api: bool = False):
    client = APIClient()
    if api:
        client.force_authenticate(user)
    else:
        client.force_login(user)
    return client


def _more_agreements(world, count: int = 3):
    from payments.services.agreements import agreement_create, agreement_sign
    from plans.models import PlanningRound
    from tests.payments.conftest import POOL

    plan_round = PlanningRound.objects.get()

    def more():
        for n in range(count):
            agreement = agreement_create(
                actor=world.people["lead"], plan_round=plan_round, system=world.s1,
                name=f"Pool {n}", partners=["ZA1", "ZA2"], mechanisms=[POOL],
            )  # fmt: skip
            agreement_sign(actor=world.people["approver"], agreement=agreement,
                           organisation=world.org_a, version_number=1)  # fmt: skip

    return more


@pytest.mark.parametrize("api", [False, True], ids=["page", "api"])
def test_the_agreement_list(world, api):
    from tests.isolation import _with_settlement

    _with_settlement(world)
    url = (f"/api/v1/rounds/{ROUND}/systems/s1/agreements/" if api
           else f"/rounds/{ROUND}/systems/s1/agreements/")  # fmt: skip
    _steady(_client(world.people["lead"], api), url, _more_agreements(world))


def test_the_settlement_list(world):
    from payments.models import Agreement
    from payments.services import settlements
    from tests.isolation import _with_settlement

    _with_settlement(world)
    agreement = Agreement.objects.get()

    def more():
        for period in ("Q1", "Q2", "Q3"):
            settlements.compute(settlements.settlement_enter(
                actor=world.people["lead"], agreement=agreement, period=period,
                measures=["300000"], outcomes_met=True,
            ).pk)  # fmt: skip

    url = f"/api/v1/rounds/{ROUND}/systems/s1/agreements/{agreement.pk}/settlements/"
    _steady(_client(world.people["lead"], api=True), url, more)


@pytest.mark.parametrize("api", [False, True], ids=["page", "api"])
def test_the_organisation_list(world, api):
    def more():
        for n in range(4):
            OrganisationFactory(ods_code=f"ZQ{n}", name=f"Quebec {n} NHS Trust", system=world.s1)

    url = "/api/v1/organisations/" if api else "/organisations/"
    _steady(_client(world.people["lead"], api), url, more)


def test_the_submission_list(world):
    from demo.synthetic import board_approver
    from plans.services import submission_start
    from tests.isolation import _plans_submitted

    _plans_submitted(world)
    from plans.models import PlanningRound

    plan_round = PlanningRound.objects.get()

    def more():
        for organisation in (world.org_b, world.commissioner):
            submission_start(actor=board_approver(organisation), plan_round=plan_round,
                             organisation=organisation)  # fmt: skip

    _steady(_client(world.people["lead"], api=True), f"/api/v1/rounds/{ROUND}/submissions/", more)


@pytest.mark.parametrize("api", [False, True], ids=["page", "api"])
def test_the_return_list(world, api):
    from plans.models import PlanningRound
    from plans.services.returns import return_start
    from tests.isolation import _plans_submitted

    _plans_submitted(world)
    plan_round = PlanningRound.objects.get()
    member = world.people["member"]
    return_start(actor=member, plan_round=plan_round, organisation=world.org_a, month=1)

    def more():
        for month in (2, 3, 4):
            return_start(actor=member, plan_round=plan_round, organisation=world.org_a,
                         month=month)  # fmt: skip

    url = (f"/api/v1/rounds/{ROUND}/returns/ZA1/" if api
           else f"/rounds/{ROUND}/ZA1/returns/")  # fmt: skip
    _steady(_client(member, api), url, more)


@pytest.mark.parametrize("api", [False, True], ids=["page", "api"])
def test_the_round_list(world, api):
    from tests.plans.conftest import make_round

    make_round()

    def more():
        for year in (2027, 2028):
            make_round(slug=f"{year}-{year % 100 + 1}", name=f"{year} plan", financial_year=year)

    url = "/api/v1/rounds/" if api else "/rounds/"
    _steady(_client(world.people["lead"], api), url, more)


def test_the_notification_list(world):
    from notifications.models import Kind
    from notifications.services import notify

    lead = world.people["lead"]

    def make(n: int):
        notify(kind=next(iter(Kind)), recipients=[lead], title=f"Item {n}", body="", url="/",
               key=f"query-count-{n}")  # fmt: skip

    make(0)
    _steady(_client(lead), "/notifications/", lambda: [make(n) for n in range(1, 5)])


@pytest.mark.parametrize("api", [False, True], ids=["page", "api"])
def test_the_audit_trail(world, api):
    from tests.isolation import _with_settlement

    _with_settlement(world)
    url = "/api/v1/systems/s1/audit/" if api else "/systems/s1/audit/"
    # More events of the kinds already there (each kind of object on a page is one query).
    _steady(_client(world.people["lead"], api), url, _more_agreements(world))


def test_the_systems_and_memberships_apis(world):
    from accounts.models import Role
    from tests.factories import MembershipFactory, SystemFactory

    admin = world.people["admin"]
    client = _client(admin, api=True)
    _steady(client, "/api/v1/systems/",
            lambda: [SystemFactory(region=world.r1) for _ in range(3)])  # fmt: skip
    _steady(client, "/api/v1/memberships/", lambda: [
        MembershipFactory(role=Role.ORG_PREPARER, organisation=world.org_a) for _ in range(3)
    ])  # fmt: skip


@pytest.mark.parametrize("api", [False, True], ids=["page", "api"])
def test_the_token_list(world, api):
    from accounts.services import token_create

    member = world.people["member"]
    token_create(actor=member, name="first", lifetime_days=30)
    url = "/api/v1/tokens/" if api else "/account/tokens/"
    _steady(_client(member, api), url, lambda: [
        token_create(actor=member, name=f"more {n}", lifetime_days=30) for n in range(3)
    ])  # fmt: skip


def test_the_region_s_systems(world):
    from tests.factories import OrganisationFactory, SystemFactory
    from tests.plans.conftest import make_round

    make_round()

    def more():
        for n in range(3):
            system = SystemFactory(region=world.r1, code=f"more{n}", name=f"More {n} ICS")
            OrganisationFactory(ods_code=f"ZM{n}", name=f"More {n} NHS Trust", system=system)

    url = f"/rounds/{ROUND}/regions/{world.r1.code}/"
    _steady(_client(world.people["reviewer"]), url, more)


@pytest.mark.parametrize("api", [False, True], ids=["page", "api"])
def test_the_webhook_list(world, api):
    from webhooks import services
    from webhooks.models import SUBSCRIBABLE

    def more():
        for n in range(3):
            services.endpoint_create(actor=world.people["lead"], system=world.s1,
                                     url=f"https://ledger{n}.example.nhs.uk/in",
                                     events=[e.value for e in SUBSCRIBABLE])  # fmt: skip

    services.endpoint_create(actor=world.people["lead"], system=world.s1,
                             url="https://first.example.nhs.uk/in",
                             events=[SUBSCRIBABLE[0].value])  # fmt: skip
    url = "/api/v1/systems/s1/webhooks/" if api else "/systems/s1/webhooks/"
    _steady(_client(world.people["lead"], api), url, more)


@pytest.mark.parametrize(
    ("who", "url"),
    [("approver", "/organisations/ZA1/access/"), ("lead", "/systems/s1/access/"),
     ("reviewer", "/regions/r1/access/")],
)  # fmt: skip
def test_the_people_and_access_pages(world, who, url):
    from accounts.models import Role
    from accounts.services import membership_create
    from tests.factories import UserFactory

    role, place = {
        "approver": (Role.ORG_VIEWER, {"organisation": world.org_a}),
        "lead": (Role.SYSTEM_VIEWER, {"system": world.s1}),
        "reviewer": (Role.REGION_REVIEWER, {"region": world.r1}),
    }[who]

    def more():
        for _ in range(3):
            membership_create(actor=None, user=UserFactory(), role=role, **place)

    _steady(_client(world.people[who]), url, more)


def _round():
    from plans.models import PlanningRound

    return PlanningRound.objects.get()


@pytest.mark.parametrize("api", [False, True], ids=["page", "api"])
def test_the_transfers(world, api):
    from decimal import Decimal

    from payments.services.transfers import transfer_propose
    from tests.isolation import _with_transfer

    _with_transfer(world)

    def more():
        for n in range(3):
            transfer_propose(actor=world.people["lead"], plan_round=_round(), system=world.s1,
                             moves=[("ZA1", Decimal(n + 2)), ("ZA2", Decimal(-n - 2))],
                             reason=f"Rebalance {n}")  # fmt: skip

    url = (f"/api/v1/rounds/{ROUND}/systems/s1/transfers/" if api
           else f"/rounds/{ROUND}/systems/s1/control-totals/")  # fmt: skip
    _steady(_client(world.people["lead"], api), url, more)


@pytest.mark.parametrize("api", [False, True], ids=["page", "api"])
def test_the_fund_releases(world, api):
    from payments.models import Fund
    from payments.services.fund import release_propose
    from tests.isolation import _with_fund

    _with_fund(world)  # one release, for quarter 1

    def more():
        for quarter in (2, 3, 4):
            release_propose(actor=world.people["lead"], fund=Fund.objects.get(),
                            organisation=world.org_b, quarter=quarter, reason="Winter")  # fmt: skip

    url = (f"/api/v1/rounds/{ROUND}/systems/s1/fund/releases/" if api
           else f"/rounds/{ROUND}/systems/s1/fund/")  # fmt: skip
    _steady(_client(world.people["lead"], api), url, more)


def test_the_template_versions_api(world, tmp_path):
    from plans.services import BUILTIN_TEMPLATE, template_load

    template_load()

    def more():
        for version in (2, 3):
            copy = tmp_path / f"v{version}.yaml"
            copy.write_text(BUILTIN_TEMPLATE.read_text().replace("\nversion: 1\n",
                                                                 f"\nversion: {version}\n"))  # fmt: skip
            template_load(path=copy)

    _steady(_client(world.people["lead"], api=True), "/api/v1/templates/", more)


def test_a_plan_s_comments_api(world):
    from plans.models import Submission
    from plans.services.workflow import comment_add
    from tests.isolation import _plans_submitted

    _plans_submitted(world)
    submission = Submission.objects.get(organisation=world.org_a)
    comment_add(actor=world.people["lead"], submission=submission, body="First")

    def more():
        for n in range(3):
            first = comment_add(actor=world.people["lead"], submission=submission, body=f"On {n}",
                                line_code="F100")  # fmt: skip
            comment_add(actor=world.people["approver"], submission=submission, body="Reply",
                        parent=first)  # fmt: skip

    url = f"/api/v1/rounds/{ROUND}/submissions/ZA1/comments/"
    _steady(_client(world.people["lead"], api=True), url, more)


@pytest.mark.parametrize("api", [False, True], ids=["page", "api"])
def test_a_webhook_s_deliveries(world, api):
    from tests.isolation.webhooks import _with_webhook
    from webhooks.models import Endpoint
    from webhooks.services import endpoint_ping

    _with_webhook(world)
    endpoint = Endpoint.objects.get()

    def more():
        for _ in range(3):
            endpoint_ping(actor=world.people["lead"], endpoint=endpoint)

    url = (f"/api/v1/systems/s1/webhooks/{endpoint.pk}/deliveries/" if api
           else f"/systems/s1/webhooks/{endpoint.pk}/")  # fmt: skip
    _steady(_client(world.people["lead"], api), url, more)


def test_the_audit_checkpoints_api(world):
    from openbook.audit import audit_record
    from openbook.checkpoints import checkpoints_issue
    from tests.isolation.audit import _with_checkpoints

    _with_checkpoints(world)

    def more():
        for n in range(3):
            audit_record(action="transfer.agreed", system=world.s1, payload={"n": n + 2})
            checkpoints_issue()

    _steady(_client(world.people["lead"], api=True), "/api/v1/systems/s1/audit/checkpoints/", more)


def test_the_round_page(world):
    from demo.synthetic import board_approver
    from plans.services import submission_start
    from tests.factories import SystemFactory
    from tests.isolation import _plans_submitted

    _plans_submitted(world)

    def more():
        system = SystemFactory(region=world.r1, code="more", name="More ICS")
        for n, place in enumerate((world.s1, world.s1, system)):
            organisation = OrganisationFactory(ods_code=f"ZR{n}", name=f"Romeo {n} NHS Trust",
                                               system=place)  # fmt: skip
            submission_start(actor=board_approver(organisation), plan_round=_round(),
                             organisation=organisation)  # fmt: skip

    client = _client(world.people["reviewer"])
    _steady(client, f"/rounds/{ROUND}/", more)
    page = client.get(f"/rounds/{ROUND}/").content.decode()
    assert "Romeo 2 NHS Trust" in page and "More ICS" in page  # the rows added are shown
