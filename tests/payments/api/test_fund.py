"""The fund through the API: rules, the system's share, allocations and releases, with
shares as percentages to two places and amounts as £000 to three."""

import pytest
from rest_framework.test import APIClient

from payments.models import DiscretionaryRelease, Fund
from tests.payments.services.test_fund import fund  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db


def _api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_fund_through_the_api(world, plan_round, fund):  # noqa: F811
    base = f"/api/v1/rounds/{plan_round.slug}/systems/s1/fund/"
    shown = _api(world.people["member"]).get(base).json()
    assert shown == {
        "name": "Financial recovery fund", "fund_system_share": "50.00", "system_share": "50.00",
        "phasing": ["25.00"] * 4, "taper": "none", "taper_zero_at": None,
        "allocations": {"ZA2": "1000.000"},
    }  # fmt: skip
    admin = _api(world.people["admin"])
    bad = admin.put(base + "rules/", {"name": "Fund", "system_share": "60", "phasing": ["25"] * 4,
                                      "taper": "linear", "taper_zero_at": "lots"}, format="json")  # fmt: skip
    assert bad.status_code == 400 and "taper_zero_at" in bad.json()["error"]["fields"]
    assert Fund.objects.get().taper == "none"
    rules = admin.put(base + "rules/", {"name": "Fund", "system_share": "60%",
                                        "phasing": ["10", "20", "30", "40"], "taper": "linear",
                                        "taper_zero_at": "3,000"}, format="json").json()  # fmt: skip
    assert (rules["system_share"], rules["phasing"], rules["taper_zero_at"]) == (
        "60.00",
        ["10.00", "20.00", "30.00", "40.00"],
        "3000.000",
    )
    lead = _api(world.people["lead"])
    assert lead.put(base + "share/", {"system_share": "75"},
                    format="json").json()["system_share"] == "75.00"  # fmt: skip
    reviewer = _api(world.people["reviewer"])
    refused = reviewer.put(base + "allocations/", {"allocations": {"ZA2": "12x"}}, format="json")
    assert refused.status_code == 400
    assert refused.json()["error"]["problems"][0]["cell"] == "ZA2"
    assert reviewer.put(base + "allocations/", {"allocations": {"ZA2": "1,250"}},
                        format="json").json()["allocations"] == {"ZA2": "1250.000"}  # fmt: skip
    proposed = lead.post(base + "releases/", {"organisation": "ZA2", "quarter": 2,
                                              "reason": "Flu"}, format="json")  # fmt: skip
    assert proposed.status_code == 201
    release = proposed.json()
    assert (release["organisation"], release["quarter"], release["status"]) == (
        "ZA2",
        2,
        "proposed",
    )
    decided = reviewer.post(f"{base}releases/{release['id']}/decide/",
                            {"agreed": True, "note": "Agreed"}, format="json").json()  # fmt: skip
    assert (decided["status"], decided["decided_by"]) == ("agreed", "reviewer@example.nhs.uk")
    assert DiscretionaryRelease.objects.get().status == "agreed"
    assert [r["id"] for r in lead.get(base + "releases/").json()] == [release["id"]]
