"""Fund earned by quarter: worked examples and hypothesis properties."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payments.calculations.apportion import apportion
from payments.calculations.funds import FundRules, QuarterPosition, fund_earned, paid_share

D = Decimal
MET = QuarterPosition(target=D(-100), actual=D(-100))


def test_everyone_meets_every_quarter_and_earns_it_all():
    quarters = fund_earned(D(1000), FundRules(), [MET] * 4, [MET] * 4)
    assert [q.allocation for q in quarters] == [D(250)] * 4
    assert [(q.own_earned, q.system_earned) for q in quarters] == [(D(125), D(125))] * 4
    assert sum(q.earned for q in quarters) == D(1000)
    assert "allocation £250,000" in quarters[0].workings[0]


def test_missing_its_own_control_total_loses_both_parts_without_taper():
    missed = QuarterPosition(target=D(-100), actual=D(-101))
    [q1, *_] = fund_earned(D(1000), FundRules(), [missed] * 4, [MET] * 4)
    assert (q1.own_earned, q1.system_earned) == (D(0), D(0))
    assert "withheld" in q1.workings[-1]


def test_the_lead_can_release_the_system_tied_part():
    missed = QuarterPosition(target=D(-100), actual=D(-101))
    [q1, *_] = fund_earned(
        D(1000), FundRules(), [missed] * 4, [MET] * 4, released=(True, False, False, False)
    )
    assert (q1.own_earned, q1.system_earned) == (D(0), D(125))


def test_linear_taper_worked_example():
    # Shortfall 25 against a taper that reaches zero at 100: 75% is paid.
    rules = FundRules(taper="linear", taper_zero_at=D(100))
    own = QuarterPosition(target=D(-100), actual=D(-125))
    [q1, *_] = fund_earned(D(1000), rules, [own] * 4, [MET] * 4, released=(True,) * 4)
    assert q1.own_earned == D("93.750")
    assert q1.system_earned == D(125)
    assert paid_share(D(200), rules) == 0


def test_a_system_that_misses_loses_the_tied_part_for_everyone():
    system_missed = QuarterPosition(target=D(-500), actual=D(-600))
    [q1, *_] = fund_earned(D(1000), FundRules(system_share=D(1)), [MET] * 4, [system_missed] * 4)
    assert (q1.own_part, q1.system_part, q1.earned) == (D(0), D(250), D(0))


def test_unreported_quarters_earn_nothing_yet():
    quarters = fund_earned(D(1000), FundRules(), [MET, None, None, None], [MET, None, None, None])
    assert [q.earned for q in quarters] == [D(250), D(0), D(0), D(0)]


@pytest.mark.parametrize(
    "rules",
    [FundRules(system_share=D("1.5")), FundRules(phasing=(D("0.5"), D("0.5"), D(0), D("0.1"))),
     FundRules(taper="linear"), FundRules(taper="steep")],
)  # fmt: skip
def test_rules_are_checked(rules):
    with pytest.raises(ValueError):
        fund_earned(D(1000), rules, [MET] * 4, [MET] * 4)


def test_apportion_adds_up_exactly():
    assert apportion(D("100.000"), [D(1), D(1), D(1)]) == [D("33.334"), D("33.333"), D("33.333")]


money = st.decimals(min_value=0, max_value=10**6, places=3, allow_nan=False, allow_infinity=False)
position = st.builds(
    QuarterPosition,
    target=st.decimals(min_value=-(10**5), max_value=10**5, places=3),
    actual=st.decimals(min_value=-(10**5), max_value=10**5, places=3),
)
rules = st.builds(
    FundRules,
    system_share=st.sampled_from([D(0), D("0.5"), D("0.75"), D(1)]),
    taper=st.sampled_from(["none", "linear"]),
    taper_zero_at=st.just(D(1000)),
)


@given(money, rules, st.lists(position, min_size=4, max_size=4), st.lists(position, min_size=4, max_size=4),
       st.lists(st.booleans(), min_size=4, max_size=4))  # fmt: skip
def test_paid_never_exceeds_the_allocation(allocation, fund_rules, own, system, released):
    quarters = fund_earned(allocation, fund_rules, own, system, released)
    assert sum(q.allocation for q in quarters) == allocation
    assert sum(q.earned for q in quarters) <= allocation
    for q in quarters:
        assert 0 <= q.own_earned <= q.own_part and 0 <= q.system_earned <= q.system_part


@given(money, rules)
def test_everyone_meeting_every_quarter_earns_exactly_the_allocation(allocation, fund_rules):
    assert (
        sum(q.earned for q in fund_earned(allocation, fund_rules, [MET] * 4, [MET] * 4))
        == allocation
    )


@given(
    money,
    rules,
    position,
    position,
    st.decimals(min_value=0, max_value=10**4, places=3),
    st.booleans(),
)
def test_a_better_outturn_never_earns_less(allocation, fund_rules, own, system, better, release):
    base = fund_earned(allocation, fund_rules, [own] * 4, [system] * 4, [release] * 4)
    improved_own = QuarterPosition(own.target, own.actual + better)
    improved_system = QuarterPosition(system.target, system.actual + better)
    for improved in (
        fund_earned(allocation, fund_rules, [improved_own] * 4, [system] * 4, [release] * 4),
        fund_earned(allocation, fund_rules, [own] * 4, [improved_system] * 4, [release] * 4),
    ):
        assert sum(q.earned for q in improved) >= sum(q.earned for q in base)
