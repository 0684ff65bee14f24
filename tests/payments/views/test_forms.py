"""The money pages read every POST through a form: a figure is read by the one number
reader, a bad field is named on the page's error summary, nothing is stored, and the policy
answers before the form does."""

from decimal import Decimal

import pytest

from payments.models import Fund, FundAllocation
from tests.payments.services.test_fund import fund  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db


def _summary(client, response) -> str:
    assert response.status_code == 302
    return client.get(response["Location"]).content.decode()


def test_fund_rules_name_the_bad_field_and_store_nothing(world, plan_round, fund, client_for):  # noqa: F811
    admin = client_for(world.people["admin"])
    url = f"/rounds/{plan_round.slug}/systems/s1/fund/rules/"
    rules = {"name": "Fund", "system_share": "60", "q1": "25", "q2": "25", "q3": "25",
             "q4": "25", "taper": "linear", "taper_zero_at": "lots"}  # fmt: skip
    page = _summary(admin, admin.post(url, rules))
    assert "There is a problem" in page
    assert "The shortfall at which the taper reaches zero is not a number." in page
    assert (Fund.objects.get().taper, Fund.objects.get().system_share) == ("none", Decimal("0.5"))
    # With no taper, what is left in the shortfall's box is not read.
    admin.post(url, rules | {"taper": "none", "system_share": "55%"})
    saved = Fund.objects.get()
    assert (saved.taper, saved.taper_zero_at, saved.system_share) == ("none", None, Decimal("0.55"))


def test_allocations_name_each_bad_figure(world, plan_round, fund, client_for):  # noqa: F811
    reviewer = client_for(world.people["reviewer"])
    url = f"/rounds/{plan_round.slug}/systems/s1/fund/allocations/"
    before = list(FundAllocation.objects.values_list("organisation_id", "amount"))
    page = _summary(reviewer, reviewer.post(url, {"alloc:ZA1": "12,5x", "alloc:ZA2": "1e3"}))
    assert "Nothing was saved." in page and "Alpha Hospitals NHS Trust: “12,5x”" in page
    assert list(FundAllocation.objects.values_list("organisation_id", "amount")) == before


def test_a_decision_must_be_one_of_those_offered(world, client_for):
    from tests.isolation import _with_transfer

    _with_transfer(world)
    from payments.models import Transfer

    transfer = Transfer.objects.get()
    url = f"/rounds/{transfer.round.slug}/systems/s1/transfers/{transfer.pk}/decide/"
    approver = client_for(world.people["approver"])
    page = _summary(approver, approver.post(url, {"decision": "maybe"}))
    assert "Your decision: Choose one of those shown." in page
    assert not transfer.decisions.filter(organisation=world.org_a).exists()
    # Someone who is not a party is refused before the form is read.
    assert client_for(world.people["viewer"]).post(url, {"decision": "maybe"}).status_code == 403


def test_a_crafted_version_or_phasing_is_refused_not_an_error(world, client_for):
    from payments.models import Agreement, AgreementSignature
    from tests.isolation import _with_agreement

    _with_agreement(world)
    agreement = Agreement.objects.get()
    base = f"/rounds/{agreement.round.slug}/systems/s1/agreements/{agreement.pk}/"
    approver = client_for(world.people["approver"])
    # "²" is a digit to Python's isdigit but not a number to int(): refused as another version.
    response = approver.post(base + "sign/", {"organisation": "ZA1", "confirmed": "yes",
                                              "version": "²"})  # fmt: skip
    assert response.status_code == 302 and not AgreementSignature.objects.exists()
    lead = client_for(world.people["lead"])
    response = lead.post(base + "edit/", {"action": "save", "name": "Pool", "version": "²",
                                          "partners": ["ZA1", "ZA2"], "q1": "2" * 30,
                                          "q2": "25", "q3": "25", "q4": "25"})  # fmt: skip
    assert response.status_code == 422
    assert agreement.versions.count() == 1
    # A partner code too long to be one is named, not cut short.
    response = lead.post(base + "edit/", {"action": "save", "name": "Pool",
                                          "partners": ["ZA1", "Z" * 41]})  # fmt: skip
    assert (
        response.status_code == 422 and "Keep each to 40 characters." in response.content.decode()
    )
