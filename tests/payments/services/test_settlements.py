"""Settlements and decisions: every transition allowed and refused, the worker's figures,
supersession, and a tampered decision event caught by verification."""

from __future__ import annotations

import html
import re
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from openbook.audit import audit_verify_chain
from openbook.errors import ProblemList
from openbook.models import AuditEvent, system_chain
from payments.models import Settlement
from payments.services import settlements as svc
from payments.services.agreements import agreement_create, agreement_sign
from tests.payments.conftest import POOL

S = Settlement.Status


def _entered(people, agreement, spend="1100000", met=True, period="year"):
    settlement = svc.settlement_enter(actor=people["lead"], agreement=agreement, period=period,
                                      measures=[spend, ""], outcomes_met=met)  # fmt: skip
    return svc.compute(settlement.pk)  # what the worker does, here in process


def test_the_worker_works_out_each_partner_with_workings(people, agreed):
    settlement = _entered(people, agreed, spend="1100000", met=False)
    # Pool: £1,000,000 − £1,100,000 = −£100,000 → ZA1 −£60,000, ZA2 −£40,000, the pool's
    # overspend met by them. Outcome missed: ZA1 loses 2% of £5,000,000 = £100,000, which ZA2,
    # the payer, keeps. Flows in pounds and pence.
    assert settlement.flows == {"ZA1": "-160000.00", "ZA2": "60000.00"}
    assert settlement.external == {"The pool (budget less spend)": "100000.00"}
    svc.settlement_propose(actor=people["lead"], settlement=settlement)
    proposed = AuditEvent.objects.get(action="settlement.proposed", object_id=str(settlement.pk))
    assert proposed.after == {"flows": {"ZA1": "-160000.00", "ZA2": "60000.00"},
                              "external": {"The pool (budget less spend)": "100000.00"}}  # fmt: skip
    assert (
        "Pool result: budget £1,000,000.00 − spend £1,100,000.00 = (£100,000.00)"
        in settlement.workings[0]["steps"]
    )
    quarter = _entered(people, agreed, spend="275000", period="Q1")  # a quarter: £250,000
    assert quarter.flows["ZA1"] == "-15000.00"


def _agreed_pool(world, plan_round, people, phasing):
    """The pool alone, phased as given, signed by both partners."""
    agreement = agreement_create(actor=people["lead"], plan_round=plan_round, system=world.s1,
                                 name="Pool", partners=["ZA1", "ZA2"], mechanisms=[POOL],
                                 phasing=phasing)  # fmt: skip
    for actor, organisation in (
        (people["approver"], world.org_a),
        (people["partner"], world.org_b),
    ):
        agreement_sign(actor=actor, agreement=agreement, organisation=organisation,
                       version_number=1)  # fmt: skip
    return agreement


def test_a_quarter_is_settled_by_the_agreements_phasing(world, plan_round, people):
    """Winter-heavy phasing: Q3 carries 30% of the year, so its share of the £1,000,000 budget
    is £300,000; spend of £330,000 is £30,000 over, ZA1 bears 60% of it."""
    agreement = _agreed_pool(world, plan_round, people, ["20", "20", "30", "30"])
    settlement = svc.settlement_enter(actor=people["lead"], agreement=agreement, period="Q3",
                                      measures=["330000"], outcomes_met=True)  # fmt: skip
    settlement = svc.compute(settlement.pk)
    assert settlement.flows == {"ZA1": "-18000.00", "ZA2": "-12000.00"}
    assert (
        "For the period: amounts and volumes × 30% of the year" in settlement.workings[0]["steps"]
    )


def test_the_phasing_is_checked_with_the_terms(world, plan_round, people):
    for phasing, message in (
        (["25", "25", "25", "20"], "The quarters add up to 95%; they must add up to 100%."),
        (["25", "25", "25", "x"], "Enter a percentage from 0 to 100, to two decimal places."),
        (["110", "-10", "0", "0"], "Enter a percentage from 0 to 100, to two decimal places."),
        (["25", "25", "50"], "Give a share for each of the four quarters."),
    ):
        with pytest.raises(ProblemList) as caught:
            agreement_create(actor=people["lead"], plan_round=plan_round, system=world.s1,
                             name="Pool", partners=["ZA1", "ZA2"], mechanisms=[POOL],
                             phasing=phasing)  # fmt: skip
        assert [p["problem"] for p in caught.value.problems] == [message]


def test_a_settlement_needs_an_agreed_agreement_and_good_actuals(world, plan_round, people):
    draft = agreement_create(actor=people["lead"], plan_round=plan_round, system=world.s1,
                             name="Draft", partners=["ZA1", "ZA2"], mechanisms=[POOL])  # fmt: skip
    with pytest.raises(ValidationError, match="not agreed yet"):
        svc.settlement_enter(actor=people["lead"], agreement=draft, period="year",
                             measures=["1"], outcomes_met=True)  # fmt: skip


def test_bad_actuals_are_named(people, agreed):
    with pytest.raises(ProblemList) as exc:
        svc.settlement_enter(actor=people["lead"], agreement=agreed, period="Q1",
                             measures=["lots", ""], outcomes_met=True)  # fmt: skip
    assert exc.value.problems[0]["cell"] == "Mechanism 1 (Risk/reward pool)"
    with pytest.raises(PermissionDenied):
        svc.settlement_enter(actor=people["approver"], agreement=agreed, period="Q1",
                             measures=["1", ""], outcomes_met=True)  # fmt: skip


def test_all_accept_and_it_is_agreed_then_superseded_only_by_a_new_decision(world, people, agreed):
    first = _entered(people, agreed)
    with pytest.raises(ValidationError):  # not proposed yet
        svc.settlement_respond(actor=people["approver"], settlement=first,
                               organisation=world.org_a, accepted=True)  # fmt: skip
    with pytest.raises(ValidationError, match="already being decided"):
        _entered(people, agreed)
    svc.settlement_propose(actor=people["lead"], settlement=first)
    with pytest.raises(ValidationError):
        svc.settlement_propose(actor=people["lead"], settlement=first)
    with pytest.raises(PermissionDenied):  # a preparer cannot answer for Alpha
        svc.settlement_respond(actor=people["member"], settlement=first,
                               organisation=world.org_a, accepted=True)  # fmt: skip
    svc.settlement_respond(actor=people["approver"], settlement=first, organisation=world.org_a,
                           accepted=True)  # fmt: skip
    first = svc.settlement_respond(actor=people["partner"], settlement=first,
                                   organisation=world.org_b, accepted=True)  # fmt: skip
    assert first.status == S.AGREED
    for forbidden in (
        lambda: svc.settlement_withdraw(actor=people["lead"], settlement=first),
        lambda: svc.settlement_decide(actor=people["reviewer"], settlement=first, uphold=True,
                                      reason="x"),
    ):  # fmt: skip
        with pytest.raises(ValidationError):
            forbidden()
    second = _entered(people, agreed, spend="900000")
    svc.settlement_propose(actor=people["lead"], settlement=second)
    for person, org in ((people["approver"], world.org_a), (people["partner"], world.org_b)):
        svc.settlement_respond(actor=person, settlement=second, organisation=org, accepted=True)
    first.refresh_from_db()
    assert first.status == S.SUPERSEDED


def test_a_dispute_goes_to_the_region_which_decides_with_a_reason(world, people, agreed):
    settlement = _entered(people, agreed)
    svc.settlement_propose(actor=people["lead"], settlement=settlement)
    with pytest.raises(ValidationError, match="Say why"):
        svc.settlement_respond(actor=people["partner"], settlement=settlement,
                               organisation=world.org_b, accepted=False)  # fmt: skip
    svc.settlement_respond(actor=people["partner"], settlement=settlement,
                           organisation=world.org_b, accepted=False,
                           reason="The spend includes winter schemes outside the pool")  # fmt: skip
    settlement.refresh_from_db()
    assert settlement.status == S.DISPUTED
    with pytest.raises(PermissionDenied):
        svc.settlement_decide(actor=people["lead"], settlement=settlement, uphold=True,
                              reason="x")  # fmt: skip
    with pytest.raises(PermissionDenied):
        svc.settlement_decide(actor=people["other_reviewer"], settlement=settlement, uphold=True,
                              reason="x")  # fmt: skip
    with pytest.raises(ValidationError, match="reason"):
        svc.settlement_decide(actor=people["reviewer"], settlement=settlement, uphold=True,
                              reason=" ")  # fmt: skip
    decided = svc.settlement_decide(actor=people["reviewer"], settlement=settlement, uphold=True,
                                    reason="Winter schemes were in scope from the start")  # fmt: skip
    assert decided.status == S.DECIDED
    actions = list(AuditEvent.objects.filter(object_type="payments.settlement")
                   .order_by("seq").values_list("action", flat=True))  # fmt: skip
    assert actions == ["settlement.entered", "settlement.proposed", "settlement.disputed",
                       "settlement.escalated", "settlement.decided"]  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_tampering_with_a_decision_event_is_caught():
    from tests.conftest import build_world
    from tests.plans.conftest import make_round

    world = build_world()
    plan_round = make_round()
    from accounts.models import Membership

    Membership.objects.filter(user=world.people["partner"]).update(role="org_approver")
    people = world.people
    agreement = agreement_create(actor=people["lead"], plan_round=plan_round, system=world.s1,
                                 name="Pool", partners=["ZA1", "ZA2"], mechanisms=[POOL])  # fmt: skip
    for person, org in ((people["approver"], world.org_a), (people["partner"], world.org_b)):
        agreement_sign(actor=person, agreement=agreement, organisation=org, version_number=1)
    settlement = svc.settlement_enter(actor=people["lead"], agreement=agreement, period="year",
                                      measures=["1100000"], outcomes_met=True)  # fmt: skip
    svc.compute(settlement.pk)
    svc.settlement_propose(actor=people["lead"], settlement=settlement)
    chain = system_chain(world.s1.pk)
    assert audit_verify_chain(chain).ok
    event = AuditEvent.objects.get(action="settlement.proposed")
    with connection.cursor() as cursor:
        # Past the append-only trigger, as someone with the database's keys might.
        cursor.execute("SET session_replication_role = replica")
        cursor.execute(
            "UPDATE openbook_auditevent SET after = %s WHERE id = %s",
            ['{"flows": {"ZA1": "0.00", "ZA2": "0.00"}}', event.pk],
        )
        cursor.execute("SET session_replication_role = origin")
    report = audit_verify_chain(chain)
    assert not report.ok and report.broken_event_id == event.pk


def test_an_absurd_actual_is_refused_not_left_for_the_worker(people, agreed):
    with pytest.raises(ProblemList) as exc:
        svc.settlement_enter(actor=people["lead"], agreement=agreed, period="Q1",
                             measures=["1" + "0" * 30, ""], outcomes_met=True)  # fmt: skip
    assert "under 100,000,000,000" in exc.value.problems[0]["problem"]


def test_a_bad_entry_comes_back_with_what_was_typed(people, agreed, client_for, plan_round):
    client = client_for(people["lead"])
    url = f"/rounds/{plan_round.slug}/systems/s1/agreements/{agreed.pk}/settlements/"
    response = client.post(url, {"period": "Q2", "measure-1": "lots"})
    body = response.content.decode()
    assert response.status_code == 422
    assert "Mechanism 1 (Risk/reward pool): the actual spend must be a number" in body
    assert 'value="lots"' in body and '<option value="Q2" selected>' in body
    # The all-or-nothing payment (mechanism 2) has its own box, left as it was: clear.
    assert 'id="outcomes-2" name="outcomes-2" type="checkbox" value="yes">' in body
    assert "2. All-or-nothing outcome payment: its outcome measures were met" in body
    assert 'name="outcomes-1"' not in body  # the pool is not linked to outcomes
    assert not Settlement.objects.exists()
    response = client.post(url, {"period": "Q2", "measure-1": "260000", "outcomes-2": "yes"})
    assert response.status_code == 302
    settlement = Settlement.objects.get()
    assert (settlement.period, settlement.outcomes, settlement.outcomes_met) == (
        "Q2", [None, True], True)  # fmt: skip
    page = client.get(f"{url}{settlement.pk}/").content.decode()
    assert "Actual spend in the period: £260,000.00" in page and "Outcomes only" not in page
    assert "All-or-nothing outcome payment</dt>" in page and "Outcome measures met" in page
    # A form opened before the change sends one answer for all: it still counts.
    svc.settlement_withdraw(actor=people["lead"], settlement=settlement)
    old_form = client.post(url, {"period": "Q3", "measure-1": "250000", "outcomes_met": "yes"})
    assert old_form.status_code == 302
    assert Settlement.objects.get(period="Q3").outcomes == [None, True]


def test_each_outcome_linked_mechanism_is_answered_for_itself(world, plan_round, people):
    """Worked by hand: a pool (budget £1,000,000, ZA1 60%, ZA2 40%), an all-or-nothing
    payment (2% of ZA1's £5,000,000, paid by ZA2) that met its measures, and a blended
    payment (ZA1 from ZA2, plan 100 units at £2,000, 20% variable, a £30,000 outcome element)
    that missed them. At plan spend and activity only the outcome element is lost: ZA1
    −£30,000, ZA2 +£30,000."""
    from tests.payments.conftest import AON

    blended = {"kind": "blended", "params": {
        "provider": "ZA1", "commissioner": "ZA2", "fixed": "500000", "plan": "100",
        "price": "2000", "variable_rate": "20", "outcome_amount": "30000"}}  # fmt: skip
    agreement = agreement_create(actor=people["lead"], plan_round=plan_round, system=world.s1,
                                 name="Three", partners=["ZA1", "ZA2"],
                                 mechanisms=[POOL, AON, blended])  # fmt: skip
    for actor, organisation in (
        (people["approver"], world.org_a),
        (people["partner"], world.org_b),
    ):
        agreement_sign(actor=actor, agreement=agreement, organisation=organisation,
                       version_number=1)  # fmt: skip
    with pytest.raises(ValidationError, match="Mechanism 3 \\(Blended payment\\): say"):
        svc.settlement_enter(actor=people["lead"], agreement=agreement, period="year",
                             measures=["1000000", "", "100"], outcomes=[None, True, None])  # fmt: skip
    with pytest.raises(ValidationError, match="not both"):
        svc.settlement_enter(actor=people["lead"], agreement=agreement, period="year",
                             measures=["1000000", "", "100"], outcomes=[None, True, False],
                             outcomes_met=True)  # fmt: skip
    entered = svc.settlement_enter(actor=people["lead"], agreement=agreement, period="year",
                                   measures=["1000000", "", "100"],
                                   outcomes=[True, True, False])  # fmt: skip
    assert entered.outcomes == [None, True, False] and entered.outcomes_met is False
    settled = svc.compute(entered.pk)
    assert settled.flows == {"ZA1": "-30000.00", "ZA2": "30000.00"}
    event = AuditEvent.objects.filter(action="settlement.entered").latest("id")
    assert event.after["outcomes"] == [None, True, False]


def test_a_quarter_the_phasing_gives_nothing_is_not_settled(world, plan_round, people):
    agreement = _agreed_pool(world, plan_round, people, ["40", "30", "30", "0"])
    with pytest.raises(ValidationError, match="gives Q4 none of the year"):
        svc.settlement_enter(actor=people["lead"], agreement=agreement, period="Q4",
                             measures=["10000"], outcomes_met=True)  # fmt: skip


def test_inputs_the_rules_cannot_settle_are_shown_not_retried(people, agreed):
    settlement = svc.settlement_enter(actor=people["lead"], agreement=agreed, period="year",
                                      measures=["1100000", ""], outcomes_met=True)  # fmt: skip
    Settlement.objects.filter(pk=settlement.pk).update(measures=[None, None])  # no actual spend
    settlement = svc.compute(settlement.pk)
    assert settlement.flows is None and settlement.computed_at is not None
    assert "needs the actual spend" in settlement.workings[0]["steps"][0]
    with pytest.raises(ValidationError, match="could not be worked out"):
        svc.settlement_propose(actor=people["lead"], settlement=settlement)


def test_a_year_s_figure_given_for_a_quarter_is_questioned_before_it_is_entered(people, agreed):
    # The pool's budget is £1,000,000 a year, so Q1's plan is £250,000: £1,100,000 is more
    # than twice that.
    with pytest.raises(svc.UnusualActuals) as refused:
        svc.settlement_enter(actor=people["lead"], agreement=agreed, period="Q1",
                             measures=["1100000", ""], outcomes_met=True)  # fmt: skip
    assert refused.value.problems == [{
        "cell": "Mechanism 1 (Risk/reward pool)", "value": "1100000.00",
        "problem": "the actual spend is more than twice the plan for Q1, £250,000.00",
    }]  # fmt: skip
    assert not Settlement.objects.exists()
    with pytest.raises(svc.UnusualActuals):  # under half is questioned too
        svc.settlement_enter(actor=people["lead"], agreement=agreed, period="year",
                             measures=["400000", ""], outcomes_met=True)  # fmt: skip
    confirmed = svc.settlement_enter(actor=people["lead"], agreement=agreed, period="Q1",
                                     measures=["1100000", ""], outcomes_met=True,
                                     confirm_unusual=True)  # fmt: skip
    assert confirmed.measures == ["1100000.00", None]
    with pytest.raises(ProblemList) as finer:  # money goes no finer than a penny
        svc.settlement_enter(actor=people["lead"], agreement=agreed, period="year",
                             measures=["1000000.001", ""], outcomes_met=True)  # fmt: skip
    assert "no finer than a penny" in finer.value.problems[0]["problem"]


def test_the_page_asks_to_confirm_unusual_actuals(people, agreed, client_for):
    plan_round, system = agreed.round, agreed.system
    url = f"/rounds/{plan_round.slug}/systems/{system.code}/agreements/{agreed.pk}/settlements/"
    client = client_for(people["lead"])
    form = {"period": "Q1", "measure-1": "1100000", "outcomes-2": "yes"}
    refused = client.post(url, form)
    assert refused.status_code == 422
    body = refused.content.decode()
    assert "more than twice the plan for Q1" in body and 'name="confirm_unusual"' in body
    shown = html.unescape(re.search(r'name="confirmed_for" value="([^"]*)"', body).group(1))
    # Ticked, but for a figure changed since it was questioned (£1,200,000): asked again.
    changed = client.post(url, form | {"measure-1": "1200000", "confirm_unusual": "yes",
                                       "confirmed_for": shown})  # fmt: skip
    assert changed.status_code == 422 and not Settlement.objects.exists()
    again = changed.content.decode()
    assert "more than twice the plan for Q1" in again and 'value="1200000"' in again
    # Ticked for the figures shown: entered.
    confirmed = {"confirm_unusual": "yes", "confirmed_for": shown}
    assert client.post(url, form | confirmed).status_code == 302
    assert Settlement.objects.get().period == "Q1"


def test_terms_from_before_the_payer_are_given_one_and_unbuildable_terms_never_crash(
    people, agreed, world
):
    import importlib

    from django.apps import apps

    from payments.models import AgreementVersion

    version = AgreementVersion.objects.get(agreement=agreed, status="agreed")
    mechanisms = version.mechanisms
    mechanisms[1]["params"].pop("payer")  # the all-or-nothing payment, as stored before
    AgreementVersion.objects.filter(pk=version.pk).update(mechanisms=mechanisms)
    # Until named, entering says why rather than failing, and the worker records it.
    with pytest.raises(ValidationError, match="cannot be settled as they stand"):
        _entered(people, agreed)
    migration = importlib.import_module("payments.migrations.0011_all_or_nothing_payer")
    migration.name_payers(apps, None)
    version.refresh_from_db()
    assert version.mechanisms[1]["params"]["payer"] == "ZA2"  # the partner not paid
    assert _entered(people, agreed).flows is not None


def test_settlements_from_before_each_mechanism_had_its_own_answer_keep_theirs():
    """Migration 0012 gives each outcome-linked mechanism the one answer the settlement was
    entered with, reading an outcome element as the rules do (thousands separators too)."""
    import importlib

    migration = importlib.import_module("payments.migrations.0012_settlement_outcomes_by_mechanism")
    assert migration._linked({"kind": "blended", "params": {"outcome_amount": "1,000"}})
    assert not migration._linked({"kind": "blended", "params": {"outcome_amount": ""}})
    assert migration._linked({"kind": "all_or_nothing", "params": {}})
    assert not migration._linked({"kind": "risk_pool", "params": {"budget": "1"}})


def test_money_moves_to_pounds_and_pence_and_back(people, agreed):
    """Migration 0014 restates each agreement's money parameters, spend actuals and
    settlement flows from £000 in pounds and pence (and back): here a settled agreement,
    taken back to how it was stored before, then forwards again, twice (the second time
    changes nothing)."""
    import importlib

    from django.apps import apps

    from payments.models import AgreementVersion

    migration = importlib.import_module("payments.migrations.0014_money_in_pounds_and_pence")
    settlement = _entered(people, agreed, spend="1,100,000")
    version = AgreementVersion.objects.get(agreement=agreed)
    terms, measures, flows = version.mechanisms, settlement.measures, settlement.flows
    assert terms[0]["params"]["budget"] == "1000000.00" and terms[0]["money"] == "gbp"
    assert measures == ["1100000.00", None]  # spend at one scale, whatever was typed

    migration.backwards(apps, None)
    version.refresh_from_db()
    settlement.refresh_from_db()
    assert version.mechanisms[0]["params"]["budget"] == "1000.00000"
    assert version.mechanisms[1]["params"]["contract_values"] == {"ZA1": "5000.00000"}
    assert version.mechanisms[0]["params"]["shares"] == {"ZA1": "60", "ZA2": "40"}
    assert "money" not in version.mechanisms[0]
    assert settlement.measures == ["1100.00000", None]
    assert settlement.flows == {"ZA1": "-60.00000", "ZA2": "-40.00000"}

    migration.forwards(apps, None)
    migration.forwards(apps, None)  # run again: nothing is converted twice
    version.refresh_from_db()
    settlement.refresh_from_db()
    assert (version.mechanisms, settlement.measures, settlement.flows) == (terms, measures, flows)
    assert migration._scaled("lots", Decimal(1000)) == "lots"
