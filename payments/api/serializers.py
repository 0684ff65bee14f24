"""The payments API's serializers: what results, agreements and settlements look like on the
wire, and what a client may send."""

from __future__ import annotations

from rest_framework import serializers

from payments.calculations.mechanisms import KINDS
from payments.models import AgreementVersion
from payments.services import agreements


class ResultsSerializer(serializers.Serializer):
    computed_at = serializers.DateTimeField(allow_null=True)
    pending = serializers.BooleanField(help_text="A recalculation is queued or running.")
    inputs_hash = serializers.CharField(allow_blank=True)
    calculation_version = serializers.IntegerField(
        allow_null=True,
        help_text="The version of the calculations that worked these out; when it is older "
        "than the platform's, the worker works them out again.",
    )
    data = serializers.DictField(
        allow_null=True,
        help_text="Positions against control totals (planned and year to date) and the fund "
        "earned by quarter, each with its workings; money as strings, £000.",
    )


class MechanismSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=sorted(KINDS))
    params = serializers.DictField(
        help_text="The mechanism's parameters as typed: numbers as strings, percentages as "
        "30 for 30%, per-partner figures as {ODS code: value}."
    )


class AgreementInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=160)
    partners = serializers.ListField(child=serializers.CharField(max_length=10), max_length=50)
    mechanisms = MechanismSerializer(many=True)
    phasing = serializers.ListField(
        child=serializers.CharField(max_length=12),
        min_length=4,
        max_length=4,
        required=False,
        help_text="Each quarter's share of the year in %, adding up to 100 (default 25 each; "
        "on a change, the version's phasing is kept unless given).",
    )


class AgreementEditSerializer(AgreementInputSerializer):
    version = serializers.IntegerField(min_value=1, help_text="The version you are changing.")


class SignatureSerializer(serializers.Serializer):
    organisation = serializers.CharField()
    signed_by = serializers.EmailField()
    signed_at = serializers.DateTimeField()


class AgreementVersionSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    status = serializers.CharField()
    partners = serializers.ListField(child=serializers.CharField())
    mechanisms = MechanismSerializer(many=True)
    phasing = serializers.ListField(child=serializers.CharField())
    signatures = SignatureSerializer(many=True)
    agreed_at = serializers.DateTimeField(allow_null=True)


class AgreementSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    latest = AgreementVersionSerializer()
    in_force = serializers.IntegerField(allow_null=True, help_text="The agreed version number.")


class SignInputSerializer(serializers.Serializer):
    organisation = serializers.CharField(help_text="The ODS code you sign for.")
    version = serializers.IntegerField(min_value=1, help_text="The version you read.")


class WhatIfRowSerializer(serializers.Serializer):
    variance_percent = serializers.DecimalField(max_digits=6, decimal_places=1)
    outcomes_met = serializers.BooleanField()
    flows = serializers.DictField(
        child=serializers.CharField(),
        help_text="Partner (ODS code) → receives (+) or pays (−) against plan, £000.",
    )
    external = serializers.DictField(
        child=serializers.CharField(),
        help_text="Parties outside the agreement (a pool's result, spend against a budget) → "
        "amount, £000. With the partners' flows they sum to zero.",
    )


def _prefetched(obj, name: str) -> bool:
    return name in getattr(obj, "_prefetched_objects_cache", {})


def _signatures(version):
    if _prefetched(version, "signatures"):
        return version.signatures.all()
    return version.signatures.select_related("organisation", "signed_by")


def version_data(version) -> dict:
    return {
        "number": version.number,
        "status": version.status,
        "partners": sorted(o.ods_code for o in version.partners.all()),
        "mechanisms": version.mechanisms,
        "phasing": version.phasing or agreements.EVEN_PHASING,
        "signatures": [
            {
                "organisation": s.organisation.ods_code,
                "signed_by": s.signed_by.email,
                "signed_at": s.signed_at,
            }  # fmt: skip
            for s in _signatures(version)
        ],
        "agreed_at": version.agreed_at,
    }


def agreement_data(agreement) -> dict:
    """An agreement's latest version and the one in force (from the versions already fetched,
    for a list: selectors.agreements_listed)."""
    if _prefetched(agreement, "versions"):
        versions = list(agreement.versions.all())  # newest first
        latest = versions[0]
        agreed = next((v for v in versions if v.status == AgreementVersion.Status.AGREED), None)
    else:
        latest, agreed = agreements.current(agreement), agreements.in_force(agreement)
    return {
        "id": agreement.pk,
        "name": agreement.name,
        "latest": version_data(latest),
        "in_force": agreed.number if agreed else None,
    }


class SettlementInputSerializer(serializers.Serializer):
    period = serializers.ChoiceField(choices=["Q1", "Q2", "Q3", "Q4", "year"])
    measures = serializers.ListField(
        child=serializers.CharField(allow_blank=True, allow_null=True, max_length=40),
        max_length=12,
        help_text="Actual activity or spend for each mechanism, in order (blank for "
        "mechanisms that follow outcomes only).",
    )
    outcomes_met = serializers.BooleanField()


class SettlementSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    period = serializers.CharField()
    version = serializers.IntegerField(source="version.number")
    status = serializers.CharField()
    measures = serializers.ListField(child=serializers.CharField(allow_null=True))
    outcomes_met = serializers.BooleanField()
    flows = serializers.DictField(
        child=serializers.CharField(), allow_null=True,
        help_text="Partner (ODS code) → receives (+) or pays (−) against plan, £000.",
    )  # fmt: skip
    external = serializers.DictField(
        child=serializers.CharField(),
        help_text="Parties outside the agreement → amount, £000; with the flows, zero.",
    )
    workings = serializers.ListField(child=serializers.DictField(), allow_null=True)
    computed_at = serializers.DateTimeField(allow_null=True)
    calculation_version = serializers.IntegerField(
        help_text="The version of the calculations that worked the flows out."
    )
    decision_reason = serializers.CharField(allow_blank=True)


class RespondSerializer(serializers.Serializer):
    organisation = serializers.CharField()
    accepted = serializers.BooleanField()
    reason = serializers.CharField(allow_blank=True, required=False, default="")


class DecideSerializer(serializers.Serializer):
    uphold = serializers.BooleanField()
    reason = serializers.CharField()
