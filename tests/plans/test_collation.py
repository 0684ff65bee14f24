"""System collation by hand-worked tables and hypothesis properties."""

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from plans.calculations import MONTHS, LineSpec
from plans.collation import OrgPlan, balances, consolidate, pay_per_wte, system_totals, totals_by

D = Decimal
SPECS = [
    LineSpec("F100", "Income from commissioners", "gbp000"),
    LineSpec("F200", "Pay", "gbp000"),
    LineSpec("F500", "Allocation", "gbp000"),
    LineSpec("F510", "Spend with providers", "gbp000"),
    LineSpec("F900", "Surplus", "gbp000", sign="any",
             formula=((1, "F100"), (-1, "F200"), (1, "F500"), (-1, "F510"))),
]  # fmt: skip
SURPLUS = SPECS[-1]


def yearly(**lines: Decimal) -> dict:
    """The same figure every month, as a year: F100=10 → 120."""
    return {code: value * 12 for code, value in lines.items()}


def system_monthly(*plans: "OrgPlan") -> dict:
    """What the database adds up: each line across the organisations, by month (even months)."""
    totals: dict = {}
    for plan in plans:
        for code, value in plan.annual.items():
            for m in MONTHS:
                totals[(code, m)] = totals.get((code, m), D(0)) + value / 12
    return totals


# A worked example (£000 a month): acute A earns 100 from the ICB and spends 95 on pay;
# community C earns 40 from the ICB, spends 41; the ICB gets 150 and plans to spend 100 with
# A and 42 with C (2 more than C expects).
A = OrgPlan("A", "Acute", "acute", yearly(F100=D(100), F200=D(95)), {("F100", "ICB"): D(1200)})
C = OrgPlan(
    "C", "Community", "community", yearly(F100=D(40), F200=D(41)), {("F100", "ICB"): D(480)}
)
ICB = OrgPlan("ICB", "ICB", "commissioner", yearly(F500=D(150), F510=D(142)),
              {("F510", "A"): D(1200), ("F510", "C"): D(504)})  # fmt: skip


def test_system_totals_worked_example():
    totals = system_totals(system_monthly(A, C, ICB), SPECS)
    assert totals[("F100", 1)] == D(140)
    # Surplus: A +5, C −1, ICB +8 → +12 a month.
    assert totals[("F900", 1)] == D(12)
    assert totals_by([A, C, ICB], "F900", SPECS, "ods_code") == {
        "A": D(60),
        "C": D(-12),
        "ICB": D(96),
    }
    assert totals_by([A, C, ICB], "F900", SPECS, "kind")["commissioner"] == D(96)


def test_eliminations_worked_example():
    result = consolidate(system_totals(system_monthly(A, C, ICB), SPECS), SURPLUS, "F100")
    # Income before: 100 + 40 + 150 = 290; eliminated: 140 (the providers' figures).
    assert result.eliminated[1] == D(140)
    assert result.income[1] == D(150)
    # Expenditure before: 95 + 41 + 142 = 278; after: 138 (the ICB's 2 extra stays in).
    assert result.expenditure[1] == D(138)
    assert result.surplus_before[1] == result.surplus_after[1] == D(12)


def test_balances_flag_pairs_above_the_threshold():
    pairs = balances([A, C, ICB], "F100", "F510", measure="income", threshold=D(3))
    by_pair = {(p.provider, p.commissioner): p for p in pairs}
    assert by_pair[("A", "ICB")].agreed and by_pair[("A", "ICB")].agreed_figure == D(1200)
    c = by_pair[("C", "ICB")]
    assert (c.difference, c.percent, c.flagged) == (D(-24), D("4.76"), True)
    assert c.agreed_figure is None


def test_a_pair_planned_on_one_side_only_is_flagged():
    """X's plan is in but has nothing with the ICB: a real mismatch."""
    lonely = OrgPlan("ICB", "ICB", "commissioner", {}, {("F510", "X"): D(5000)})
    x = OrgPlan("X", "X", "acute", {}, {})
    [pair] = balances([lonely, x], "F100", "F510", measure="income", threshold=D(3000))
    assert (pair.provider, pair.provider_figure, pair.flagged, pair.status) == (
        "X", D(0), True, "mismatch")  # fmt: skip


def test_a_pair_whose_other_side_has_no_plan_yet_is_awaiting_it_not_a_mismatch():
    lonely = OrgPlan("ICB", "ICB", "commissioner", {}, {("F510", "X"): D(5000)})
    [pair] = balances([lonely], "F100", "F510", measure="income", threshold=D(3000))
    assert (pair.awaiting, pair.flagged, pair.agreed, pair.agreed_figure) == ("X", False, False,
                                                                              None)  # fmt: skip
    assert pair.status_label == "Awaiting X's plan"


def test_activity_threshold_in_percent():
    p = OrgPlan("A", "A", "acute", {}, {("A1ELE", "ICB"): D(1000)})
    c = OrgPlan("ICB", "ICB", "commissioner", {}, {("A2ELE", "A"): D(960)})
    [pair] = balances([p, c], "A1ELE", "A2ELE", measure="elective", threshold_percent=D(5))
    assert pair.percent == D("4.00") and not pair.flagged


def test_pay_per_wte():
    plan = OrgPlan("A", "A", "acute", yearly(P1=D(50), W1=D(10), P2=D(1)))
    checks = pay_per_wte(
        plan, {"Medical": (["P1"], ["W1"]), "Nursing": (["P2"], ["W2"])}, D(20), D(150)
    )
    medical, nursing = checks
    assert (medical.per_wte, medical.flagged) == (D(60), False)  # 600 £000 / 10 WTE
    assert nursing.per_wte is None and nursing.flagged  # pay with no staff


money = st.decimals(min_value=0, max_value=10**7, places=3, allow_nan=False, allow_infinity=False)


@st.composite
def systems(draw):
    n_providers = draw(st.integers(1, 4))
    plans = []
    icb_spend = {}
    for i in range(n_providers):
        ods = f"P{i}"
        income = draw(money)
        plans.append(
            OrgPlan(
                ods,
                ods,
                "acute",
                yearly(F100=income, F200=draw(money)),
                {("F100", "ICB"): income * 12},
            )
        )
        icb_spend[("F510", ods)] = draw(money) * 12
    plans.append(OrgPlan("ICB", "ICB", "commissioner",
                         yearly(F500=draw(money), F510=sum(icb_spend.values(), D(0)) / 12), icb_spend))  # fmt: skip
    return plans


@given(systems())
def test_elimination_never_moves_the_system_surplus(plans):
    totals = system_totals(system_monthly(*plans), SPECS)
    result = consolidate(totals, SURPLUS, "F100")
    for m in MONTHS:
        assert result.surplus_after[m] == result.surplus_before[m] == totals[("F900", m)]


@given(systems())
def test_the_system_surplus_is_the_sum_of_each_organisations(plans):
    totals = system_totals(system_monthly(*plans), SPECS)
    by_organisation = sum(totals_by(plans, "F900", SPECS, "ods_code").values(), D(0))
    # system_monthly spreads each year evenly over the months, so allow for that rounding.
    assert abs(sum((totals[("F900", m)] for m in MONTHS), D(0)) - by_organisation) < D("0.0001")


@given(systems(), st.decimals(min_value=0, max_value=10**6, places=0))
def test_a_pair_is_flagged_exactly_when_its_difference_exceeds_the_threshold(plans, threshold):
    included = {plan.ods_code for plan in plans}
    for pair in balances(plans, "F100", "F510", measure="income", threshold=threshold):
        both_in = pair.provider in included and pair.commissioner in included
        assert (pair.awaiting is None) == both_in
        assert pair.flagged == (
            both_in and abs(pair.provider_figure - pair.commissioner_figure) > threshold
        )
