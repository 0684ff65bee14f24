"""What the money pages accept: every POST read through a form, so each field is checked the
same way (figures by the platform's one number reader) and a bad one is named, not guessed.
A form's errors are raised as the refusal a service would give (openbook/refusals.py)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from plans.calculations import ValueProblem, parse_value

HUNDRED = Decimal(100)


class AmountField(forms.Field):
    """A figure as people type it (1,234.5 or (12) for −12), read by the one number reader."""

    def __init__(self, *, what: str, **kwargs):
        self.what = what
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> Decimal | None:
        try:
            return parse_value(value)
        except ValueProblem as exc:
            raise ValidationError(f"{self.what} {exc}.") from None

    def validate(self, value: Any) -> None:
        if value is None and self.required:
            raise ValidationError(f"Give {self.what[:1].lower()}{self.what[1:]}.")


class PercentField(AmountField):
    """A percentage typed as 50 or 50%, given as a fraction (0.5)."""

    def to_python(self, value: Any) -> Decimal | None:
        number = super().to_python(str(value or "").strip().removesuffix("%"))
        return None if number is None else number / HUNDRED


def cleaned(form: forms.Form) -> dict[str, Any]:
    """A bound form's data, or its errors raised as a refusal, each saying which field."""
    if form.is_valid():
        return form.cleaned_data
    messages = []
    for name, errors in form.errors.items():
        field = form.fields.get(name)
        for error in errors:
            already_named = isinstance(field, AmountField) or name == "__all__"
            messages.append(error if already_named else f"{field.label}: {error}")  # type: ignore[union-attr]
    raise ValidationError(messages)


class _Choice(forms.ChoiceField):
    def __init__(self, label: str, choices, **kwargs):
        errors = {"required": "Choose one.", "invalid_choice": "Choose one of those shown."}
        super().__init__(label=label, choices=choices, error_messages=errors, **kwargs)


class TransferDecisionForm(forms.Form):
    decision = _Choice("Your decision", [("agree", "Agree"), ("refuse", "Refuse")])
    reason = forms.CharField(label="Reason", required=False, max_length=2000)


class FundRulesForm(forms.Form):
    name = forms.CharField(label="Name", max_length=200)
    system_share = PercentField(what="The system share")
    q1 = PercentField(what="Quarter 1's share")
    q2 = PercentField(what="Quarter 2's share")
    q3 = PercentField(what="Quarter 3's share")
    q4 = PercentField(what="Quarter 4's share")
    taper = _Choice("Taper", [("none", "None"), ("linear", "Linear")], required=False)
    # Read only for a linear taper: what is left in the box with no taper is not a problem.
    taper_zero_at = forms.CharField(required=False, max_length=40)

    def clean(self):
        data = super().clean()
        data["taper"] = data.get("taper") or "none"
        if data["taper"] != "linear":
            data["taper_zero_at"] = None
            return data
        what = "The shortfall at which the taper reaches zero"
        data["taper_zero_at"] = AmountField(what=what).clean(data.get("taper_zero_at"))
        return data


class FundShareForm(forms.Form):
    system_share = PercentField(what="The system's share")


class ReleaseProposalForm(forms.Form):
    organisation = forms.ModelChoiceField(
        label="Organisation", queryset=None, to_field_name="ods_code",
        error_messages={"required": "Choose an organisation of the system.",
                        "invalid_choice": "Choose an organisation of the system."},
    )  # fmt: skip
    quarter = forms.TypedChoiceField(
        label="Quarter", coerce=int, choices=[(q, f"Q{q}") for q in (1, 2, 3, 4)],
        error_messages={"required": "Choose a quarter from 1 to 4.",
                        "invalid_choice": "Choose a quarter from 1 to 4."},
    )  # fmt: skip
    reason = forms.CharField(label="Reason", required=False, max_length=2000)

    def __init__(self, *args, system, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = system.organisations.all()  # type: ignore[attr-defined]


class ReleaseDecisionForm(forms.Form):
    decision = _Choice("Your decision", [("agree", "Agree"), ("refuse", "Refuse")])
    note = forms.CharField(label="Note", required=False, max_length=2000)


class SettlementAnswerForm(forms.Form):
    organisation = forms.CharField(label="Organisation", max_length=20)
    answer = _Choice("Your answer", [("accept", "Accept"), ("dispute", "Dispute")])
    reason = forms.CharField(label="Reason", required=False, max_length=2000)


class SettlementDecisionForm(forms.Form):
    decision = _Choice("Decision", [("uphold", "Uphold"), ("set_aside", "Set aside")])
    reason = forms.CharField(label="Reason", required=False, max_length=2000)


def per_organisation(post, prefix: str, organisations, what: str) -> dict[Any, Decimal | None]:
    """Figures posted one a partner (`<prefix><ODS code>`): each partner present, read by the
    one number reader; every problem named together."""
    found, problems = {}, []
    for organisation in organisations:
        name = f"{prefix}{organisation.ods_code}"
        if name not in post:
            continue
        try:
            found[organisation] = parse_value(post[name])
        except ValueProblem as exc:
            problems.append(f"{organisation.name}: “{post[name]}” {exc}.")
    if problems:
        raise ValidationError(problems)
    return found
