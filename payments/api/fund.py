"""The financial recovery fund through the API: rules, the system's share, allocations and
discretionary releases, on the pages' services, policy and audit."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from accounts import policy
from openbook.errors import ProblemList
from payments import selectors
from payments.api.control_totals import SystemView
from payments.api.serializers import (
    AllocationsInputSerializer,
    FundRulesInputSerializer,
    FundSerializer,
    FundShareInputSerializer,
    ReleaseDecideSerializer,
    ReleaseInputSerializer,
    ReleaseSerializer,
    amount_text,
    percent_text,
    release_data,
)
from payments.services import fund as fund_services
from plans.calculations import ValueProblem, parse_value

# --- the fund --------------------------------------------------------------------------------


def _percent(raw: str, what: str) -> Decimal:
    try:
        value = parse_value(str(raw).strip().removesuffix("%"))
    except ValueProblem as exc:
        raise ValidationError(f"{what} {exc}.") from None
    if value is None:
        raise ValidationError(f"Give {what[:1].lower()}{what[1:]}.")
    return value / 100


class _FundView(SystemView):
    def fund(self, request, slug, code):
        plan_round, system = self.place(request, slug, code)
        fund = selectors.fund_for(request.user, plan_round, system)
        if fund is None:
            raise Http404("The round has no fund.")
        return plan_round, system, fund


def _fund_data(user, fund, system) -> dict:
    rules = fund_services.rules_for(fund, system)
    return {
        "name": fund.name,
        "fund_system_share": percent_text(fund.system_share),
        "system_share": percent_text(rules.system_share),
        "phasing": [percent_text(q) for q in fund.phasing],
        "taper": fund.taper,
        "taper_zero_at": amount_text(fund.taper_zero_at),
        "allocations": {
            ods: amount_text(amount)
            for ods, amount in sorted(selectors.allocations_for(user, fund, system).items())
        },
    }


class FundDetail(_FundView):
    """The round's financial recovery fund as it applies to this system: its rules, the
    system's share and the indicative allocations (404 when the round has none)."""

    @extend_schema(responses=FundSerializer)
    def get(self, request, slug, code):
        _, system, fund = self.fund(request, slug, code)
        return Response(_fund_data(request.user, fund, system))


class FundRules(SystemView):
    """Set the round's fund rules (platform administrators): every system is recalculated."""

    @extend_schema(request=FundRulesInputSerializer, responses=FundSerializer)
    def put(self, request, slug, code):
        plan_round, system = self.place(request, slug, code)
        selectors.fund_for(request.user, plan_round, system)  # 404 for outsiders first
        if not policy.can_manage_fund(request.user):
            raise PermissionDenied("A round's fund is set by platform administrators.")
        incoming = FundRulesInputSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        rules = incoming.validated_data
        zero_at = None
        if rules["taper"] == "linear":
            try:
                zero_at = parse_value(rules.get("taper_zero_at"))
            except ValueProblem as exc:
                raise ValidationError(
                    {"taper_zero_at": f"The shortfall at which the taper reaches zero {exc}."}
                ) from None
        fund = fund_services.fund_save(
            actor=request.user, plan_round=plan_round, name=rules["name"],
            system_share=_percent(rules["system_share"], "The system share"),
            phasing=[_percent(q, f"Quarter {n}'s share")
                     for n, q in enumerate(rules["phasing"], start=1)],
            taper=rules["taper"], taper_zero_at=zero_at,
        )  # fmt: skip
        return Response(_fund_data(request.user, fund, system))


class FundShare(_FundView):
    """The system lead ties more of the fund to the system's performance (never less)."""

    @extend_schema(request=FundShareInputSerializer, responses=FundSerializer)
    def put(self, request, slug, code):
        _, system, fund = self.fund(request, slug, code)
        if not policy.can_choose_system_share(request.user, system):
            raise PermissionDenied("Only the system lead can choose the system's share.")
        incoming = FundShareInputSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        fund_services.system_share_choose(
            actor=request.user, fund=fund, system=system,
            share=_percent(incoming.validated_data["system_share"], "The system's share"),
        )  # fmt: skip
        return Response(_fund_data(request.user, fund, system))


class FundAllocations(_FundView):
    """The region's reviewers set indicative allocations, all or nothing."""

    @extend_schema(request=AllocationsInputSerializer, responses=FundSerializer)
    def put(self, request, slug, code):
        _, system, fund = self.fund(request, slug, code)
        if not policy.can_set_allocations(request.user, system):
            raise PermissionDenied("Allocations are set by the region's reviewers.")
        incoming = AllocationsInputSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        amounts, problems = {}, []
        for ods, raw in incoming.validated_data["allocations"].items():
            try:
                amounts[ods.strip().upper()] = parse_value(raw)
            except ValueProblem as exc:
                problems.append({"cell": ods, "value": raw, "problem": str(exc)})
        if problems:
            raise ProblemList("Nothing was saved: some allocations have problems.", problems)
        fund_services.allocations_set(actor=request.user, fund=fund, system=system,
                                      amounts=amounts)  # fmt: skip
        return Response(_fund_data(request.user, fund, system))


class ReleaseList(_FundView):
    """Discretionary releases of the system-tied share, newest first; the system lead
    proposes one with POST, and it counts once the region agrees."""

    @extend_schema(responses=ReleaseSerializer(many=True))
    def get(self, request, slug, code):
        _, system, fund = self.fund(request, slug, code)
        rows = selectors.releases_for(request.user, fund, system).order_by("-pk")
        return Response([release_data(r) for r in rows])

    @extend_schema(request=ReleaseInputSerializer, responses={201: ReleaseSerializer})
    def post(self, request, slug, code):
        _, system, fund = self.fund(request, slug, code)
        if not policy.can_propose_release(request.user, system):
            raise PermissionDenied("Only the system lead can propose a discretionary release.")
        incoming = ReleaseInputSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        ods = incoming.validated_data["organisation"].strip().upper()
        organisation = system.organisations.filter(ods_code=ods).first()
        if organisation is None:
            raise ValidationError({"organisation": f"{ods} is not a partner in {system.name}."})
        release = fund_services.release_propose(
            actor=request.user, fund=fund, organisation=organisation,
            quarter=incoming.validated_data["quarter"], reason=incoming.validated_data["reason"],
        )  # fmt: skip
        return Response(release_data(release), status=201)


class ReleaseDecide(_FundView):
    @extend_schema(request=ReleaseDecideSerializer, responses=ReleaseSerializer)
    def post(self, request, slug, code, pk):
        _, system, fund = self.fund(request, slug, code)
        release = selectors.release_get(request.user, fund, system, pk)
        if not policy.can_decide_release(request.user, system):
            raise PermissionDenied("Only the region's reviewers can agree a release.")
        incoming = ReleaseDecideSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        fund_services.release_decide(
            actor=request.user, release=release, agreed=incoming.validated_data["agreed"],
            note=incoming.validated_data.get("note", ""),
        )  # fmt: skip
        return Response(release_data(selectors.release_get(request.user, fund, system, pk)))


class ReleaseWithdraw(_FundView):
    @extend_schema(request=None, responses=ReleaseSerializer)
    def post(self, request, slug, code, pk):
        _, system, fund = self.fund(request, slug, code)
        release = selectors.release_get(request.user, fund, system, pk)
        fund_services.release_withdraw(actor=request.user, release=release)
        return Response(release_data(selectors.release_get(request.user, fund, system, pk)))
