"""Derived lines, totals, value checks and differences, worked by hand and by hypothesis."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plans import calculations
from plans.calculations import (
    LineSpec,
    ValueProblem,
    change_totals,
    check_value,
    derive,
    diff,
    parse_value,
    row_total,
)

D = Decimal
INCOME = LineSpec("F100", "Income", "gbp000")
PAY = LineSpec("F200", "Pay", "gbp000")
NONPAY = LineSpec("F300", "Non-pay", "gbp000")
COSTS = LineSpec("C", "Costs", "gbp000", formula=((1, "F200"), (1, "F300")))
SURPLUS = LineSpec("F900", "Surplus", "gbp000", sign="any", formula=((1, "F100"), (-1, "C")))
LINES = [INCOME, PAY, NONPAY, COSTS, SURPLUS]


def test_surplus_worked_example():
    # Income from two commissioners (ids 7 and 8) in April: 600 + 400; pay 700; non-pay 250.
    cells = {
        ("F100", 7, 1): D("600"),
        ("F100", 8, 1): D("400"),
        ("F200", None, 1): D("700"),
        ("F300", None, 1): D("250"),
        ("F200", None, 2): D("10"),
    }
    derived = derive(LINES, cells)
    assert derived[("C", 1)] == D("950")
    assert derived[("F900", 1)] == D("50")
    assert derived[("F900", 2)] == D("-10")
    assert derived[("F900", 12)] == D("0")


def test_a_formula_that_refers_to_itself_is_refused():
    loop = LineSpec("X", "Loop", "gbp000", formula=((1, "X"),))
    with pytest.raises(ValueError, match="refers to itself"):
        derive([loop], {})


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1,234.5", D("1234.500")),
        ("  -12 ", D("-12.000")),
        ("(250)", D("-250.000")),
        ("", None),
        (None, None),
        (7, D("7.000")),
        (0.1, D("0.100")),
    ],
)
def test_parse_value(raw, expected):
    assert parse_value(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [("twelve", "not a number"), ("1.2345", "three decimal places"), ("NaN", "not a number"),
     ("1e30", "not a number"), ("1" + "0" * 30, "too large"), (True, "not a number")],
)  # fmt: skip
def test_parse_value_problems(raw, message):
    with pytest.raises(ValueProblem, match=message):
        parse_value(raw)


@pytest.mark.parametrize(
    ("line", "value", "problem"),
    [
        (INCOME, D("-1"), "must be zero or more"),
        (LineSpec("N", "n", "gbp000", sign="negative"), D("1"), "must be zero or less"),
        (LineSpec("M", "m", "gbp000", maximum=D("100")), D("100.001"), "at most 100"),
        (LineSpec("P", "p", "percent", sign="any"), D("101"), "between 0 and 100"),
        (SURPLUS, D("1"), "worked out"),
        (INCOME, D("0"), None),
    ],
)
def test_check_value(line, value, problem):
    result = check_value(line, value)
    assert (result is None) if problem is None else (problem in result)


def test_row_totals_by_unit():
    months = {m: D(m) for m in range(1, 13)}
    assert row_total("gbp000", months) == D(78)
    assert row_total("count", months) == D(78)
    assert row_total("wte", months) == D(12)  # the year-end position
    assert row_total("percent", months) is None
    # A count of a stock at each month end (a waiting list) is its March position.
    assert row_total("count", months, "month_end") == D(12)


def test_diff_and_change_totals():
    before = {("F100", None, 1): D("5"), ("W1", None, 1): D("3")}
    after = {("F100", None, 1): D("7"), ("F100", None, 2): D("1"), ("W1", None, 1): D("3")}
    changes = diff(before, after)
    assert [c.key for c in changes] == [("F100", None, 1), ("F100", None, 2)]
    assert change_totals(changes, {"F100": "gbp000", "W1": "wte"}) == {"gbp000": D("3")}


money = st.decimals(
    min_value=-(10**9), max_value=10**9, places=3, allow_nan=False, allow_infinity=False
)


@given(
    st.dictionaries(
        st.tuples(st.sampled_from(["F100", "F200", "F300"]), st.none(), st.integers(1, 12)), money
    )
)
def test_surplus_is_income_less_costs_every_month(cells):
    derived = derive(LINES, cells)
    for month in range(1, 13):
        income = cells.get(("F100", None, month), D(0))
        costs = cells.get(("F200", None, month), D(0)) + cells.get(("F300", None, month), D(0))
        assert derived[("F900", month)] == income - costs


@given(
    st.dictionaries(st.tuples(st.sampled_from(["A", "B"]), st.none(), st.integers(1, 12)), money),
    st.dictionaries(st.tuples(st.sampled_from(["A", "B"]), st.none(), st.integers(1, 12)), money),
)
def test_diff_applied_to_before_gives_after(before, after):
    rebuilt = dict(before)
    for change in diff(before, after):
        if change.after is None:
            del rebuilt[change.key]
        else:
            rebuilt[change.key] = change.after
    assert rebuilt == after


def test_spreading_a_total_evenly():
    months = calculations.spread(Decimal("1000"))
    assert sum(months) == Decimal("1000")
    assert months.count(Decimal("83.334")) == 4 and months.count(Decimal("83.333")) == 8


def test_spreading_in_a_profile():
    profile = [Decimal(m) for m in range(1, 13)]  # 1..12, adding up to 78
    months = calculations.spread(Decimal("78"), profile)
    assert months == [Decimal(m).quantize(Decimal("0.001")) for m in range(1, 13)]


def test_a_profile_of_nothing_cannot_be_spread_by():
    with pytest.raises(calculations.ValueProblem, match="adds up to zero"):
        calculations.spread(Decimal("10"), [Decimal(0)] * 12)


@given(
    st.decimals(min_value=Decimal("-1e9"), max_value=Decimal("1e9"), places=3),
    st.lists(
        st.decimals(min_value=0, max_value=Decimal("1e6"), places=3), min_size=12, max_size=12
    ),
)
def test_a_spread_always_adds_up_to_exactly_the_total(total, profile):
    if sum(profile) == 0:
        profile = None
    months = calculations.spread(total, profile)
    assert len(months) == 12
    assert sum(months) == total
    assert all(m == m.quantize(Decimal("0.001")) for m in months)
