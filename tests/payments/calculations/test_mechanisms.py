"""Risk-share mechanisms against hand-worked examples, and their properties.

The examples are worked in £000, as the mechanisms work; people type money in pounds and
pence, so `build` here types each example's money as they would (×1000) through the real
catalogue, which divides it back."""

from decimal import Decimal, InvalidOperation

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payments.calculations.mechanisms import (
    FIELDS,
    PERIOD_FRACTIONS,
    Outcome,
    ParameterProblems,
    outcomes_for,
    settle_all,
    what_if,
)
from payments.calculations.mechanisms import build as build_typed

D = Decimal
PARTNERS = ["P1", "P2", "C1"]


def _pounds(value):
    try:
        return format((Decimal(str(value)) * 1000).normalize(), "f")
    except InvalidOperation:
        return value  # not a number: the reader says so, as typed


def build(kind, params, partners):
    """A mechanism from an example's parameters in £000, typed as people type them: money in
    pounds and pence."""
    money = {key for key, _label, _type, hint in FIELDS.get(kind, []) if hint.startswith("£")}
    typed = {
        key: ({o: _pounds(v) for o, v in value.items()} if isinstance(value, dict)
              else _pounds(value)) if key in money else value
        for key, value in params.items()
    }  # fmt: skip
    return build_typed(kind, typed, partners)


def test_a_30_percent_marginal_rate_over_a_baseline():
    m = build("marginal_rate", {"provider": "P1", "commissioner": "C1", "baseline": "1000",
                                "price": "2", "rate": "30"}, PARTNERS)  # fmt: skip
    assert m.settle(Outcome(D(1100))).flows == {"P1": D(60), "C1": D(-60)}  # 100 × 2 × 30%
    assert m.settle(Outcome(D(900))).flows == {"P1": D(-200), "C1": D(200)}  # full price below


def test_a_20_percent_variable_element_either_side_of_plan():
    m = build("blended", {"provider": "P1", "commissioner": "C1", "fixed": "5000",
                          "plan": "1000", "price": "1.5", "variable_rate": "20",
                          "outcome_amount": "50"}, PARTNERS)  # fmt: skip
    assert m.settle(Outcome(D(1100))).flows["P1"] == D(30)  # 100 × 1.5 × 20%
    assert m.settle(Outcome(D(900))).flows["P1"] == D(-30)
    assert m.settle(Outcome(D(1000), met=False)).flows["P1"] == D(-50)


def test_pool_shares_sum_exactly_to_the_pool_result():
    m = build("risk_pool", {"budget": "10000", "shares": {"P1": "50", "P2": "30", "C1": "20"}},
              PARTNERS)  # fmt: skip
    assert m.settle(Outcome(D(9000))).flows == {"P1": D(500), "P2": D(300), "C1": D(200)}
    thirds = build("risk_pool", {"budget": "100", "shares": {"P1": "33.33", "P2": "33.33",
                                                             "C1": "33.34"}}, PARTNERS)  # fmt: skip
    flows = thirds.settle(Outcome(D("99.99999"))).flows
    assert sum(flows.values()) == D("0.00001")


def test_a_capped_partner_passes_the_rest_to_the_others():
    m = build("risk_pool", {"budget": "1000", "shares": {"P1": "50", "P2": "50"},
                            "caps": {"P1": "100"}}, PARTNERS)  # fmt: skip
    assert m.settle(Outcome(D(1400))).flows == {"P1": D(-100), "P2": D(-300)}


def test_all_or_nothing_pays_every_provider_or_none_and_the_payer_keeps_it():
    m = build("all_or_nothing", {"percent": "1.8", "payer": "C1",
                                 "contract_values": {"P1": "100000", "P2": "50000"}},
              PARTNERS)  # fmt: skip
    assert m.settle(Outcome(D(0), met=True)).flows == {"P1": D(0), "P2": D(0), "C1": D(0)}
    # Missed: 1.8% of £100,000k and £50,000k withheld, and the commissioner keeps £2,700k.
    missed = m.settle(Outcome(D(0), met=False))
    assert missed.flows == {"P1": D(-1800), "P2": D(-900), "C1": D(2700)}
    assert missed.external == {}
    assert "C1 keeps £2,700,000.00" in missed.workings[-1]


def test_all_or_nothing_names_a_payer_that_is_not_paid():
    with pytest.raises(ParameterProblems) as exc:
        build("all_or_nothing", {"percent": "1", "contract_values": {"P1": "10"}}, PARTNERS)
    assert "Choose the payer." in exc.value.problems
    with pytest.raises(ParameterProblems) as exc:
        build("all_or_nothing", {"percent": "1", "payer": "P1",
                                 "contract_values": {"P1": "10"}}, PARTNERS)  # fmt: skip
    assert any("cannot also be paid" in p for p in exc.value.problems)


def test_capitation_distance_from_target_as_a_percentage():
    # The 2013/14 example: allocation £219.3m against a target of £237.3m. From these rounded
    # figures it is 7.59% below (the published 7.58% used the unrounded ones).
    m = build("capitation", {"provider": "P1", "commissioner": "C1", "baseline": "219300",
                             "inflation": "0", "growth": "0", "efficiency": "0",
                             "target": "237300"}, PARTNERS)  # fmt: skip
    assert m.distance_from_target == D("-7.59")
    grown = build("capitation", {"provider": "P1", "commissioner": "C1", "baseline": "100000",
                                 "inflation": "2", "growth": "1", "efficiency": "1.1",
                                 "shifts": "-500"}, PARTNERS)  # fmt: skip
    assert grown.budget == D("101386.78")  # 100000 × 1.02 × 1.01 × 0.989 − 500


def test_capitation_gives_its_populations_per_head_figures_and_distance_as_fields():
    """Worked by hand: a baseline of £100m grown by 2% inflation and 1% growth, less 1.1%
    efficiency, is a budget of £101,886,780 (100,000 × 1.02 × 1.01 × 0.989, in £000). Against
    a weighted target of £98m that is (101,886,780 − 98,000,000) ÷ 98,000,000 = 3.966…%,
    3.97% above. For 250,000 registered people it is £407.55 a head (407.547…); for 270,000
    weighted, £377.36 (377.358…), against a target of £362.96 (362.962…). Spending £101m is
    £404.00 a head and £374.07 a weighted head (374.074…)."""
    m = build("capitation", {"provider": "P1", "commissioner": "C1", "baseline": "100000",
                             "inflation": "2", "growth": "1", "efficiency": "1.1",
                             "target": "98000", "population": "250000",
                             "weighted_population": "270000"}, PARTNERS)  # fmt: skip
    assert m.figures() == {
        "budget_gbp": D("101886780.00"), "target_gbp": D("98000000.00"),
        "distance_from_target_percent": D("3.97"),
        "population_people": D(250000), "weighted_population_people": D(270000),
        "budget_per_head_gbp": D("407.55"), "budget_per_weighted_head_gbp": D("377.36"),
        "target_per_weighted_head_gbp": D("362.96"),
    }  # fmt: skip
    spent = m.figures(D(101000))
    assert (spent["spend_gbp"], spent["spend_per_head_gbp"],
            spent["spend_per_weighted_head_gbp"]) == (D("101000000.00"), D("404.00"),
                                                      D("374.07"))  # fmt: skip
    steps = m.settle(Outcome(D(101000))).workings
    assert steps[-2] == "Per head (250,000 people): budget £407.55, spend £404.00"
    assert steps[-1] == (
        "Per weighted head (270,000 people): budget £377.36, spend £374.07, target £362.96"
    )
    # Without populations or a target, those figures are not given, not zero.
    bare = build("capitation", {"provider": "P1", "commissioner": "C1", "baseline": "1000",
                                "inflation": "0", "growth": "0", "efficiency": "0"}, PARTNERS)  # fmt: skip
    assert bare.figures()["distance_from_target_percent"] is None
    assert bare.figures()["budget_per_head_gbp"] is None
    # A population must be more than nobody.
    with pytest.raises(ParameterProblems) as exc:
        build("capitation", {"provider": "P1", "commissioner": "C1", "baseline": "1000",
                             "inflation": "0", "growth": "0", "efficiency": "0",
                             "population": "0"}, PARTNERS)  # fmt: skip
    assert "The registered population must be more than zero." in exc.value.problems


def test_gain_share_and_pooled_budget():
    gain = build("gain_share", {"provider": "P1", "commissioner": "C1", "baseline": "1000",
                                "planned_spend": "1000", "provider_share": "50"},
                 PARTNERS)  # fmt: skip
    assert gain.settle(Outcome(D(800))).flows == {"P1": D(100), "C1": D(100)}
    pooled = build("pooled_budget", {"host": "C1", "contributions": {"C1": "600", "P1": "400"}},
                   PARTNERS)  # fmt: skip
    # An overspend of 2,000: P1's 40% (800) is capped at its 400; the host carries the rest.
    assert pooled.settle(Outcome(D(3000))).flows == {"C1": D(-1600), "P1": D(-400)}


def test_every_problem_with_the_parameters_is_listed():
    with pytest.raises(ParameterProblems) as exc:
        build("cap_and_collar", {"provider": "P1", "commissioner": "X9", "core": "-1",
                                 "plan": "100", "collar": "120", "cap": "110", "price": "a",
                                 "rate": "150"}, PARTNERS)  # fmt: skip
    assert set(exc.value.problems) >= {
        "Commissioner X9 is not a partner in this agreement.",
        "The core payment must be at least 0.",
        "The price a unit must be a number (found “a”).",
        "The marginal rate must be between 0% and 100%.",
        "The collar must be below the cap.",
    }
    with pytest.raises(ParameterProblems, match=r"must add up to 100% \(they add up to 90%\)"):
        build("risk_pool", {"budget": "10", "shares": {"P1": "60", "P2": "30"}}, PARTNERS)


# --- properties --------------------------------------------------------------------------------

whole_shares = st.lists(st.integers(min_value=1, max_value=97), min_size=3, max_size=3).filter(
    lambda xs: sum(xs) <= 100
)


@given(
    shares=whole_shares,
    budget=st.decimals(min_value=1, max_value=10**7, places=3),
    spend=st.decimals(min_value=0, max_value=2 * 10**7, places=3),
)
def test_pool_settlements_sum_exactly_to_the_pool_result(shares, budget, spend):
    a, b, _ = shares
    m = build("risk_pool", {"budget": str(budget),
                            "shares": {"P1": a, "P2": b, "C1": 100 - a - b}}, PARTNERS)  # fmt: skip
    assert sum(m.settle(Outcome(spend)).flows.values()) == budget - spend


@given(
    activity=st.decimals(min_value=0, max_value=10**6, places=2),
    rate=st.integers(min_value=0, max_value=100),
)
def test_cap_and_collar_bound_the_variable_payment(activity, rate):
    m = build("cap_and_collar", {"provider": "P1", "commissioner": "C1", "core": "1000",
                                 "plan": "1000", "collar": "900", "cap": "1200", "price": "2",
                                 "rate": str(rate)}, PARTNERS)  # fmt: skip
    paid = m.settle(Outcome(activity)).flows["P1"]
    low, high = D(-100) * 2 * rate / 100, D(200) * 2 * rate / 100
    assert low <= paid <= high


mechanism_params = st.sampled_from([
    ("marginal_rate", {"provider": "P1", "commissioner": "C1", "baseline": "1000", "price": "2",
                       "rate": "30"}),
    ("blended", {"provider": "P1", "commissioner": "C1", "fixed": "10", "plan": "500",
                 "price": "3", "variable_rate": "20", "outcome_amount": "5"}),
    ("cap_and_collar", {"provider": "P1", "commissioner": "C1", "core": "1", "plan": "100",
                        "collar": "80", "cap": "120", "price": "1", "rate": "50"}),
    ("risk_pool", {"budget": "5000", "shares": {"P1": "70", "P2": "30"}}),
    ("all_or_nothing", {"percent": "1.8", "contract_values": {"P1": "1000", "P2": "20"},
                        "payer": "C1"}),
    ("gain_share", {"provider": "P1", "commissioner": "C1", "baseline": "900",
                    "planned_spend": "800", "provider_share": "40"}),
    ("capitation", {"provider": "P1", "commissioner": "C1", "baseline": "1000",
                    "inflation": "2", "growth": "1", "efficiency": "1"}),
    ("pooled_budget", {"host": "C1", "contributions": {"C1": "70", "P2": "30"}}),
])  # fmt: skip


@given(st.lists(mechanism_params, min_size=1, max_size=4))
def test_what_if_at_zero_variance_is_the_plan_position(chosen):
    mechanisms = [build(kind, params, PARTNERS) for kind, params in chosen]
    rows = what_if(mechanisms)
    at_plan = next(r for r in rows if r.variance == 0 and r.met)
    assert all(v == 0 for v in at_plan.flows.values())
    assert len(rows) == 18  # −20% … +20% in fives, met and not


@pytest.mark.parametrize(
    ("kind", "params", "problem"),
    [
        ("risk_pool", {"budget": "NaN", "shares": {"P1": "100"}}, "The pool budget must be a number"),
        ("risk_pool", {"budget": "10", "shares": {"P1": "NaN"}}, "P1's must be a number"),
        ("risk_pool", {"budget": "10", "shares": "P1=100"}, "give a figure for each partner"),
        ("risk_pool", {"budget": "10", "shares": {"P1": "100"}, "caps": {"P1": "abc"}},
         "Caps: P1's must be a number"),
        ("risk_pool", {"budget": "1e25", "shares": {"P1": "100"}}, "must be under 100,000,000,000"),
        ("marginal_rate", {"provider": "P1", "commissioner": "P1", "baseline": "1", "price": "1",
                           "rate": "30"}, "must be different partners"),
    ],
)  # fmt: skip
def test_bad_parameters_are_problems_not_crashes(kind, params, problem):
    with pytest.raises(ParameterProblems) as exc:
        build(kind, params, PARTNERS)
    assert any(problem in p for p in exc.value.problems), exc.value.problems


BETWEEN_PARTNERS = {"marginal_rate", "blended", "cap_and_collar", "all_or_nothing"}


@given(
    st.lists(mechanism_params, min_size=1, max_size=4),
    st.decimals(min_value=-50, max_value=50, places=1),
    st.lists(st.booleans(), min_size=4, max_size=4),
    st.sampled_from(list(PERIOD_FRACTIONS)),
)
def test_every_settlement_sums_to_zero_with_its_named_outside_parties(chosen, swing, mets, period):
    """Money between partners nets to zero; what does not is a named party's outside the
    agreement (a pool's result, spend against a budget), never unaccounted for; whichever
    mechanisms met their outcome measures."""
    mechanisms = [build(kind, params, PARTNERS) for kind, params in chosen]
    measures = [m.plan_measure * (1 + swing / 100) for m in mechanisms]
    met = mets[: len(mechanisms)]
    settled = settle_all(mechanisms, measures, met, PERIOD_FRACTIONS[period])
    assert sum(settled.flows.values()) + sum(settled.external.values()) == 0
    for (kind, _), mechanism, measure, m_met in zip(chosen, mechanisms, measures, met, strict=True):
        one = mechanism.settle(Outcome(measure, m_met))
        assert sum(one.flows.values()) + sum(one.external.values()) == 0, kind
        if kind in BETWEEN_PARTNERS:
            assert sum(one.flows.values()) == 0 and not one.external, kind


@given(st.lists(mechanism_params, min_size=1, max_size=4))
def test_every_what_if_row_sums_to_zero_with_its_named_outside_parties(chosen):
    mechanisms = [build(kind, params, PARTNERS) for kind, params in chosen]
    for row in what_if(mechanisms):
        assert sum(row.flows.values()) + sum(row.external.values()) == 0


def test_a_pool_s_result_falls_to_the_pool_and_what_caps_leave_is_named():
    # Budget 1,000, spend 1,400: a 400 overspend; P1 (50%) is capped at 100, so P2 takes the
    # other 300 and nothing is left. With P2 capped at 250 as well, 50 is beyond every cap.
    pool = build("risk_pool", {"budget": "1000", "shares": {"P1": "50", "P2": "50"},
                               "caps": {"P1": "100"}}, PARTNERS)  # fmt: skip
    result = pool.settle(Outcome(D(1400)))
    assert result.external == {"The pool (budget less spend)": D(400)}
    both = build("risk_pool", {"budget": "1000", "shares": {"P1": "50", "P2": "50"},
                               "caps": {"P1": "100", "P2": "250"}}, PARTNERS)  # fmt: skip
    capped = both.settle(Outcome(D(1400)))
    assert capped.flows == {"P1": D(-100), "P2": D(-250)}
    assert capped.external == {"The pool (budget less spend)": D(400),
                               "Beyond every cap, not shared": D(-50)}  # fmt: skip


def test_capitation_and_gain_share_name_the_spend_they_settle():
    capitation = build("capitation", {"provider": "P1", "commissioner": "C1", "baseline": "1000",
                                      "inflation": "0", "growth": "0", "efficiency": "0"},
                       PARTNERS)  # fmt: skip
    over = capitation.settle(Outcome(D(1100)))  # 100 over the budget: the provider bears it
    assert over.flows == {"P1": D(-100), "C1": D(0)}
    assert over.external == {"Spend against the budget": D(100)}
    gain = build("gain_share", {"provider": "P1", "commissioner": "C1", "baseline": "900",
                                "planned_spend": "800", "provider_share": "40"}, PARTNERS)  # fmt: skip
    # Spend 700 saves 200 against the baseline, 100 more than planned: 40 to P1, 60 to C1.
    saved = gain.settle(Outcome(D(700)))
    assert saved.flows == {"P1": D(40), "C1": D(60)}
    assert saved.external == {"Spend saved against the plan": D(-100)}


def test_each_outcome_linked_mechanism_settles_on_its_own_answer():
    """Worked by hand: an all-or-nothing payment (2% of P1's £5,000k, paid by C1) whose
    measures were met, and a blended payment with a £50k outcome element whose measures were
    missed, at plan activity. Only the blended element is lost: P1 −50, C1 +50. The marginal
    rate between them is not linked to outcomes, and its answer is not asked."""
    aon = build("all_or_nothing", {"percent": "2", "payer": "C1",
                                   "contract_values": {"P1": "5000"}}, PARTNERS)  # fmt: skip
    rate = build("marginal_rate", {"provider": "P2", "commissioner": "C1", "baseline": "10",
                                   "price": "1", "rate": "50"}, PARTNERS)  # fmt: skip
    blended = build("blended", {"provider": "P1", "commissioner": "C1", "fixed": "500",
                                "plan": "100", "price": "2", "variable_rate": "20",
                                "outcome_amount": "50"}, PARTNERS)  # fmt: skip
    mechanisms = [aon, rate, blended]
    assert [m.outcome_linked for m in mechanisms] == [True, False, True]
    assert outcomes_for(mechanisms, [True, None, False]) == [True, None, False]
    settled = settle_all(mechanisms, [None, D(10), D(100)], [True, None, False])
    assert settled.flows == {"P1": D(-50), "P2": D(0), "C1": D(50)}
    assert settled.workings[0][-1] == "Outcome measures met: C1 pays every provider, as planned"
    assert "not earned" in settled.workings[2][-2]
    # The other way round: the all-or-nothing payment missed (P1 loses £100k to C1).
    other = settle_all(mechanisms, [None, D(10), D(100)], [False, None, True])
    assert other.flows == {"P1": D(-100), "P2": D(0), "C1": D(100)}
    # A linked mechanism without an answer is named; one answer still covers all.
    with pytest.raises(ValueError, match="Mechanism 3 \\(Blended payment\\): say whether"):
        outcomes_for(mechanisms, [True, None, None])
    assert outcomes_for(mechanisms, False) == [False, None, False]
    # A blended payment with no outcome element is not linked to outcomes.
    plain = build("blended", {"provider": "P1", "commissioner": "C1", "fixed": "500",
                              "plan": "100", "price": "2", "variable_rate": "20"}, PARTNERS)  # fmt: skip
    assert not plain.outcome_linked


def test_amounts_go_no_finer_than_a_penny():
    """Money is typed in pounds and pence: £1,000,000.01 is accepted, and worked as
    1000.00001 in £000. A part of a penny is refused, for a single amount and for a
    partner's, each named as typed; activity (units) may have any places."""
    ok = build_typed("risk_pool", {"budget": "1,000,000.01",
                                   "shares": {"P1": "50", "P2": "50"}}, PARTNERS)  # fmt: skip
    assert ok.budget == D("1000.00001")
    with pytest.raises(ParameterProblems) as exc:
        build_typed("all_or_nothing", {"percent": "1", "payer": "C1",
                                       "contract_values": {"P1": "10000.001"}}, PARTNERS)  # fmt: skip
    assert exc.value.problems == [
        "Contract values: P1's is in pounds and pence and goes no finer than a penny, two "
        "decimal places (found “10000.001”)."
    ]
    with pytest.raises(ParameterProblems) as exc:
        build_typed("marginal_rate", {"provider": "P1", "commissioner": "C1", "baseline": "10.5",
                                      "price": "0.0001", "rate": "30"}, PARTNERS)  # fmt: skip
    assert exc.value.problems == [
        "The price a unit is in pounds and pence and goes no finer than a penny, two decimal "
        "places (found “0.0001”)."
    ]
