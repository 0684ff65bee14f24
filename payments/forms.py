"""What the money pages accept: every POST read through a form, so each field is checked the
same way (figures by the platform's one number reader) and a bad one is named, not guessed.
A form's errors are raised as the refusal a service would give (openbook/refusals.py)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from payments.calculations.mechanisms import FIELDS
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

    def __init__(self, *args, system, **kwargs):
        super().__init__(*args, **kwargs)
        self.system = system

    def clean_organisation(self):
        code = self.cleaned_data["organisation"].strip().upper()
        found = self.system.organisations.filter(ods_code=code).first()
        if found is None:
            raise ValidationError("Choose one of the system's partners.")
        return found


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


class _Repeated(forms.Widget):
    """A field posted once a row (organisation, amount, organisation, amount, …)."""

    def value_from_datadict(self, data, files, name):
        return data.getlist(name) if hasattr(data, "getlist") else data.get(name, [])


class _RepeatedField(forms.Field):
    widget = _Repeated
    longest = 40

    def to_python(self, value: Any) -> list[str]:
        found = [str(v).strip() for v in value or []]
        if any(len(v) > self.longest for v in found):
            raise ValidationError(f"Keep each to {self.longest} characters.")
        return found


PER_PARTNER = ("shares", "amounts", "amounts_optional")


def mechanism_blocks(post, organisations) -> list[dict]:
    """The mechanisms as typed in the agreement form: m1-kind, m1-<key>, m1-<key>-<ODS> for
    per-partner figures; ticked m1-remove drops one. Kept as typed: the service checks the
    terms, as it does for the API, and names each problem."""
    blocks = []
    n = 1
    while f"m{n}-kind" in post:
        kind = post.get(f"m{n}-kind", "")
        if post.get(f"m{n}-remove") != "yes" and kind in FIELDS:
            params: dict = {}
            for key, _label, kind_of_field, _hint in FIELDS[kind]:
                if kind_of_field in PER_PARTNER:
                    params[key] = {
                        o.ods_code: post[f"m{n}-{key}-{o.ods_code}"].strip()
                        for o in organisations
                        if post.get(f"m{n}-{key}-{o.ods_code}", "").strip()
                    }
                else:
                    params[key] = post.get(f"m{n}-{key}", "").strip()
            blocks.append({"kind": kind, "params": params})
        n += 1
    return blocks


class AgreementForm(forms.Form):
    """Drafting or changing an agreement. "Add" and "remove" redraw it from what was typed
    (`typed()`); "Save" hands the terms to the service, which checks them."""

    name = forms.CharField(label="Name", required=False, max_length=200)
    partners = _RepeatedField(label="Partners", required=False)

    def __init__(self, *args, organisations, latest_phasing: list[str] | None, **kwargs):
        super().__init__(*args, **kwargs)
        self.organisations = organisations
        self.latest_phasing = latest_phasing

    def typed(self) -> dict[str, Any]:
        post = self.data
        phasing: list[str] | None = [post.get(f"q{q}", "").strip() for q in (1, 2, 3, 4)]
        if not any(f"q{q}" in post for q in (1, 2, 3, 4)):  # a form without them: as it was
            phasing = self.latest_phasing
        version = post.get("version", "0")
        return {
            "name": post.get("name", ""),
            "partners": [p.strip() for p in post.getlist("partners")],
            "mechanisms": mechanism_blocks(post, self.organisations),
            "phasing": phasing,
            # An unreadable version is refused by the service as a different one.
            "version": int(version) if version.isascii() and version.isdigit() else -1,
        }

    def adding(self) -> str | None:
        """The kind of mechanism to add, for "Add"."""
        kind = self.data.get("new-kind", "")
        return kind if self.data.get("action") == "add" and kind in FIELDS else None

    def saving(self) -> bool:
        return self.data.get("action") == "save"

    def clean(self):
        return {**self.typed(), **super().clean()}


class AgreementSignForm(forms.Form):
    organisation = forms.ModelChoiceField(queryset=None, to_field_name="ods_code")
    confirmed = forms.BooleanField(required=False)
    version = forms.CharField(required=False)

    def __init__(self, *args, system, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = system.organisations.all()  # type: ignore[attr-defined]

    def clean_version(self) -> int:
        # Unreadable, it is refused by the service as a different version from the latest.
        version = self.cleaned_data["version"]
        return int(version) if version.isascii() and version.isdigit() else 0


class TransferProposalForm(forms.Form):
    """A transfer as typed: rows of organisation and amount (blank rows ignored), and why."""

    organisation = _RepeatedField(label="Organisation", required=False)
    amount = _RepeatedField(label="Amount", required=False)
    reason = forms.CharField(label="Reason", required=False, max_length=2000)

    def __init__(self, *args, system, **kwargs):
        super().__init__(*args, **kwargs)
        self.names = dict(system.organisations.values_list("ods_code", "name"))

    def typed(self) -> list[tuple[str, str]]:
        """The rows as typed, to show again when the proposal is refused."""
        return list(
            zip(self.data.getlist("organisation"), self.data.getlist("amount"), strict=False)
        )

    def clean(self):
        data = super().clean()
        moves, problems = [], []
        rows = zip(data.get("organisation", []), data.get("amount", []), strict=False)
        for n, (ods, raw) in enumerate(rows, start=1):
            if not (ods and raw):
                continue
            try:
                moves.append((ods, parse_value(raw)))
            except ValueProblem as exc:  # named as the page labels it: "Amount 2"
                problems.append(f"Amount {n} ({self.names.get(ods, ods)}): “{raw}” {exc}.")
        if problems:
            raise ValidationError(problems)
        data["moves"] = moves
        return data


class SettlementEntryForm(forms.Form):
    """A settlement's actuals: the period, a measure for each mechanism in force, and whether
    each outcome-linked mechanism met its outcomes. The service checks the figures."""

    period = forms.CharField(label="Period", required=False, max_length=20)

    def __init__(self, *args, count: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.count = count
        for n in range(1, count + 1):
            self.fields[f"measure-{n}"] = forms.CharField(
                label=f"Mechanism {n}'s actual", required=False, max_length=40
            )

    def clean(self):
        data = super().clean()
        post, numbers = self.data, range(1, self.count + 1)
        # A measure refused for its length is shown again as typed, beside the refusal.
        measures = {n: data.get(f"measure-{n}", post.get(f"measure-{n}", "")) for n in numbers}
        # Each outcome-linked mechanism's box: ticked, met; left clear, missed. (The service
        # ignores the answer of a mechanism not linked to outcomes.) A form opened before
        # mechanisms had a box each sends one ticked answer for all of them (cleared, it
        # sends nothing: all missed, as the boxes cleared say).
        one_for_all = True if post.get("outcomes_met") == "yes" else None
        outcomes = {n: one_for_all or post.get(f"outcomes-{n}") == "yes" for n in numbers}
        # The box confirms the figures it was shown with: change one and it is asked again.
        period = data.get("period", post.get("period", ""))
        asked = json.dumps([period, list(measures.values())])
        confirmed = post.get("confirm_unusual") == "yes" and post.get("confirmed_for") == asked
        return {
            "period": period,
            "measures": measures,
            "outcomes": outcomes,
            "one_for_all": one_for_all,
            "asked": asked,
            "confirmed": confirmed,
        }
