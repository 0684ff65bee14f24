"""Control totals and transfers through the API: the same services, policy and audit as the
pages, amounts as £000 strings to three places."""

import pytest
from rest_framework.test import APIClient

from openbook.models import AuditEvent
from payments.models import ControlTotal, Transfer
from tests.plans.conftest import make_round

pytestmark = pytest.mark.django_db


def _api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_control_totals_by_value_and_by_csv_all_or_nothing(world):
    plan_round = make_round()
    url = f"/api/v1/rounds/{plan_round.slug}/systems/s1/control-totals/"
    reviewer = _api(world.people["reviewer"])
    body = reviewer.put(url, {"control_totals": {"ZA1": "2,000", "ZA2": "(1,500.5)"}},
                        format="json").json()  # fmt: skip
    rows = {r["ods_code"]: r["control_total"] for r in body["organisations"]}
    assert rows == {"ZA1": "2000.000", "ZA2": "-1500.500", "ZA3": None}
    assert body["system_control_total"] == "499.500"
    refused = reviewer.put(url, {"control_totals": {"ZA1": "1", "ZZ9": "2", "ZA2": "ten"}},
                           format="json")  # fmt: skip
    assert refused.status_code == 400
    problems = refused.json()["error"]["problems"]
    assert [(p["cell"], p["problem"]) for p in problems] == [
        ("ZZ9", f"is not an organisation in {world.s1.name}"),
        ("ZA2", "is not a number"),
    ]
    assert ControlTotal.objects.get(organisation=world.org_a).amount == 2000  # nothing stored
    imported = reviewer.post(url + "import/", {"csv": "organisation,control_total\nZA3,250\n"},
                             format="json").json()  # fmt: skip
    assert {r["ods_code"]: r["control_total"] for r in imported["organisations"]}["ZA3"] == (
        "250.000"
    )
    assert _api(world.people["lead"]).put(url, {"control_totals": {"ZA1": "1"}},
                                          format="json").status_code == 403  # fmt: skip
    assert AuditEvent.objects.filter(action="control_total.set").count() == 3


def test_a_transfer_proposed_agreed_and_applied_through_the_api(world):
    plan_round = make_round()
    base = f"/api/v1/rounds/{plan_round.slug}/systems/s1/"
    _api(world.people["reviewer"]).put(base + "control-totals/", {"control_totals": {
        "ZA1": "2000", "ZA2": "-1000"}}, format="json")  # fmt: skip
    lead = _api(world.people["lead"])
    created = lead.post(base + "transfers/", {
        "lines": [{"organisation": "ZA1", "amount": "-300"},
                  {"organisation": "ZA2", "amount": "300"}],
        "reason": "Winter pressures",
    }, format="json")  # fmt: skip
    assert created.status_code == 201, created.json()
    transfer = created.json()
    assert transfer["status"] == "proposed"
    assert transfer["lines"] == [{"organisation": "ZA1", "amount": "-300.000"},
                                 {"organisation": "ZA2", "amount": "300.000"}]  # fmt: skip
    assert sorted(transfer["waiting_on"]) == sorted([world.org_a.name, world.org_b.name])
    decide = f"{base}transfers/{transfer['id']}/decide/"
    assert _api(world.people["approver"]).post(decide, {"agreed": True},
                                               format="json").status_code == 200  # fmt: skip
    beta = world.people["partner"]
    from accounts.models import Membership

    Membership.objects.filter(user=beta).update(role="org_approver")
    done = _api(beta).post(decide, {"agreed": True}, format="json").json()
    assert done["status"] == "agreed" and done["waiting_on"] == []
    assert ControlTotal.objects.get(organisation=world.org_a).amount == 1700
    listed = lead.get(base + "transfers/").json()
    assert [t["id"] for t in listed] == [transfer["id"]]
    # A new one, withdrawn by the lead.
    second = lead.post(base + "transfers/", {
        "lines": [{"organisation": "ZA1", "amount": "10"},
                  {"organisation": "ZA2", "amount": "-10"}], "reason": "Again",
    }, format="json").json()  # fmt: skip
    withdrawn = lead.post(f"{base}transfers/{second['id']}/withdraw/").json()
    assert withdrawn["status"] == "withdrawn"
    assert Transfer.objects.get(pk=second["id"]).status == "withdrawn"


def test_a_transfer_line_without_a_figure_is_named(world):
    plan_round = make_round()
    response = _api(world.people["lead"]).post(
        f"/api/v1/rounds/{plan_round.slug}/systems/s1/transfers/",
        {"lines": [{"organisation": "ZA1", "amount": ","},
                   {"organisation": "ZA2", "amount": "1"}], "reason": "x"},
        format="json",
    )  # fmt: skip
    assert response.status_code == 400
    assert response.json()["error"]["problems"][0]["cell"] == "line 1"
    assert not Transfer.objects.exists()
