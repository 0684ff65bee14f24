"""Form rendering in the NHS.UK design system's classes."""

from django import forms
from django.core.exceptions import ValidationError

from openbook import numbers

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


class DateInputWidget(forms.MultiWidget):
    """The NHS.UK date input: day, month and year in three boxes (rendered by fields.html)."""

    nhs_date = True

    def __init__(self, attrs=None):
        widgets = [
            forms.TextInput({"inputmode": "numeric", "autocomplete": "off"}),
            forms.TextInput({"inputmode": "numeric", "autocomplete": "off"}),
            forms.TextInput({"inputmode": "numeric", "autocomplete": "off"}),
        ]
        super().__init__(widgets, attrs)

    def id_for_label(self, id_):
        # The error summary links to the day box (Django gives a multi-widget no label id).
        return f"{id_}_0" if id_ else ""

    def decompress(self, value):
        if value:
            return [value.day, value.month, value.year]
        return [None, None, None]


class DateInputField(forms.MultiValueField):
    """A date typed as day, month and year, with the design system's error messages: what is
    missing, or that it is not a real date."""

    widget = DateInputWidget

    def __init__(self, *, label: str, **kwargs):
        self.what = label[0].lower() + label[1:]
        # The parts are checked together in compress(), to say which is missing.
        fields = tuple(forms.CharField(required=False) for _ in range(3))
        kwargs.setdefault("error_messages", {"required": f"Enter the {self.what}"})
        super().__init__(fields, label=label, require_all_fields=False, **kwargs)

    def compress(self, data_list):
        import datetime as dt

        if not data_list or not any(data_list):
            return None
        day, month, year = (str(part or "").strip() for part in data_list)
        missing = [name for name, part in (("day", day), ("month", month), ("year", year))
                   if not part]  # fmt: skip
        if missing:
            raise forms.ValidationError(f"The {self.what} must include a {' and a '.join(missing)}")
        parts = [numbers.whole(part, digits=4) for part in (year, month, day)]
        try:
            if len(year) != 4 or None in parts:  # ASCII digits, no more than a year has
                raise ValueError
            return dt.date(*parts)  # type: ignore[arg-type]
        except ValueError:
            raise forms.ValidationError(f"The {self.what} must be a real date") from None


class DecisionNoteForm(forms.Form):
    """Accepting or approving: a note that is needed only when there is something to
    acknowledge (`concerns`, in words); then the person also confirms they have read it."""

    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}),
                           max_length=5000)  # fmt: skip

    def __init__(self, *args, concerns: str = "", label: str, help_text: str = "",
                 shown: str = "", **kwargs):  # fmt: skip
        super().__init__(*args, **kwargs)
        self.concerns = concerns
        # What the page showed (a version and its concerns): the template posts it back in a
        # hidden input, and a decision on something that has moved since is refused.
        self.shown = shown
        note = self.fields["note"]
        note.help_text = help_text
        if not concerns:
            note.label = "Note (optional)"
            return
        note.label = label
        note.required = True
        note.error_messages["required"] = f"Say why you are going ahead with {concerns}."
        self.fields["confirmed"] = forms.BooleanField(
            label=f"I have read the {concerns}.",
            error_messages={"required": f"Confirm you have read the {concerns}."},
        )

    def clean(self):
        posted = self.data.get("shown")
        if posted is not None and self.shown and posted != self.shown:
            raise ValidationError(
                "What you are deciding on has changed since you opened the page: a new "
                "version, or other plans in that change the mismatches. Read it again below."
            )
        return super().clean()
