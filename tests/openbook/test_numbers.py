"""The one number format: worked examples and properties."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openbook import numbers
from plans.calculations import parse_value


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [
        (Decimal("36612.894"), "gbp000", "36,613"),
        (Decimal("-223.808"), "gbp000", "(224)"),
        (Decimal("-8500.000"), "gbp000", "(8,500)"),
        (Decimal("0.4"), "gbp000", "0"),
        (Decimal("-0.4"), "gbp000", "0"),  # rounds to nothing: no "(0)"
        (Decimal("12.5"), "gbp000", "13"),  # half up, as finance teams round
        (Decimal("1234.5"), "wte", "1,234.50"),
        (Decimal("-3"), "count", "(3)"),
        (Decimal("12.5"), "percent", "12.5%"),
        (Decimal("-0.75"), "percent", "(0.8%)"),
        (Decimal("1000000.01"), "gbp", "1,000,000.01"),
        (None, "gbp000", ""),
    ],
)
def test_figures_in_tables(value, unit, shown):
    assert numbers.figure(value, unit) == shown


def test_a_person_may_ask_for_every_place_kept():
    with numbers.more_places():
        assert numbers.figure(Decimal("36612.894")) == "36,612.894"
        assert numbers.figure(Decimal("-1")) == "(1.000)"
        assert numbers.figure(Decimal("7.125"), "wte") == "7.125"
    assert numbers.figure(Decimal("36612.894")) == "36,613"


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [
        (Decimal("10372.552"), "gbp000", "£10,373k"),
        (Decimal("-10372.552"), "gbp000", "(£10,373k)"),
        (Decimal("1000000.01"), "gbp", "£1,000,000.01"),
        (Decimal("3.25"), "wte", "3.25 WTE"),
        (Decimal("12.5"), "percent", "12.5%"),
    ],
)
def test_amounts_in_sentences_state_their_unit(value, unit, shown):
    assert numbers.amount(value, unit) == shown


def test_pounds_restate_thousands_exactly():
    assert numbers.pounds(Decimal("1062.5")) == "£1,062,500"
    assert numbers.pounds(Decimal("-8500")) == "(£8,500,000)"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("36612.894"), "36,612.894"),
        (Decimal("1250.500"), "1,250.5"),
        (Decimal("-223.8"), "(223.8)"),
        (Decimal("5.000"), "5"),
        (Decimal("0"), "0"),
        (Decimal("1E+3"), "1,000"),
    ],
)
def test_an_input_shows_exactly_what_is_stored(value, shown):
    assert numbers.exact(value) == shown


@given(
    st.decimals(
        min_value=Decimal("-999999999999"),
        max_value=Decimal("999999999999"),
        places=3,
        allow_nan=False,
        allow_infinity=False,
    )
)
def test_what_an_input_shows_reads_back_as_the_same_figure(value):
    assert parse_value(numbers.exact(value)) == value


@given(st.decimals(min_value=Decimal("-1e9"), max_value=Decimal("1e9"), places=3))
def test_a_table_figure_is_the_value_rounded_to_its_places(value):
    shown = numbers.figure(value, "gbp000")
    assert parse_value(shown) == value.quantize(Decimal(1), rounding="ROUND_HALF_UP")


@pytest.mark.parametrize(
    ("unit", "fmt"),
    [
        ("gbp000", "#,##0_);(#,##0)"),
        ("wte", "#,##0.00_);(#,##0.00)"),
        ("count", "#,##0_);(#,##0)"),
        ("percent", '#,##0.0"%"_);(#,##0.0"%")'),
        ("gbp", "#,##0.00_);(#,##0.00)"),
    ],
)
def test_the_same_format_for_excel(unit, fmt):
    assert numbers.excel_format(unit) == fmt


def test_an_unknown_unit_is_a_mistake():
    with pytest.raises(ValueError, match="no unit"):
        numbers.figure(1, "furlongs")


# --- one grammar for every figure typed, uploaded or sent ----------------------------------


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("1,234.5", Decimal("1234.5")),
        ("1234.5", Decimal("1234.5")),
        ("1,234,567.891", Decimal("1234567.891")),
        ("(1,234)", Decimal(-1234)),
        ("-12", Decimal(-12)),
        ("\u221212", Decimal(-12)),  # the minus sign pages print
        (".5", Decimal("0.5")),
        ("  7  ", Decimal(7)),
        ("", None),
        ("   ", None),
    ],
)
def test_what_is_a_figure(typed, read):
    assert numbers.parse(typed) == read


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ("12,34", "commas go only between thousands"),  # was stored as 1234
        ("1,2345", "commas go only between thousands"),
        ("1,234,56.7", "commas go only between thousands"),
        ("\u0661\u0662\u0663", "type the digits 0 to 9"),  # Arabic-Indic
        ("\uff11\uff12\uff13", "type the digits 0 to 9"),  # full-width
        ("1_000", "commas only between thousands"),
        ("5e2", "commas only between thousands"),
        ("+5", "a minus sign or brackets"),
        ("1.2.3", "at most one decimal point"),
        ("1 000", "at most one decimal point"),
        ("(-5)", "a minus sign or brackets"),
        ("£5", "the digits 0 to 9"),
        ("NaN", "is not a number"),
        ("lots", "is not a number"),
    ],
)
def test_what_is_not_a_figure_is_refused_saying_why(typed, why):
    with pytest.raises(numbers.NotAFigure) as refused:
        numbers.parse(typed)
    assert str(refused.value).startswith("is not a number") and why in str(refused.value)


@given(
    st.decimals(min_value=Decimal("-1e12"), max_value=Decimal("1e12"), places=3,
                allow_nan=False, allow_infinity=False)
)  # fmt: skip
def test_any_figure_shown_reads_back_as_itself(value):
    """What the pages and inputs show (separators, brackets) parses back to the same number,
    and so does the plain form an API client sends."""
    assert numbers.parse(numbers.exact(value)) == value
    assert numbers.parse(format(value, "f")) == value
    assert parse_value(numbers.exact(value)) == value


@pytest.mark.parametrize("typed", ["12,34", "5e2", "1_000", "\uff11\uff12"])
def test_every_way_in_refuses_what_is_not_a_figure(typed):
    """Grid, uploads and CSV (parse_value), risk-share terms and settlements (the mechanisms'
    reader) and the phasing all use the same grammar."""
    from payments.calculations.mechanisms import ParameterProblems, build
    from plans.calculations import ValueProblem

    with pytest.raises(ValueProblem, match="is not a number"):
        parse_value(typed)
    with pytest.raises(ParameterProblems, match="The pool budget must be a number"):
        build("risk_pool", {"budget": typed, "shares": {"P1": "100"}}, ["P1"])
