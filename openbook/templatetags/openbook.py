from django import template

from openbook.forms import nhsuk_widgets

register = template.Library()


@register.inclusion_tag("openbook/includes/fields.html")
def form_fields(form):
    """Render a form's fields in NHS.UK markup, errors and hints linked to their inputs."""
    return {"form": nhsuk_widgets(form)}


@register.inclusion_tag("openbook/includes/error_summary.html")
def error_summary(form):
    return {"form": form}


@register.filter
def figure(value):
    """A plan figure as people read it: thousands separated, no trailing zeros (1,250.5)."""
    if value is None or value == "":
        return ""
    from decimal import Decimal

    number = Decimal(value).normalize()
    if number == number.to_integral_value():
        number = number.quantize(Decimal(1))
    return f"{number:,f}"


@register.filter
def get_item(mapping, key):
    """mapping[key] in a template (None when absent)."""
    return mapping.get(key) if mapping else None


@register.filter
def percent(value):
    """A share as a percentage without trailing zeros: 0.5 → 50, 0.3333 → 33.33."""
    if value is None or value == "":
        return ""
    from decimal import Decimal

    number = (Decimal(value) * 100).normalize()
    if number == number.to_integral_value():
        number = number.quantize(Decimal(1))
    return f"{number:f}"


@register.filter
def month_label(month):
    """1 → Apr … 12 → Mar (the financial year's months)."""
    from plans.models import MONTH_LABELS

    try:
        return MONTH_LABELS[int(month) - 1]
    except (TypeError, ValueError, IndexError):
        return ""
