"""Planned position against control total: a worked example."""

from decimal import Decimal

from payments.calculations.positions import positions

D = Decimal


def test_positions_worked_example():
    # A plans +3 against +2 (meets by 1); B plans −11 against −10 (misses by 1);
    # C has no control total; the system plans −8 against −8 and meets it.
    rows, system = positions(
        {"A": D(2), "B": D(-10), "C": None}, {"A": D(3), "B": D(-11), "C": D(0)}
    )
    by = {p.organisation: p for p in rows}
    assert (by["A"].variance, by["A"].met) == (D(1), True)
    assert (by["B"].variance, by["B"].met) == (D(-1), False)
    assert (by["C"].variance, by["C"].met) == (None, None)
    assert (system.control_total, system.planned, system.variance, system.met) == (
        D(-8),
        D(-8),
        D(0),
        True,
    )


def test_no_plans_yet_means_no_position():
    rows, system = positions({"A": D(2)}, {})
    assert rows[0].planned is None and system.planned is None and system.met is None
