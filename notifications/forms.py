from django import forms

from notifications.models import Frequency, Kind


class PreferencesForm(forms.Form):
    """A choice of e-mail for each kind of notification."""

    def __init__(self, *args, initial_choices: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        for kind in Kind:
            self.fields[kind.value] = forms.ChoiceField(
                label=kind.label,
                choices=Frequency.choices,
                initial=initial_choices.get(kind.value, Frequency.IMMEDIATELY),
                widget=forms.RadioSelect,
            )
