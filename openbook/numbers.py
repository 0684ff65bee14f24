"""One way to show a number, everywhere: pages, workings, chart tables, the Excel template and
the xlsx exports (as number formats). CSV exports stay raw and do not come through here. And
one way to read one (`parse`): the grid, uploads, CSV files, forms and the API all accept the
same grammar, so nothing typed is guessed at.

Finance teams read figures one way: thousands separated, negatives in brackets, a fixed number
of places for each unit (£000 to 0 in tables, WTE to 2, counts to 0, percentages as 12.5%),
right-aligned in tabular figures (the stylesheet's job). A person may ask for more places
(`more_places`); an input always shows exactly what is stored (`exact`).

Pure: no Django, no clock. Decimal in, text out.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

# Every figure is kept to three places: £000 to the pound, WTE to a thousandth.
THOUSANDTH = Decimal("0.001")


@dataclass(frozen=True)
class Unit:
    code: str
    label: str  # how a heading states it: "£000"
    places: int  # shown in tables by default
    detailed: int  # shown when a person asks for more: the precision figures are kept to
    prefix: str = ""  # in a sentence: "£"
    suffix: str = ""  # in a sentence: "k", "%", " WTE"
    in_cell: str = ""  # what a table cell carries after the figure: only "%"


GBP000 = Unit("gbp000", "£000", 0, 3, prefix="£", suffix="k")
# Money entered in pounds and pence (contract values, budgets, actual spend).
GBP = Unit("gbp", "£", 2, 2, prefix="£")
# A £000 figure restated in pounds: figures are kept to the pound, so there are no pence. Used
# where every step must add up exactly, as in the workings of a calculation.
POUNDS = Unit("pounds", "£", 0, 0, prefix="£")
WTE = Unit("wte", "WTE", 2, 3, suffix=" WTE")
COUNT = Unit("count", "count", 0, 3)
PERCENT = Unit("percent", "%", 1, 3, suffix="%", in_cell="%")

UNITS = {unit.code: unit for unit in (GBP000, GBP, POUNDS, WTE, COUNT, PERCENT)}

_more_places: ContextVar[bool] = ContextVar("openbook_more_places", default=False)


def unit_for(unit: Unit | str | None) -> Unit:
    """A unit from its code ("gbp000", "wte", ...); £000 when none is given."""
    if isinstance(unit, Unit):
        return unit
    if not unit:
        return GBP000
    try:
        return UNITS[unit]
    except KeyError:
        raise ValueError(f"there is no unit {unit!r}") from None


@contextmanager
def more_places(on: bool = True) -> Iterator[None]:
    """Within this block (a request, for a person who asked), figures show every place kept."""
    token = _more_places.set(on)
    try:
        yield
    finally:
        _more_places.reset(token)


def showing_more_places() -> bool:
    return _more_places.get()


def _decimal(value: object) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, float):
        value = repr(value)
    try:
        number = Decimal(value)  # type: ignore[arg-type]
    except (InvalidOperation, TypeError, ValueError):
        raise ValueError(f"{value!r} is not a number") from None
    if not number.is_finite():
        raise ValueError(f"{value!r} is not a number")
    return number


def _digits(number: Decimal, places: int) -> tuple[bool, str]:
    """(negative, "1,234.50") for a number rounded half up to `places`."""
    rounded = number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    negative = rounded < 0  # a figure that rounds to zero is shown as 0, not (0)
    return negative, f"{abs(rounded):,.{places}f}"


def places_for(unit: Unit | str | None, places: int | None = None) -> int:
    if places is not None:
        return places
    u = unit_for(unit)
    return u.detailed if _more_places.get() else u.places


def figure(value: object, unit: Unit | str | None = None, places: int | None = None) -> str:
    """A figure as a table cell shows it: "1,235", "(1,235)", "3.25", "12.5%". Blank for none."""
    number = _decimal(value)
    if number is None:
        return ""
    u = unit_for(unit)
    negative, digits = _digits(number, places_for(u, places))
    return f"({digits}{u.in_cell})" if negative else f"{digits}{u.in_cell}"


def amount(value: object, unit: Unit | str | None = None, places: int | None = None) -> str:
    """A figure in a sentence, with its unit: "£1,235k", "(£1,235k)", "£1,000,000.01",
    "3.25 WTE", "12.5%"."""
    number = _decimal(value)
    if number is None:
        return ""
    u = unit_for(unit)
    negative, digits = _digits(number, places_for(u, places))
    text = f"{u.prefix}{digits}{u.suffix}"
    return f"({text})" if negative else text


def pounds(value_000: object) -> str:
    """A £000 figure in pounds, exactly (figures are kept to the pound): "£1,062,500"."""
    number = _decimal(value_000)
    if number is None:
        return ""
    return amount(number * 1000, POUNDS)


def exact(value: object) -> str:
    """What an input shows: every place that is stored and no more, thousands separated,
    negatives in brackets: "36,612.894", "(223.8)", "1,250". The parser reads it back."""
    number = _decimal(value)
    if number is None:
        return ""
    number = number.normalize()
    if number == number.to_integral_value():
        number = number.quantize(Decimal(1))
    places = max(0, -number.as_tuple().exponent)  # type: ignore[operator]
    digits = f"{abs(number):,.{places}f}"
    return f"({digits})" if number < 0 else digits


def excel_format(unit: Unit | str | None = None, places: int | None = None) -> str:
    """The same as an Excel number format: separators, negatives in brackets (with the
    positive side padded by a bracket's width so the digits line up), the unit's places."""
    u = unit_for(unit)
    count = u.places if places is None else places
    body = "#,##0" + ("." + "0" * count if count else "")
    suffix = '"%"' if u.in_cell else ""  # the figure is already a percentage, not a fraction
    return f"{body}{suffix}_);({body}{suffix})"


# --- reading a figure ---------------------------------------------------------------------------

# ASCII digits only (a full-width or Arabic-Indic digit is not read as one); commas only
# between groups of three, before any decimal point; at most one point; a minus or brackets for
# a negative. Nothing else: no exponent, no underscores, no spaces inside, no "+", no NaN.
_FIGURE = re.compile(r"(?:[1-9][0-9]{0,2}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?|\.[0-9]+")
GRAMMAR = (
    "use the digits 0 to 9, commas only between thousands (1,234.5), at most one decimal "
    "point, and a minus sign or brackets for a negative"
)


def _why(text: str) -> str:
    """Why the text is not a figure: plain words where it is not one at all, the rule it broke
    where it nearly is."""
    if any(c.isdigit() and c not in "0123456789" for c in text):
        return "is not a number: type the digits 0 to 9"
    if not any(c in "0123456789" for c in text):
        return "is not a number"
    if re.fullmatch(r"[0-9,]+(?:\.[0-9]+)?", text):
        return "is not a number: commas go only between thousands, as in 1,234.5"
    return f"is not a number: {GRAMMAR}"


class NotAFigure(ValueError):
    """What was typed is not a figure, and why, in words a finance team can act on."""


def parse(raw: str) -> Decimal | None:
    """A figure as people type one ("1,234.5", "-12", "(1,234)", ".5"), or None for blank.
    Anything else raises NotAFigure saying what is wrong: "12,34" is not 1234."""
    text = raw.strip()
    if not text:
        return None
    negative = False
    if text.startswith("(") and text.endswith(")"):
        text, negative = text[1:-1].strip(), True
    elif text[0] in "-\u2212":  # a minus, or the minus sign pages print
        text, negative = text[1:].lstrip(), True
    if not _FIGURE.fullmatch(text):
        raise NotAFigure(_why(text))
    number = Decimal(text.replace(",", ""))
    return -number if negative else number


def whole(text: object, digits: int = 18) -> int | None:
    """A count or an id as typed ("12"): ASCII digits only, at most `digits` of them; None
    for anything else ("²", "١٢", "1.5", "-1", a number too long to be an id)."""
    if not isinstance(text, str):
        return None
    text = text.strip()
    if not (0 < len(text) <= digits and text.isascii() and text.isdigit()):
        return None
    return int(text)
