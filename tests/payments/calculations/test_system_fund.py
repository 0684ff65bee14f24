"""The system's fund, worked by hand: phased control totals, the system position, own and
system-tied parts, the discretionary release."""

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from payments.calculations.funds import FundRules
from payments.calculations.system_fund import phased_target, system_fund, system_positions

D = Decimal
RULES = FundRules()  # 50% tied to the system, 25% a quarter, no taper
CTS = {"A": D(2000), "B": D(-10000), "C": None}  # £000; C (a commissioner) has none


def test_control_totals_are_phased_evenly():
    assert phased_target(D(-10000), 3) == D("-2500.000")
    assert phased_target(D(1000), 1) == D("83.333")


def test_worked_example_quarter_by_quarter():
    ytd = {
        # Q1: A 600 against 500, B −2,400 against −2,500: both meet, the system too.
        # Q2: A 1,400 against 1,000; B −5,200 against −5,000 misses; the system −3,800 against
        #     −4,000 meets, so B's system-tied part is withheld unless released.
        "A": {3: D(600), 6: D(1400)},
        "B": {3: D(-2400), 6: D(-5200)},
    }
    orgs, system = system_fund(RULES, {"B": D(1000)}, CTS, ytd)
    assert [p.target for p in system[:2]] == [D(-2000), D(-4000)]
    assert system[2] is None and system[3] is None  # not yet reported
    (b,) = orgs
    q1, q2, q3, _ = b.quarters
    assert (q1.own_earned, q1.system_earned) == (D(125), D(125))
    assert (q2.own_earned, q2.system_earned) == (D(0), D(0))
    assert q3.earned == 0 and "Not yet reported" in q3.workings[-1]
    assert b.earned == D(250)

    released, _ = system_fund(RULES, {"B": D(1000)}, CTS, ytd, releases=[("B", 2)])
    assert released[0].quarters[1].system_earned == D(125)
    assert "released" in released[0].quarters[1].workings[-1]


def test_an_allocated_organisation_without_a_control_total_earns_nothing_yet():
    orgs, _ = system_fund(RULES, {"C": D(400)}, CTS, {"A": {3: D(0)}, "B": {3: D(0)}})
    assert orgs[0].earned == 0


def test_the_system_waits_for_every_partner_with_a_control_total():
    assert system_positions(CTS, {"A": {3: D(1)}})[0] is None


money = st.decimals(min_value=-50000, max_value=50000, places=3, allow_nan=False)


@given(
    allocation=st.decimals(min_value=0, max_value=100000, places=3),
    a=st.lists(money, min_size=4, max_size=4),
    b=st.lists(money, min_size=4, max_size=4),
    share=st.decimals(min_value=0, max_value=1, places=2),
)
def test_earned_never_exceeds_the_allocation(allocation, a, b, share):
    rules = FundRules(system_share=share, taper="linear", taper_zero_at=D(1000))
    ytd = {"A": dict(zip((3, 6, 9, 12), a, strict=True)),
           "B": dict(zip((3, 6, 9, 12), b, strict=True))}  # fmt: skip
    orgs, _ = system_fund(rules, {"A": allocation, "B": allocation}, CTS, ytd)
    for org in orgs:
        assert D(0) <= org.earned <= allocation
