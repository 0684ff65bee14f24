"""The money through the API: a system's control totals, positions and fund results as the
recalculation worker last stored them."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import policy
from accounts.models import Organisation
from accounts.selectors import system_get
from payments import agreements, recalc, selectors, settlements
from payments.calculations.mechanisms import KINDS
from plans import selectors as plan_selectors


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


class SystemResults(APIView):
    """What the recalculation last stored for the system (null data before its first run)."""

    @extend_schema(responses=ResultsSerializer)
    def get(self, request, slug, code):
        plan_round = plan_selectors.round_get(request.user, slug)
        system = system_get(request.user, code)
        result = selectors.result_for(request.user, plan_round, system)
        return Response(
            ResultsSerializer(
                {
                    "computed_at": result.computed_at if result else None,
                    "pending": recalc.is_pending(plan_round.pk, system.pk),
                    "inputs_hash": result.inputs_hash if result else "",
                    "calculation_version": result.calculation_version if result else None,
                    "data": result.data if result else None,
                }
            ).data
        )


# --- risk-share agreements ---------------------------------------------------------------------


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
    flows = serializers.DictField(child=serializers.CharField())


def _version_data(version) -> dict:
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
            for s in version.signatures.select_related("organisation", "signed_by")
        ],
        "agreed_at": version.agreed_at,
    }


def _agreement_data(agreement) -> dict:
    agreed = agreements.in_force(agreement)
    return {
        "id": agreement.pk,
        "name": agreement.name,
        "latest": _version_data(agreements.current(agreement)),
        "in_force": agreed.number if agreed else None,
    }


class _AgreementView(APIView):
    def place(self, request, slug, code):
        return plan_selectors.round_get(request.user, slug), system_get(request.user, code)

    def agreement(self, request, slug, code, pk):
        plan_round, system = self.place(request, slug, code)
        return selectors.agreement_get(request.user, plan_round, system, pk)


class AgreementList(_AgreementView):
    """A system's risk-share agreements; the system lead drafts one with POST."""

    @extend_schema(responses=AgreementSerializer(many=True))
    def get(self, request, slug, code):
        plan_round, system = self.place(request, slug, code)
        rows = selectors.agreements_for(request.user, plan_round, system)
        return Response([AgreementSerializer(_agreement_data(a)).data for a in rows])

    @extend_schema(request=AgreementInputSerializer, responses={201: AgreementSerializer})
    def post(self, request, slug, code):
        plan_round, system = self.place(request, slug, code)
        if not policy.can_draft_agreement(request.user, system):  # 403 before any 400
            raise PermissionDenied("Only the system lead drafts risk-share agreements.")
        incoming = AgreementInputSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        agreement = agreements.agreement_create(
            actor=request.user, plan_round=plan_round, system=system, **incoming.validated_data
        )
        return Response(AgreementSerializer(_agreement_data(agreement)).data, status=201)


class AgreementDetail(_AgreementView):
    """One agreement; PUT changes the terms (a new version if anyone has signed)."""

    @extend_schema(responses=AgreementSerializer)
    def get(self, request, slug, code, pk):
        agreement = self.agreement(request, slug, code, pk)
        return Response(AgreementSerializer(_agreement_data(agreement)).data)

    @extend_schema(request=AgreementEditSerializer, responses=AgreementSerializer)
    def put(self, request, slug, code, pk):
        agreement = self.agreement(request, slug, code, pk)
        if not policy.can_draft_agreement(request.user, agreement.system):
            raise PermissionDenied("Only the system lead changes risk-share agreements.")
        incoming = AgreementEditSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = dict(incoming.validated_data)
        agreements.agreement_edit(
            actor=request.user, agreement=agreement, expected_version=data.pop("version"), **data
        )
        agreement.refresh_from_db()
        return Response(AgreementSerializer(_agreement_data(agreement)).data)


class AgreementWhatIf(_AgreementView):
    """What each partner pays (−) or receives (+) against plan, £000, for activity or spend
    from −20% to +20% of plan, outcome measures met and not."""

    @extend_schema(responses=WhatIfRowSerializer(many=True))
    def get(self, request, slug, code, pk):
        agreement = self.agreement(request, slug, code, pk)
        rows = agreements.version_what_if(agreements.current(agreement))
        return Response(
            [
                WhatIfRowSerializer(
                    {
                        "variance_percent": r.variance * 100,
                        "outcomes_met": r.met,
                        "flows": {k: str(v) for k, v in r.flows.items()},
                    }  # fmt: skip
                ).data
                for r in rows
            ]
        )


class AgreementSign(_AgreementView):
    """A partner's approver signs the version they read."""

    @extend_schema(request=SignInputSerializer, responses={201: AgreementSerializer})
    def post(self, request, slug, code, pk):
        agreement = self.agreement(request, slug, code, pk)
        incoming = SignInputSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        organisation = Organisation.objects.filter(
            system=agreement.system, ods_code=incoming.validated_data["organisation"]
        ).first()
        if organisation is None:
            raise Http404("No such partner.")
        agreements.agreement_sign(
            actor=request.user, agreement=agreement, organisation=organisation,
            version_number=incoming.validated_data["version"],
        )  # fmt: skip
        return Response(AgreementSerializer(_agreement_data(agreement)).data, status=201)


# --- settlements and decisions ---------------------------------------------------------------


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
    flows = serializers.DictField(child=serializers.CharField(), allow_null=True)
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


class _SettlementView(_AgreementView):
    def settlement(self, request, slug, code, pk, sid):
        return selectors.settlement_get(request.user, self.agreement(request, slug, code, pk), sid)


class SettlementList(_SettlementView):
    """An agreement's settlements; the system lead enters one with POST (the worker then works
    it out: poll until computed_at is set)."""

    @extend_schema(responses=SettlementSerializer(many=True))
    def get(self, request, slug, code, pk):
        agreement = self.agreement(request, slug, code, pk)
        rows = agreement.settlements.select_related("version").order_by("-created_at")
        return Response(SettlementSerializer(rows, many=True).data)

    @extend_schema(request=SettlementInputSerializer, responses={201: SettlementSerializer})
    def post(self, request, slug, code, pk):
        agreement = self.agreement(request, slug, code, pk)
        incoming = SettlementInputSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        settlement = settlements.settlement_enter(
            actor=request.user, agreement=agreement, **incoming.validated_data
        )
        return Response(SettlementSerializer(settlement).data, status=201)


class SettlementDetail(_SettlementView):
    @extend_schema(responses=SettlementSerializer)
    def get(self, request, slug, code, pk, sid):
        return Response(SettlementSerializer(self.settlement(request, slug, code, pk, sid)).data)


class SettlementPropose(_SettlementView):
    """The system lead proposes the worked-out settlement to the partners."""

    @extend_schema(request=None, responses=SettlementSerializer)
    def post(self, request, slug, code, pk, sid):
        settlement = settlements.settlement_propose(
            actor=request.user, settlement=self.settlement(request, slug, code, pk, sid)
        )
        return Response(SettlementSerializer(settlement).data)


class SettlementWithdraw(_SettlementView):
    """The system lead withdraws a settlement not yet answered by every partner (to enter it
    again with other actuals)."""

    @extend_schema(request=None, responses=SettlementSerializer)
    def post(self, request, slug, code, pk, sid):
        settlement = settlements.settlement_withdraw(
            actor=request.user, settlement=self.settlement(request, slug, code, pk, sid)
        )
        return Response(SettlementSerializer(settlement).data)


class SettlementRespond(_SettlementView):
    """A partner's approver accepts, or disputes with a reason (which escalates it)."""

    @extend_schema(request=RespondSerializer, responses=SettlementSerializer)
    def post(self, request, slug, code, pk, sid):
        settlement = self.settlement(request, slug, code, pk, sid)
        incoming = RespondSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        organisation = Organisation.objects.filter(
            system=settlement.agreement.system, ods_code=incoming.validated_data["organisation"]
        ).first()
        if organisation is None:
            raise Http404("No such partner.")
        settlement = settlements.settlement_respond(
            actor=request.user, settlement=settlement, organisation=organisation,
            accepted=incoming.validated_data["accepted"],
            reason=incoming.validated_data["reason"],
        )  # fmt: skip
        return Response(SettlementSerializer(settlement).data)


class SettlementDecide(_SettlementView):
    """The region's reviewer decides a disputed settlement, with a reason."""

    @extend_schema(request=DecideSerializer, responses=SettlementSerializer)
    def post(self, request, slug, code, pk, sid):
        settlement = self.settlement(request, slug, code, pk, sid)  # 404 before a 400
        incoming = DecideSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        settlement = settlements.settlement_decide(
            actor=request.user, settlement=settlement, **incoming.validated_data
        )
        return Response(SettlementSerializer(settlement).data)
