from django import forms

from webhooks.models import SUBSCRIBABLE


class EndpointForm(forms.Form):
    url = forms.CharField(
        label="Address",
        max_length=500,
        help_text="Where your finance system listens, starting https://. Openbook sends each "
        "event there with POST, signed; it does not follow redirects.",
    )
    description = forms.CharField(label="What it is for (optional)", max_length=200, required=False)
    events = forms.MultipleChoiceField(
        label="Events to send",
        choices=[(e.value, e.label) for e in SUBSCRIBABLE],
        error_messages={"required": "Choose at least one event to send."},
    )
    active = forms.BooleanField(label="On: send events to this address", required=False)
    revision = forms.IntegerField(required=False, widget=forms.HiddenInput)
