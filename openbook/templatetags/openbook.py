from decimal import Decimal

from django import template

from openbook import numbers
from openbook.forms import nhsuk_widgets
from openbook.months import MONTH_LABELS
from openbook.refusals import PROBLEM

register = template.Library()


@register.inclusion_tag("openbook/includes/fields.html")
def form_fields(form):
    """Render a form's fields in NHS.UK markup, errors and hints linked to their inputs."""
    return {"form": nhsuk_widgets(form)}


@register.inclusion_tag("openbook/includes/error_summary.html")
def error_summary(form):
    return {"form": form}


@register.inclusion_tag("openbook/includes/messages.html")
def page_messages(messages):
    """The messages for this page: a refusal as the NHS.UK error summary (its problems listed
    under it), anything else as a status line."""
    errors, problems, notices = [], [], []
    for message in messages:
        if message.level_tag == "error":
            (problems if PROBLEM in (message.extra_tags or "").split() else errors).append(message)
        else:
            notices.append(message)
    return {"errors": errors, "problems": problems, "notices": notices}


@register.filter
def figure(value, unit=None):
    """A figure in a table cell: `{{ v|figure }}` (£000), `{{ v|figure:"wte" }}`,
    `{{ v|figure:row.line.unit }}`. Separators, brackets, the unit's places. Anything that is
    not a number is shown as it is rather than failing the page."""
    try:
        return numbers.figure(value, unit)
    except ValueError:
        return value


@register.filter
def amount(value, unit=None):
    """A figure in a sentence, with its unit: `{{ v|amount }}` → £1,235k. A figure as someone
    typed it ("2,000,000") reads as the number it is; anything that is not a number is shown
    as it is rather than failing the page."""
    try:
        return numbers.amount(value.replace(",", "") if isinstance(value, str) else value, unit)
    except ValueError:
        return value


@register.filter
def exact(value):
    """An input's value: exactly what is stored, separators, brackets for negatives. What
    someone typed (text, refused) comes back exactly as they typed it, to be corrected."""
    if isinstance(value, str):
        return value
    return numbers.exact(value)


@register.filter
def share(value):
    """A fraction shown as a percentage: 0.5 → 50.0%."""
    if value is None or value == "":
        return ""
    return numbers.figure(Decimal(value) * 100, numbers.PERCENT)


@register.filter
def share_exact(value):
    """A fraction as the percentage an input holds, every place kept: 0.5 → 50, 0.125 → 12.5."""
    if value is None or value == "":
        return ""
    return numbers.exact(Decimal(value) * 100)


@register.filter
def in_pounds(value):
    """A £000 figure restated in pounds, for a table headed "£": 65.432 → 65,432."""
    if value is None or value == "":
        return ""
    return numbers.figure(Decimal(value) * 1000, numbers.POUNDS)


@register.filter
def unit_label(unit):
    """How a heading states a unit: gbp000 → £000."""
    return numbers.unit_for(unit).label


@register.filter
def date_parts(field):
    """A date input's three boxes: (what is in it, its label, its width)."""
    value = field.value()
    if not isinstance(value, list | tuple):
        value = field.field.widget.decompress(value)
    parts = list(value) + [None] * (3 - len(value))
    return list(zip(parts[:3], ("Day", "Month", "Year"), (2, 2, 4), strict=True))


@register.filter
def get_item(mapping, key):
    """mapping[key] in a template (None when absent)."""
    return mapping.get(key) if mapping else None


@register.filter
def month_label(month):
    """1 → Apr … 12 → Mar (the financial year's months)."""
    try:
        return MONTH_LABELS[int(month) - 1]
    except (TypeError, ValueError, IndexError):
        return ""
