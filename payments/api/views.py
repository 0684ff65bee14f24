"""The money through the API: a system's control totals, positions and fund results as the
recalculation worker last stored them."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import policy
from accounts.models import Organisation
from accounts.selectors import system_get
from payments import coalescing, selectors
from payments.api.mechanisms import figure_strings
from payments.api.serializers import (
    AgreementEditSerializer,
    AgreementInputSerializer,
    AgreementSerializer,
    DecideSerializer,
    RespondSerializer,
    ResultsSerializer,
    SettlementInputSerializer,
    SettlementSerializer,
    SignInputSerializer,
    WhatIfRowSerializer,
    agreement_data,
)
from payments.calculations.mechanisms import ParameterProblems, pounds_text
from payments.services import agreements, settlements
from plans import selectors as plan_selectors


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
                    "pending": coalescing.is_pending(plan_round.pk, system.pk),
                    "inputs_hash": result.inputs_hash if result else "",
                    "calculation_version": result.calculation_version if result else None,
                    "data": result.data if result else None,
                }
            ).data
        )


# --- risk-share agreements ---------------------------------------------------------------------


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
        rows = selectors.agreements_listed(request.user, plan_round, system)
        return Response([AgreementSerializer(agreement_data(a)).data for a in rows])

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
        return Response(AgreementSerializer(agreement_data(agreement)).data, status=201)


class AgreementDetail(_AgreementView):
    """One agreement; PUT changes the terms (a new version if anyone has signed)."""

    @extend_schema(responses=AgreementSerializer)
    def get(self, request, slug, code, pk):
        agreement = self.agreement(request, slug, code, pk)
        return Response(AgreementSerializer(agreement_data(agreement)).data)

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
        return Response(AgreementSerializer(agreement_data(agreement)).data)


class AgreementWhatIf(_AgreementView):
    """What each partner pays (−) or receives (+) against plan, in pounds and pence, for
    activity or spend from −20% to +20% of plan, outcome measures met and not."""

    @extend_schema(responses=WhatIfRowSerializer(many=True))
    def get(self, request, slug, code, pk):
        agreement = self.agreement(request, slug, code, pk)
        try:
            rows = agreements.version_what_if(agreements.current(agreement))
        except ParameterProblems as exc:  # terms a later rule refuses: edit them first
            raise ValidationError(exc.problems) from None
        return Response(
            [
                WhatIfRowSerializer(
                    {
                        "variance_percent": r.variance * 100,
                        "outcomes_met": r.met,
                        "flows": {k: pounds_text(v) for k, v in r.flows.items()},
                        "external": {k: pounds_text(v) for k, v in r.external.items() if v},
                        "figures": [figure_strings(f) for f in r.figures],
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
        return Response(AgreementSerializer(agreement_data(agreement)).data, status=201)


# --- settlements and decisions ---------------------------------------------------------------


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
        if not policy.can_draft_agreement(request.user, agreement.system):
            # Before the body is read: a viewer is refused (403) whatever they send.
            raise PermissionDenied("Settlements are entered by the system lead.")
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
