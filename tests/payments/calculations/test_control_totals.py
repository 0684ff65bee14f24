"""Control totals and transfers: worked examples and properties."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payments.calculations.control_totals import (
    Move,
    TransferProblem,
    apply_transfer,
    system_control_total,
)

D = Decimal


def test_worked_example_from_the_issue():
    # £m: A +2, B −10, C +1, the commissioner 0 → SCT −7.
    cts = {"A": D(2), "B": D(-10), "C": D(1), "ICB": D(0)}
    assert system_control_total(cts) == D(-7)
    # A takes +2 (to +4), B −2 (to −12): the SCT stays at −7.
    after = apply_transfer([Move("A", D(2)), Move("B", D(-2))], cts)
    assert (after["A"], after["B"]) == (D(4), D(-12))
    assert system_control_total(after) == D(-7)


def test_organisations_without_a_control_total_are_left_out():
    assert system_control_total({"A": D(3), "S": None}) == D(3)
    assert system_control_total({"S": None}) is None


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([Move("A", D(1))], "at least two"),
        ([Move("A", D(1)), Move("B", D(-2))], "add up to -1"),
        ([Move("A", D(1)), Move("A", D(-1))], "more than once"),
        ([Move("A", D(1)), Move("X", D(-1))], "not a partner"),
        ([Move("A", D(1)), Move("S", D(-1))], "no control total"),
        ([Move("A", D(0)), Move("B", D(0))], "zero"),
    ],
)
def test_transfers_that_cannot_be_made(lines, message):
    with pytest.raises(TransferProblem, match=message):
        apply_transfer(lines, {"A": D(2), "B": D(-10), "S": None})


amounts = st.decimals(
    min_value=-(10**6), max_value=10**6, places=3, allow_nan=False, allow_infinity=False
)


@st.composite
def transfers(draw):
    cts = draw(st.dictionaries(st.sampled_from(list("ABCDEFG")), amounts, min_size=2))
    names = draw(st.lists(st.sampled_from(sorted(cts)), min_size=2, unique=True))
    moves = [draw(amounts.filter(lambda a: a != 0)) for _ in names[:-1]]
    last = -sum(moves, D(0))
    if last == 0:
        moves[0] += D(1)
        last -= D(1)
    return cts, [Move(n, a) for n, a in zip(names, [*moves, last], strict=True)]


@given(transfers())
def test_a_transfer_never_moves_the_system_control_total(case):
    cts, lines = case
    assert system_control_total(apply_transfer(lines, cts)) == system_control_total(cts)


@given(transfers(), amounts.filter(lambda a: a != 0))
def test_an_unbalanced_transfer_is_always_refused(case, extra):
    cts, lines = case
    lines = [Move(lines[0].organisation, lines[0].amount + extra), *lines[1:]]
    with pytest.raises(TransferProblem):
        apply_transfer(lines, cts)
