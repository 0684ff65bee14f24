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
