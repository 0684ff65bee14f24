"""Payments tests use the planning round from the plans tests, and share an agreed risk-share
agreement (with its partners' approvers as `people`)."""

import pytest

from payments.services.agreements import agreement_create, agreement_sign
from tests.plans.conftest import plan_round  # noqa: F401  (a fixture)

POOL = {"kind": "risk_pool", "params": {"budget": "1000000", "shares": {"ZA1": "60", "ZA2": "40"}}}
AON = {"kind": "all_or_nothing",
       "params": {"percent": "2", "contract_values": {"ZA1": "5000000"}, "payer": "ZA2"}}  # fmt: skip


@pytest.fixture
def people(world):
    from accounts.models import Membership

    Membership.objects.filter(user=world.people["partner"]).update(role="org_approver")
    return world.people


@pytest.fixture
def agreed(world, request, people):
    this_round = request.getfixturevalue("plan_round")
    agreement = agreement_create(actor=people["lead"], plan_round=this_round, system=world.s1,
                                 name="Pool", partners=["ZA1", "ZA2"], mechanisms=[POOL, AON])  # fmt: skip
    agreement_sign(actor=people["approver"], agreement=agreement, organisation=world.org_a,
                   version_number=1)  # fmt: skip
    agreement_sign(actor=people["partner"], agreement=agreement, organisation=world.org_b,
                   version_number=1)  # fmt: skip
    return agreement
