"""A client generated from the published OpenAPI document (openapi-python-client, as an
integrator would run it) creates an agreement of every kind against a running server: each
kind's parameters are named, typed and documented in the schema, so nobody has to read the
code to send them."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from accounts.services import token_create
from payments.calculations.mechanisms import KINDS
from payments.models import Agreement

pytestmark = pytest.mark.django_db(transaction=True)

CONFIG = "project_name_override: openbook_client\npackage_name_override: openbook_client\n"
CONFIG += "post_hooks: []\n"  # no formatter run over the generated code


@pytest.fixture
def generated(tmp_path):
    """The client package, generated from the schema the server publishes."""
    schema = Client().get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    (tmp_path / "openapi.json").write_bytes(schema.content)
    (tmp_path / "config.yaml").write_text(CONFIG)
    tool = Path(sys.executable).with_name("openapi-python-client")
    done = subprocess.run(
        [str(tool), "generate", "--path", "openapi.json", "--config", "config.yaml",
         "--meta", "none", "--output-path", "openbook_client"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Warning" not in done.stdout, done.stdout  # every part of the schema understood
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module("openbook_client")
    finally:
        sys.path.remove(str(tmp_path))
        for name in [n for n in sys.modules if n.split(".")[0] == "openbook_client"]:
            del sys.modules[name]


def test_a_generated_client_creates_an_agreement_of_every_kind(
    generated, world, people, plan_round, live_server
):
    from openbook_client import AuthenticatedClient
    from openbook_client import models as m

    _, token = token_create(actor=people["lead"], name="finance system", lifetime_days=7)
    client = AuthenticatedClient(base_url=live_server.url, token=token, prefix="Token")
    # Written from the generated models alone: their names, fields and documentation.
    mechanisms = {
        "marginal_rate": m.MarginalRateMechanismRequest(
            kind=m.MarginalRateMechanismKindEnum.MARGINAL_RATE,
            params=m.MarginalRateParamsRequest(provider="ZA1", commissioner="ZA2",
                                               baseline="1000", price="2", rate="30"),
        ),
        "blended": m.BlendedMechanismRequest(
            kind=m.BlendedMechanismKindEnum.BLENDED,
            params=m.BlendedParamsRequest(provider="ZA1", commissioner="ZA2", fixed="5000",
                                          plan="1000", price="1.5", variable_rate="20",
                                          outcome_amount="50"),
        ),
        "cap_and_collar": m.CapAndCollarMechanismRequest(
            kind=m.CapAndCollarMechanismKindEnum.CAP_AND_COLLAR,
            params=m.CapAndCollarParamsRequest(provider="ZA1", commissioner="ZA2", core="1000",
                                               plan="100", collar="90", cap="110", price="2",
                                               rate="50"),
        ),
        "risk_pool": m.RiskPoolMechanismRequest(
            kind=m.RiskPoolMechanismKindEnum.RISK_POOL,
            params=m.RiskPoolParamsRequest(
                budget="1000",
                shares=m.RiskPoolParamsRequestShares.from_dict({"ZA1": "60", "ZA2": "40"}),
            ),
        ),
        "all_or_nothing": m.AllOrNothingMechanismRequest(
            kind=m.AllOrNothingMechanismKindEnum.ALL_OR_NOTHING,
            params=m.AllOrNothingParamsRequest(
                payer="ZA2", percent="2",
                contract_values=m.AllOrNothingParamsRequestContractValues.from_dict(
                    {"ZA1": "5000"}),
            ),
        ),
        "gain_share": m.GainShareMechanismRequest(
            kind=m.GainShareMechanismKindEnum.GAIN_SHARE,
            params=m.GainShareParamsRequest(provider="ZA1", commissioner="ZA2", baseline="900",
                                            planned_spend="800", provider_share="40"),
        ),
        "capitation": m.CapitationMechanismRequest(
            kind=m.CapitationMechanismKindEnum.CAPITATION,
            params=m.CapitationParamsRequest(provider="ZA1", commissioner="ZA2",
                                             baseline="100000", inflation="2", growth="1",
                                             efficiency="1.1", target="98000",
                                             population="250000"),
        ),
        "pooled_budget": m.PooledBudgetMechanismRequest(
            kind=m.PooledBudgetMechanismKindEnum.POOLED_BUDGET,
            params=m.PooledBudgetParamsRequest(
                host="ZA1",
                contributions=m.PooledBudgetParamsRequestContributions.from_dict(
                    {"ZA1": "600", "ZA2": "400"}),
            ),
        ),
    }  # fmt: skip
    assert set(mechanisms) == set(KINDS)  # every kind the platform knows
    with client:  # its connections closed at the end, so the server's thread lets go
        _create_each(m, client, plan_round, mechanisms)
    assert Agreement.objects.filter(system__code="s1").count() == len(KINDS)
    capitation = Agreement.objects.get(name="A capitation")
    assert capitation.versions.get().mechanisms[0]["params"]["population"] == "250000"


def _create_each(m, client, plan_round, mechanisms):
    from openbook_client.api.rounds import (
        rounds_systems_agreements_create,
        rounds_systems_agreements_what_if_list,
    )

    for kind, mechanism in mechanisms.items():
        response = rounds_systems_agreements_create.sync_detailed(
            plan_round.slug, "s1", client=client,
            body=m.AgreementInputRequest(name=f"A {kind}", partners=["ZA1", "ZA2"],
                                         mechanisms=[mechanism]),
        )  # fmt: skip
        assert response.status_code == 201, (kind, response.content)
        agreement = response.parsed
        (back,) = agreement.latest.mechanisms  # read back as the kind's own model
        assert back.kind.value == kind and type(back).__name__.endswith("Mechanism"), kind
        rows = rounds_systems_agreements_what_if_list.sync(
            plan_round.slug, "s1", agreement.id, client=client
        )
        assert rows and all(isinstance(r, m.WhatIfRow) for r in rows), kind
