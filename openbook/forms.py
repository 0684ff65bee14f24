"""Form rendering in the NHS.UK design system's classes."""

from django import forms

_CLASSES = {
    forms.TextInput: "nhsuk-input",
    forms.EmailInput: "nhsuk-input",
    forms.PasswordInput: "nhsuk-input",
    forms.NumberInput: "nhsuk-input",
    forms.DateInput: "nhsuk-input",
    forms.Textarea: "nhsuk-textarea",
    forms.Select: "nhsuk-select",
}


def nhsuk_widgets(form: forms.BaseForm) -> forms.BaseForm:
    """Give every widget its design-system class and link its hint and error for screen readers."""
    for name, field in form.fields.items():
        css = next((c for w, c in _CLASSES.items() if isinstance(field.widget, w)), None)
        if css:
            existing = field.widget.attrs.get("class", "")
            if form.errors.get(name):
                css += f" {css.split()[0]}--error"
            field.widget.attrs["class"] = f"{existing} {css}".strip()
        described = []
        if field.help_text:
            described.append(f"id_{name}-hint")
        if form.errors.get(name):
            described.append(f"id_{name}-error")
        if described:
            field.widget.attrs["aria-describedby"] = " ".join(described)
    return form
