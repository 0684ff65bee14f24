"""The home page's "Needs your attention": what each workflow waits on, for the person it waits
on and nobody else."""

from __future__ import annotations

import pytest

from tests import isolation

pytestmark = pytest.mark.django_db


def attention(client_for, person) -> str:
    html = client_for(person).get("/").content.decode()
    return html.split("Needs your attention", 1)[-1]


def test_a_transfer_waits_on_the_parties_still_to_agree(world, client_for):
    from payments.models import Transfer

    isolation._with_transfer(world)  # proposed by the lead, who agreed by proposing
    waiting = f"transfer {Transfer.objects.get().pk} waiting for your agreement"
    assert waiting in attention(client_for, world.people["approver"])
    for who in ("lead", "viewer", "reviewer", "outsider"):
        assert "waiting for your agreement" not in attention(client_for, world.people[who]), who


def test_an_agreement_waits_on_the_partners_approvers_signatures(world, client_for):
    isolation._with_agreement(world)
    assert "waiting for your signature" in attention(client_for, world.people["approver"])
    assert "waiting for your signature" not in attention(client_for, world.people["lead"])


def test_a_settlement_waits_on_answers_then_a_dispute_on_the_region(world, client_for):
    from payments.models import Settlement
    from payments.services import settlements

    isolation._with_settlement(world)
    approver, reviewer = world.people["approver"], world.people["reviewer"]
    assert "settlement waiting for your answer" in attention(client_for, approver)
    assert "disputed" not in attention(client_for, reviewer)
    settlements.settlement_respond(actor=approver, settlement=Settlement.objects.get(),
                                   organisation=world.org_a, accepted=False,
                                   reason="The spend includes last year's invoices")  # fmt: skip
    assert "settlement waiting for your answer" not in attention(client_for, approver)
    assert "settlement disputed" in attention(client_for, reviewer)
    assert "settlement disputed" not in attention(client_for, world.people["other_reviewer"])


def test_a_fund_release_waits_on_the_region(world, client_for):
    isolation._with_fund(world)
    assert "needs the region" in attention(client_for, world.people["reviewer"])
    assert "needs the region" not in attention(client_for, world.people["other_reviewer"])


def test_a_system_plan_waits_on_the_region_then_if_returned_on_the_lead(world, client_for):
    from plans.models import PlanningRound
    from plans.services.system import system_plan_return, system_plan_submit
    from plans.system_plan import system_plan_get

    isolation._plans_submitted(world)
    plan_round = PlanningRound.objects.get()
    lead, reviewer = world.people["lead"], world.people["reviewer"]
    system_plan_submit(actor=lead, plan=system_plan_get(lead, plan_round, world.s1),
                       narrative="Our plan")  # fmt: skip
    assert "system plan waiting for your review" in attention(client_for, reviewer)
    system_plan_return(actor=reviewer, plan_round=plan_round, system=world.s1,
                       reason="Beta's plan is missing")  # fmt: skip
    assert "system plan waiting for your review" not in attention(client_for, reviewer)
    assert "system plan returned by the region" in attention(client_for, lead)
