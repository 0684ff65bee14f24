"""Agreements through the API: the figures a mechanism's terms give (a capitation budget's
distance from target, its populations and figures per head) are fields, on the agreement and
in each what-if row, each named with its unit and given to fixed places."""

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

CAPITATION = {"kind": "capitation", "params": {
    "provider": "ZA1", "commissioner": "ZA2", "baseline": "100000000", "inflation": "2",
    "growth": "1", "efficiency": "1.1", "target": "98000000", "population": "250000",
    "weighted_population": "270000"}}  # fmt: skip


def test_capitation_figures_are_fields_on_the_agreement_and_the_what_if(world, people, plan_round):
    lead = APIClient()
    lead.force_authenticate(people["lead"])
    base = f"/api/v1/rounds/{plan_round.slug}/systems/s1/agreements/"
    created = lead.post(base, {"name": "Population budget", "partners": ["ZA1", "ZA2"],
                               "mechanisms": [CAPITATION]}, format="json")  # fmt: skip
    assert created.status_code == 201, created.content
    (figures,) = created.json()["latest"]["figures"]
    # Worked by hand in tests/payments/calculations/test_mechanisms.py.
    assert figures == {
        "budget_gbp": "101886780.00",
        "target_gbp": "98000000.00",
        "distance_from_target_percent": "3.97",
        "population_people": "250000",
        "weighted_population_people": "270000",
        "budget_per_head_gbp": "407.55",
        "budget_per_weighted_head_gbp": "377.36",
        "target_per_weighted_head_gbp": "362.96",
    }  # fmt: skip  (spend figures come with a spend: in each what-if row)
    rows = lead.get(f"{base}{created.json()['id']}/what-if/").json()
    # 10% under the planned spend (the budget, as none was planned): £91,698,102 spent.
    under = next(r for r in rows if r["variance_percent"] == "-10.0" and r["outcomes_met"])
    (at_row,) = under["figures"]
    assert at_row["spend_gbp"] == "91698102.00"
    assert at_row["spend_per_head_gbp"] == "366.79"  # 91,698,102 ÷ 250,000 = 366.792…
    assert at_row["distance_from_target_percent"] == "3.97"  # the terms', whatever the spend
    # A mechanism that gives no figures has none: an empty object, not a row of nulls.
    pool = lead.post(base, {"name": "Pool", "partners": ["ZA1", "ZA2"], "mechanisms": [
        {"kind": "risk_pool", "params": {"budget": "10000", "shares": {"ZA1": "50", "ZA2": "50"}}},
    ]}, format="json")  # fmt: skip
    assert pool.json()["latest"]["figures"] == [{}]
