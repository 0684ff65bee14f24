"""The system's fund, worked by hand: phased control totals, the system position, own and
system-tied parts, the discretionary release."""

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from payments.calculations.funds import FundRules, QuarterPosition, fund_earned
from payments.calculations.system_fund import (
    phased_target,
    still_to_report,
    system_fund,
    system_positions,
)

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
    assert q3.earned == 0 and not q3.own_reported and not q3.system_reported
    assert q3.workings[1] == "Own: not yet reported for Q3; nothing earned from this part yet."
    assert q3.workings[2] == (
        "System: waiting for A, B to report Q3; nothing earned from this part yet."
    )
    assert b.earned == D(250)

    released, _ = system_fund(RULES, {"B": D(1000)}, CTS, ytd, releases=[("B", 2)])
    assert released[0].quarters[1].system_earned == D(125)
    assert "released" in released[0].quarters[1].workings[-1]


def test_an_allocated_organisation_without_a_control_total_earns_nothing_yet():
    orgs, _ = system_fund(RULES, {"C": D(400)}, CTS, {"A": {3: D(0)}, "B": {3: D(0)}})
    assert orgs[0].earned == 0


def test_the_system_waits_for_every_partner_with_a_control_total():
    assert system_positions(CTS, {"A": {3: D(1)}})[0] is None
    # C has no control total, so it is never waited for.
    assert still_to_report(CTS, {"A": {3: D(1)}}) == [("B",), ("A", "B"), ("A", "B"), ("A", "B")]


def test_the_own_part_is_earned_from_the_own_return_while_a_partner_has_not_reported():
    """Worked by hand: B (allocation £1,000,000, so £125,000 own and £125,000 system-tied a
    quarter) reports Q1 at −2,400 against −2,500: it meets its own. A has not reported, so
    the system's position is unknown: B earns its own £125,000 now, and the system-tied part
    waits for A, named."""
    orgs, system = system_fund(RULES, {"B": D(1000)}, CTS, {"B": {3: D(-2400)}})
    q1 = orgs[0].quarters[0]
    assert system[0] is None
    assert (q1.own_reported, q1.system_reported, q1.waiting_for) == (True, False, ("A",))
    assert (q1.own_earned, q1.system_earned) == (D(125), D(0))
    assert q1.workings[1] == (
        "Own: (£2,400,000) against (£2,500,000) year to date, shortfall £0; paid 100.00% of "
        "£125,000 = £125,000"
    )
    assert q1.workings[2] == (
        "System: waiting for A to report Q1; nothing earned from this part yet."
    )
    # Once A reports (600 against 500), the system (−1,800 against −2,000) meets: B earns the
    # system-tied part too, and its own part is what it was.
    orgs, _ = system_fund(RULES, {"B": D(1000)}, CTS, {"A": {3: D(600)}, "B": {3: D(-2400)}})
    q1_then = orgs[0].quarters[0]
    assert (q1_then.own_earned, q1_then.system_earned) == (D(125), D(125))


def test_the_system_part_waits_for_the_own_return_unless_released():
    """The system's Q1 is known (−1,800 against −2,000: met). C, allocated £1,000,000 but
    with no control total, has nothing to meet, so earns neither part, released or not. An
    organisation with a control total whose own Q1 is not in waits for it (the system-tied
    part is paid only to one that met its own), unless the lead released the quarter: then
    it earns its £125,000."""
    ytd = {"A": {3: D(600)}, "B": {3: D(-2400)}}
    cts = {"A": D(2000), "B": D(-10000), "C": None}
    orgs, _ = system_fund(RULES, {"C": D(1000)}, cts, ytd)
    q1 = orgs[0].quarters[0]
    assert q1.system_reported and q1.earned == 0
    assert q1.workings[1] == "Own: no control total to be held to, so this part is not paid."
    assert "this one has none" in q1.workings[-1]
    released, _ = system_fund(RULES, {"C": D(1000)}, cts, ytd, releases=[("C", 1)])
    assert released[0].quarters[0].earned == 0
    no_own = fund_earned(D(1000), RULES, [None] * 4,
                         [QuarterPosition(D(-2000), D(-1800))] + [None] * 3)  # fmt: skip
    assert no_own[0].system_earned == 0
    assert "waits for the organisation's own return" in no_own[0].workings[-1]
    lead_released = fund_earned(D(1000), RULES, [None] * 4,
                                [QuarterPosition(D(-2000), D(-1800))] + [None] * 3,
                                released=(True, False, False, False))  # fmt: skip
    assert lead_released[0].system_earned == D(125)
    assert "the lead released it" in lead_released[0].workings[-1]


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


@given(
    allocation=st.decimals(min_value=0, max_value=100000, places=3),
    b=st.lists(money, min_size=4, max_size=4),
    a=st.lists(st.one_of(st.none(), money), min_size=4, max_size=4),
)
def test_the_own_part_depends_only_on_the_own_return(allocation, b, a):
    """Whatever A reports, or leaves unreported, B's own-performance earnings are the same."""
    ytd_b = dict(zip((3, 6, 9, 12), b, strict=True))
    ytd_a = {m: v for m, v in zip((3, 6, 9, 12), a, strict=True) if v is not None}
    alone, _ = system_fund(RULES, {"B": allocation}, CTS, {"B": ytd_b})
    beside, _ = system_fund(RULES, {"B": allocation}, CTS, {"A": ytd_a, "B": ytd_b})
    assert [q.own_earned for q in alone[0].quarters] == [q.own_earned for q in beside[0].quarters]
    assert all(q.system_earned == 0 for q in alone[0].quarters)  # A never reported
