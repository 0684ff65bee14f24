"""Risk-share mechanisms on the wire: one schema per kind (its parameters named, with their
units), and the named figures a mechanism's terms give, each name ending in its unit."""

from __future__ import annotations

from decimal import Decimal

from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers

from payments.calculations.mechanisms import FIELDS, FIGURE_LABELS, KINDS

_UNITS = {"_gbp": "pounds and pence, two places", "_percent": "a percentage, two places",
          "_people": "people"}  # fmt: skip


def _unit_of(name: str) -> str:
    return next(text for end, text in _UNITS.items() if name.endswith(end))


def figure_strings(figures: dict[str, Decimal | None]) -> dict[str, str]:
    """A mechanism's named figures on the wire, those it gives only: fixed places by unit
    (the name's ending)."""
    return {
        name: format(value.normalize(), "f") if name.endswith("_people") else format(value, ".2f")
        for name, value in figures.items()
        if value is not None
    }


class _Figures(serializers.Serializer):
    """Only the figures given: a figure a mechanism does not give (a target nobody set, a
    spend before there is one) is left out, not sent as null."""

    def to_representation(self, instance):
        return {
            name: value
            for name, value in super().to_representation(instance).items()
            if name in instance
        }


FiguresSerializer = type(
    "FiguresSerializer",
    (_Figures,),
    {
        name: serializers.CharField(required=False, help_text=f"{label}: {_unit_of(name)}.")
        for name, label in FIGURE_LABELS.items()
    },
)


# --- mechanisms: one schema per kind --------------------------------------------------------
# What a client sends and reads is checked by MechanismSerializer (the kind, and the
# parameters as an object) and then by the mechanism's own rules, which list every problem at
# once. The schema says more: each kind's parameters, named, with their units, from the same
# catalogue the pages' forms are drawn from.

_PARAM_HELP = {
    "number": "a number, as a string",
    "percent": "a percentage, as a string: 30 for 30%",
    "partner": "the ODS code of one of the agreement's partners",
    "shares": "{ODS code: percentage as a string}, adding up to 100",
    "amounts": "{ODS code: amount as a string}",
    "amounts_optional": "{ODS code: amount as a string}",
}


def _param_field(label: str, type_: str, hint: str) -> serializers.Field:
    optional = "optional" in hint or type_ == "amounts_optional"
    money = hint.startswith("£")
    said = f"in pounds and pence{hint[1:]}" if money else hint
    help_text = f"{label}{' (' + said + ')' if said else ''}: {_PARAM_HELP[type_]}"
    # Money is typed in pounds and pence, and goes no finer than a penny.
    help_text += ', to the penny at most (two places), e.g. "1250000.50".' if money else "."
    if type_ in ("shares", "amounts", "amounts_optional"):
        return serializers.DictField(
            child=serializers.CharField(), required=not optional, help_text=help_text
        )
    return serializers.CharField(
        required=not optional, allow_blank=optional, max_length=40, help_text=help_text
    )


def _kind_serializer(kind: str) -> type[serializers.Serializer]:
    name = "".join(part.title() for part in kind.split("_"))
    params = type(
        f"{name}Params",
        (serializers.Serializer,),
        {key: _param_field(label, type_, hint) for key, label, type_, hint in FIELDS[kind]},
    )
    return type(
        f"{name}Mechanism",
        (serializers.Serializer,),
        {
            "__doc__": f"{KINDS[kind]}: {FLOW_SIGNS}",
            "kind": serializers.ChoiceField(choices=[kind]),
            "params": params(),
        },
    )


FLOW_SIGNS = (
    "what it settles is, for each partner, received (+) or paid (−) against the plan; "
    "money no partner pays another is shown against a named party outside the agreement."
)


class MechanismSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=sorted(KINDS))
    params = serializers.DictField(
        help_text="The mechanism's parameters as typed: numbers as strings, percentages as "
        "30 for 30%, per-partner figures as {ODS code: value}."
    )


@extend_schema_field(
    PolymorphicProxySerializer(
        component_name="Mechanism",
        serializers={kind: _kind_serializer(kind) for kind in sorted(KINDS)},
        resource_type_field_name="kind",
    )
)
class MechanismField(serializers.Field):
    """A mechanism: read as MechanismSerializer reads it (the parameters' own rules follow in
    the service), documented as one schema per kind, told apart by `kind`."""

    def to_internal_value(self, data):
        mechanism = MechanismSerializer(data=data)
        mechanism.is_valid(raise_exception=True)
        return mechanism.validated_data

    def to_representation(self, value):
        return MechanismSerializer(value).data
