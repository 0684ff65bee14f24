"""Risk-share agreements: drafting, checking, versions, signatures, what-if and the pages."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from openbook.errors import Conflict, ProblemList
from openbook.models import AuditEvent
from payments.models import AgreementVersion
from payments.services.agreements import agreement_create, agreement_edit, agreement_sign, in_force

POOL = {"kind": "risk_pool", "params": {"budget": "1000000", "shares": {"ZA1": "50", "ZA2": "50"}}}


@pytest.fixture
def approver_b(world):
    from accounts.models import Membership

    Membership.objects.filter(user=world.people["partner"]).update(role="org_approver")
    return world.people["partner"]


@pytest.fixture
def agreement(world, plan_round):
    return agreement_create(actor=world.people["lead"], plan_round=plan_round, system=world.s1,
                            name="Urgent care pool", partners=["ZA1", "ZA2"],
                            mechanisms=[POOL])  # fmt: skip


def test_the_terms_are_checked_whole(world, plan_round):
    bad = {"kind": "risk_pool", "params": {"budget": "x", "shares": {"ZA1": "60", "ZX1": "40"}}}
    with pytest.raises(ProblemList) as exc:
        agreement_create(actor=world.people["lead"], plan_round=plan_round, system=world.s1,
                         name="", partners=["ZA1", "ZX1"], mechanisms=[bad])  # fmt: skip
    problems = {(p["cell"], p["problem"]) for p in exc.value.problems}
    assert ("Name", "Give the agreement a name.") in problems
    assert ("Partners", "ZX1 is not a partner in System One.") in problems
    assert ("Mechanism 1 (Risk/reward pool)",
            "The partners' shares: ZX1 is not a partner in this agreement.") in problems  # fmt: skip
    assert ("Mechanism 1 (Risk/reward pool)",
            "The pool budget must be a number (found “x”).") in problems  # fmt: skip
    with pytest.raises(PermissionDenied):
        agreement_create(actor=world.people["approver"], plan_round=plan_round, system=world.s1,
                         name="Mine", partners=["ZA1", "ZA2"], mechanisms=[POOL])  # fmt: skip


def test_signatures_make_it_agreed_and_changes_need_them_again(world, agreement, approver_b):
    lead = world.people["lead"]
    v1 = agreement.versions.get()
    with pytest.raises(PermissionDenied):
        agreement_sign(actor=world.people["member"], agreement=agreement,
                       organisation=world.org_a, version_number=1)  # fmt: skip
    agreement_sign(actor=world.people["approver"], agreement=agreement,
                   organisation=world.org_a, version_number=1)  # fmt: skip
    # Signed by one: a change is version 2, and version 1 is superseded.
    v2 = agreement_edit(actor=lead, agreement=agreement, name="Urgent care pool",
                        partners=["ZA1", "ZA2"], mechanisms=[POOL], expected_version=1)  # fmt: skip
    assert v2.number == 2
    v1.refresh_from_db()
    assert v1.status == AgreementVersion.Status.SUPERSEDED
    with pytest.raises(Conflict):
        agreement_sign(actor=approver_b, agreement=agreement, organisation=world.org_b,
                       version_number=1)  # fmt: skip
    for person, org in ((world.people["approver"], world.org_a), (approver_b, world.org_b)):
        agreement_sign(actor=person, agreement=agreement, organisation=org, version_number=2)
    assert in_force(agreement).number == 2
    # Agreed: a change is version 3; version 2 stays in force until 3 is agreed.
    agreement_edit(actor=lead, agreement=agreement, name="Urgent care pool",
                   partners=["ZA1", "ZA2"], mechanisms=[POOL], expected_version=2)  # fmt: skip
    assert in_force(agreement).number == 2
    with pytest.raises(Conflict):
        agreement_edit(actor=lead, agreement=agreement, name="x", partners=["ZA1", "ZA2"],
                       mechanisms=[POOL], expected_version=2)  # fmt: skip
    actions = list(AuditEvent.objects.filter(object_type="payments.agreement")
                   .values_list("action", flat=True))  # fmt: skip
    assert actions.count("agreement.signed") == 3
    assert actions.count("agreement.agreed") == 1


def test_the_page_shows_the_what_if_and_lets_an_approver_sign(world, agreement, client_for):
    url = f"/rounds/{agreement.round.slug}/systems/s1/agreements/{agreement.pk}/"
    client = client_for(world.people["approver"])
    body = client.get(url).content.decode()
    assert "Sign version 1 for Alpha Hospitals NHS Trust" in body
    # Spend 20% over the £1,000,000 budget: a loss of £200,000, half each, in pounds and pence.
    row = '<th scope="row" class="nhsuk-table__cell">+20%</th>'
    assert row + '<td class="nhsuk-table__cell ob-num">(100,000.00)</td>' in body
    # The sign form states Alpha's exposure: 10% over the budget is a loss of £100,000, half
    # each.
    sign = body.split('id="sign-ZA1"', 1)[1].split("</form>", 1)[0]
    above = sign.split("at 10% above plan, £</dt>", 1)[1].split("</dd>", 1)[0]
    assert above.endswith(">(50,000.00)")
    # The terms say their units: the budget in pounds and pence.
    assert "£1,000,000.00" in body
    refused = client.post(url + "sign/", {"organisation": "ZA1", "version": "1"})
    assert refused.status_code == 422
    assert "Confirm you have read the terms" in refused.content.decode()
    assert not agreement.versions.get().signatures.exists()
    response = client.post(url + "sign/", {"organisation": "ZA1", "version": "1",
                                           "confirmed": "yes"})  # fmt: skip
    assert response.status_code == 302
    assert "Sign version" not in client.get(url).content.decode()


def test_the_form_adds_mechanisms_and_keeps_what_was_typed(world, plan_round, client_for):
    client = client_for(world.people["lead"])
    url = f"/rounds/{plan_round.slug}/systems/s1/agreements/new/"
    form = {"name": "Elective pool", "partners": ["ZA1", "ZA2"], "version": "0",
            "action": "add", "new-kind": "all_or_nothing"}  # fmt: skip
    body = client.post(url, form).content.decode()
    assert "1. All-or-nothing outcome payment" in body and 'value="Elective pool"' in body
    form |= {"action": "save", "m1-kind": "all_or_nothing", "m1-percent": "180", "m1-payer": "ZA2",
             "m1-contract_values-ZA1": "1000"}  # fmt: skip
    response = client.post(url, form)
    assert response.status_code == 422
    assert "The percentage of contract value must be between 0% and 100%." in (
        response.content.decode()
    )
    form |= {"m1-percent": "1.8", "q1": "20", "q2": "20", "q3": "30", "q4": "20"}
    body = client.post(url, form).content.decode()
    assert "The quarters add up to 90%; they must add up to 100%." in body
    assert 'name="q3" inputmode="decimal" value="30"' in body  # what was typed is kept
    form["q4"] = "30"
    assert client.post(url, form).status_code == 302
    assert AgreementVersion.objects.get().phasing == ["20", "20", "30", "30"]


def test_the_phasing_is_part_of_the_terms_and_kept_when_not_changed(world, agreement):
    lead = world.people["lead"]
    assert agreement.versions.get().phasing == ["25", "25", "25", "25"]
    v2 = agreement_edit(actor=lead, agreement=agreement, name="Urgent care pool",
                        partners=["ZA1", "ZA2"], mechanisms=[POOL], expected_version=1,
                        phasing=["10", "20", "30", "40"])  # fmt: skip
    v3 = agreement_edit(actor=lead, agreement=agreement, name="Urgent care pool",
                        partners=["ZA1", "ZA2"], mechanisms=[POOL], expected_version=2)  # fmt: skip
    assert v2.phasing == v3.phasing == ["10", "20", "30", "40"]
    change = AuditEvent.objects.filter(action="agreement.changed").order_by("id").first()
    assert change.before["phasing"] == ["25", "25", "25", "25"]
    assert change.after["phasing"] == ["10", "20", "30", "40"]


def test_every_change_is_a_new_version_so_a_signature_names_what_was_read(world, agreement):
    v2 = agreement_edit(actor=world.people["lead"], agreement=agreement, name="Urgent care pool",
                        partners=["ZA1", "ZA2"], mechanisms=[POOL], expected_version=1)  # fmt: skip
    assert v2.number == 2
    with pytest.raises(Conflict):  # read version 1, which changed before they signed
        agreement_sign(actor=world.people["approver"], agreement=agreement,
                       organisation=world.org_a, version_number=1)  # fmt: skip


def test_a_parameter_a_mechanism_does_not_take_is_refused_by_name(world, plan_round):
    """Anything in the terms is stored and signed: a key the mechanism does not read (a typo,
    or junk with a NUL the database cannot store) is refused, naming it."""
    from openbook.errors import ProblemList

    pool = {"kind": "risk_pool", "params": {"budget": "1000000", "bugdet": "1",
                                            "shares": {"ZA1": "50", "ZA2": "50"}}}  # fmt: skip
    with pytest.raises(ProblemList) as refused:
        agreement_create(actor=world.people["lead"], plan_round=plan_round, system=world.s1,
                         name="Pool", partners=["ZA1", "ZA2"], mechanisms=[pool])  # fmt: skip
    assert refused.value.problems[0]["problem"].startswith(
        "bugdet: not a parameter of this mechanism (it takes budget, caps, shares)"
    )
