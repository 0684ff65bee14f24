"""The payments API's serializers: what results, agreements and settlements look like on the
wire, and what a client may send."""

from __future__ import annotations

from rest_framework import serializers

from payments.api.mechanisms import FiguresSerializer, MechanismField, figure_strings
from payments.calculations.mechanisms import ParameterProblems
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
        "earned by quarter, each with its workings; money as strings in £000, to three places "
        "at least (the pound). Each fund quarter names the return it was assessed on "
        "(`source`: return_month, version, year_to_date) and, where a later return restates "
        "it, `restated` (by: who, was, now, from which return; earned and effect); the "
        "assessed figure stands.",
    )


class AgreementInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=160)
    partners = serializers.ListField(child=serializers.CharField(max_length=10), max_length=50)
    mechanisms = serializers.ListField(child=MechanismField(), max_length=agreements.MAX_MECHANISMS)
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
    mechanisms = serializers.ListField(child=MechanismField(), max_length=agreements.MAX_MECHANISMS)
    phasing = serializers.ListField(child=serializers.CharField())
    figures = serializers.ListField(
        child=FiguresSerializer(),
        help_text="For each mechanism, in order, the figures its terms give (a capitation "
        "budget's distance from target, populations and figures per head); empty for a "
        "mechanism that gives none. Each name ends in its unit.",
    )
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
        help_text="Partner (ODS code) → receives (+) or pays (−) against plan, in pounds and "
        "pence: a string with two places.",
    )
    external = serializers.DictField(
        child=serializers.CharField(),
        help_text="Parties outside the agreement (a pool's result, spend against a budget) → "
        "amount, in pounds and pence (two places). With the partners' flows they sum to zero.",
    )
    figures = serializers.ListField(
        child=FiguresSerializer(),
        help_text="For each mechanism, in order, the figures at this row's activity or spend "
        "(a capitation budget's distance from target, spend per head and per weighted head).",
    )


def _prefetched(obj, name: str) -> bool:
    return name in getattr(obj, "_prefetched_objects_cache", {})


def _signatures(version):
    if _prefetched(version, "signatures"):
        return version.signatures.all()
    return version.signatures.select_related("organisation", "signed_by")


def _figures(version) -> list[dict[str, str | None]]:
    try:
        built = agreements.built_mechanisms(version)
    except ParameterProblems:  # terms saved before a rule tightened: nothing to work out
        return [{} for _ in version.mechanisms]
    return [figure_strings(m.figures()) for m in built]


def version_data(version) -> dict:
    return {
        "number": version.number,
        "status": version.status,
        "partners": sorted(o.ods_code for o in version.partners.all()),
        "mechanisms": version.mechanisms,
        "phasing": version.phasing or agreements.EVEN_PHASING,
        "figures": _figures(version),
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
        help_text="Actual activity (units) or spend (pounds and pence, to the penny) for each "
        "mechanism, in order, for the period chosen (blank for mechanisms that follow "
        "outcomes only).",
    )
    outcomes = serializers.ListField(
        child=serializers.BooleanField(allow_null=True),
        max_length=12,
        required=False,
        help_text="Whether each mechanism's outcome measures were met, in order: true or false "
        "for each mechanism linked to outcomes (an all-or-nothing payment, a blended payment "
        "with an outcome element), null for the rest. Give this or outcomes_met.",
    )
    outcomes_met = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="One answer for every mechanism linked to outcomes, instead of outcomes.",
    )
    confirm_unusual = serializers.BooleanField(
        default=False,
        help_text="An actual more than twice the period's phased plan, or under half of it, "
        "is refused (400, each named) unless this is true: for a quarter, give the quarter's "
        "figure, not the year's.",
    )


class SettlementSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    period = serializers.CharField()
    version = serializers.IntegerField(source="version.number")
    status = serializers.CharField()
    measures = serializers.ListField(
        child=serializers.CharField(allow_null=True),
        help_text="Each mechanism's actual for the period, in order: spend in pounds and pence "
        "(a string with two places), activity in units; null for one that follows outcomes "
        "only.",
    )
    outcomes = serializers.ListField(
        child=serializers.BooleanField(allow_null=True),
        help_text="Each mechanism's outcome measures met (true) or missed (false); null for a "
        "mechanism not linked to outcomes.",
    )
    outcomes_met = serializers.BooleanField(
        help_text="Whether every mechanism linked to outcomes met its measures."
    )
    flows = serializers.DictField(
        child=serializers.CharField(), allow_null=True,
        help_text="Partner (ODS code) → receives (+) or pays (−) against plan, in pounds and "
        "pence: a string with two places.",
    )  # fmt: skip
    external = serializers.DictField(
        child=serializers.CharField(),
        help_text="Parties outside the agreement → amount, in pounds and pence (two places); "
        "with the flows, zero.",
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


# --- control totals and transfers ------------------------------------------------------------

AMOUNT_HELP = "£000 as a decimal string to three places (a thousandth of £000 is £1)."


def amount_text(value) -> str | None:
    """One representation for an amount in £000: a string with three decimal places."""
    return None if value is None else f"{value:.3f}"


class ControlTotalRowSerializer(serializers.Serializer):
    ods_code = serializers.CharField()
    name = serializers.CharField()
    control_total = serializers.CharField(allow_null=True, help_text=AMOUNT_HELP)


class ControlTotalsSerializer(serializers.Serializer):
    organisations = ControlTotalRowSerializer(many=True)
    system_control_total = serializers.CharField(
        allow_null=True, help_text="The partners' control totals summed. " + AMOUNT_HELP
    )


class ControlTotalsInputSerializer(serializers.Serializer):
    control_totals = serializers.DictField(
        child=serializers.CharField(allow_blank=True, allow_null=True, max_length=40),
        help_text="ODS code → control total (£000; blank or null for none). All or nothing.",
    )


class ControlTotalsImportSerializer(serializers.Serializer):
    csv = serializers.CharField(
        max_length=200_000,
        help_text="The CSV text: a header row `organisation,control_total`, then a row a "
        "partner (blank for none). All or nothing; every problem named by row.",
    )


class TransferLineSerializer(serializers.Serializer):
    organisation = serializers.CharField(help_text="ODS code.")
    amount = serializers.CharField(
        help_text="+ to gain control total, − to give it. " + AMOUNT_HELP
    )


class TransferDecisionSerializer(serializers.Serializer):
    organisation = serializers.CharField(allow_null=True, help_text="ODS code; null: the lead.")
    agreed = serializers.BooleanField()
    reason = serializers.CharField(allow_blank=True)
    decided_by = serializers.EmailField()


class TransferSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    reason = serializers.CharField()
    proposed_by = serializers.EmailField()
    created_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    lines = TransferLineSerializer(many=True)
    decisions = TransferDecisionSerializer(many=True)
    waiting_on = serializers.ListField(
        child=serializers.CharField(), help_text="Parties still to decide (names)."
    )


class TransferInputSerializer(serializers.Serializer):
    lines = TransferLineSerializer(many=True, min_length=2, max_length=50)
    reason = serializers.CharField(max_length=2000)


class TransferDecideSerializer(serializers.Serializer):
    agreed = serializers.BooleanField()
    reason = serializers.CharField(allow_blank=True, required=False, max_length=2000)
    organisation = serializers.CharField(
        required=False, allow_null=True,
        help_text="The ODS code to decide for, if you approve for more than one party.",
    )  # fmt: skip


def transfer_data(transfer, waiting_on: list[str]) -> dict:
    return {
        "id": transfer.pk,
        "status": transfer.status,
        "reason": transfer.reason,
        "proposed_by": transfer.proposed_by.email,
        "created_at": transfer.created_at,
        "decided_at": transfer.decided_at,
        "lines": [
            {"organisation": line.organisation.ods_code, "amount": amount_text(line.amount)}
            for line in transfer.lines.all()
        ],
        "decisions": [
            {
                "organisation": d.organisation.ods_code if d.organisation else None,
                "agreed": d.agreed,
                "reason": d.reason,
                "decided_by": d.decided_by.email,
            }
            for d in transfer.decisions.all()
        ],
        "waiting_on": waiting_on,
    }


# --- the fund --------------------------------------------------------------------------------

PERCENT_HELP = "A percentage as a decimal string (50 is 50%), to two places."


def percent_text(fraction) -> str | None:
    """One representation for a share: the percentage to two places ("50.00")."""
    return None if fraction is None else f"{fraction * 100:.2f}"


class FundSerializer(serializers.Serializer):
    name = serializers.CharField()
    fund_system_share = serializers.CharField(help_text="The fund's own rule. " + PERCENT_HELP)
    system_share = serializers.CharField(
        help_text="What this system ties to its performance: the fund's share, or more if the "
        "system chose more. " + PERCENT_HELP
    )
    phasing = serializers.ListField(
        child=serializers.CharField(), help_text="Each quarter's share. " + PERCENT_HELP
    )
    taper = serializers.ChoiceField(choices=["none", "linear"])
    taper_zero_at = serializers.CharField(
        allow_null=True,
        help_text="The shortfall at which a linear taper pays nothing. " + AMOUNT_HELP,
    )
    allocations = serializers.DictField(
        child=serializers.CharField(), help_text="ODS code → indicative allocation. " + AMOUNT_HELP
    )


class FundRulesInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    system_share = serializers.CharField(max_length=20, help_text=PERCENT_HELP)
    phasing = serializers.ListField(
        child=serializers.CharField(max_length=20), min_length=4, max_length=4,
        help_text="Q1 to Q4. " + PERCENT_HELP,
    )  # fmt: skip
    taper = serializers.ChoiceField(choices=["none", "linear"])
    taper_zero_at = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, max_length=40, help_text=AMOUNT_HELP
    )


class FundShareInputSerializer(serializers.Serializer):
    system_share = serializers.CharField(max_length=20, help_text=PERCENT_HELP)


class AllocationsInputSerializer(serializers.Serializer):
    allocations = serializers.DictField(
        child=serializers.CharField(allow_blank=True, allow_null=True, max_length=40),
        help_text="ODS code → indicative allocation (blank or null: none). " + AMOUNT_HELP,
    )


class ReleaseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    organisation = serializers.CharField(help_text="ODS code.")
    quarter = serializers.IntegerField()
    reason = serializers.CharField()
    status = serializers.CharField()
    proposed_by = serializers.EmailField()
    proposed_at = serializers.DateTimeField()
    decided_by = serializers.EmailField(allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)
    decision_note = serializers.CharField(allow_blank=True)


class ReleaseInputSerializer(serializers.Serializer):
    organisation = serializers.CharField(max_length=20, help_text="ODS code.")
    quarter = serializers.IntegerField(min_value=1, max_value=4)
    reason = serializers.CharField(max_length=2000)


class ReleaseDecideSerializer(serializers.Serializer):
    agreed = serializers.BooleanField()
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


def release_data(release) -> dict:
    return {
        "id": release.pk,
        "organisation": release.organisation.ods_code,
        "quarter": release.quarter,
        "reason": release.reason,
        "status": release.status,
        "proposed_by": release.proposed_by.email,
        "proposed_at": release.proposed_at,
        "decided_by": release.decided_by.email if release.decided_by else None,
        "decided_at": release.decided_at,
        "decision_note": release.decision_note,
    }
