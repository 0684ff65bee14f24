"""Control totals and transfers through the API: the pages' services, policy and audit."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import policy
from accounts.selectors import system_get
from openbook.errors import ProblemList
from payments import selectors
from payments.api.serializers import (
    ControlTotalsImportSerializer,
    ControlTotalsInputSerializer,
    ControlTotalsSerializer,
    TransferDecideSerializer,
    TransferInputSerializer,
    TransferSerializer,
    amount_text,
    transfer_data,
)
from payments.calculations.control_totals import system_control_total
from payments.services import transfers
from payments.services.control_totals import control_total_set, control_totals_import
from plans import selectors as plan_selectors
from plans.calculations import ValueProblem, parse_value

# --- control totals and transfers ------------------------------------------------------------


class SystemView(APIView):
    def place(self, request, slug, code):
        return plan_selectors.round_get(request.user, slug), system_get(request.user, code)


def _control_totals_data(user, plan_round, system) -> dict:
    totals = selectors.control_totals_for(user, plan_round, system)
    names = dict(system.organisations.values_list("ods_code", "name"))
    return {
        "organisations": [
            {"ods_code": ods, "name": names[ods], "control_total": amount_text(amount)}
            for ods, amount in sorted(totals.items())
        ],
        "system_control_total": amount_text(system_control_total(totals)),
    }


class ControlTotals(SystemView):
    """Every partner's control total for the round, £000; the region's reviewers and
    administrators set them with PUT (all or nothing)."""

    @extend_schema(responses=ControlTotalsSerializer)
    def get(self, request, slug, code):
        plan_round, system = self.place(request, slug, code)
        return Response(_control_totals_data(request.user, plan_round, system))

    @extend_schema(request=ControlTotalsInputSerializer, responses=ControlTotalsSerializer)
    def put(self, request, slug, code):
        plan_round, system = self.place(request, slug, code)
        if not policy.can_set_control_totals(request.user, system):  # 403 before any 400
            raise PermissionDenied("Control totals are set by the region's reviewers.")
        incoming = ControlTotalsInputSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        partners = {o.ods_code: o for o in system.organisations.all()}
        problems, changes = [], []
        for ods, raw in incoming.validated_data["control_totals"].items():
            organisation = partners.get(ods.strip().upper())
            try:
                if organisation is None:
                    raise ValueProblem(f"is not an organisation in {system.name}")
                changes.append((organisation, parse_value(raw)))
            except ValueProblem as exc:
                problems.append({"cell": ods, "value": raw, "problem": str(exc)})
        if problems:
            raise ProblemList("Nothing was saved: some control totals have problems.", problems)
        with transaction.atomic():
            for organisation, amount in changes:
                control_total_set(actor=request.user, plan_round=plan_round,
                                  organisation=organisation, amount=amount)  # fmt: skip
        return Response(_control_totals_data(request.user, plan_round, system))


class ControlTotalsImport(SystemView):
    """Set control totals from CSV text (`organisation,control_total`), all or nothing."""

    @extend_schema(request=ControlTotalsImportSerializer, responses=ControlTotalsSerializer)
    def post(self, request, slug, code):
        plan_round, system = self.place(request, slug, code)
        if not policy.can_set_control_totals(request.user, system):
            raise PermissionDenied("Control totals are set by the region's reviewers.")
        incoming = ControlTotalsImportSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        control_totals_import(actor=request.user, plan_round=plan_round, system=system,
                              data=incoming.validated_data["csv"].encode())  # fmt: skip
        return Response(_control_totals_data(request.user, plan_round, system))


class TransferList(SystemView):
    """The system's transfers of control total, newest first; POST proposes one (the system
    lead, or an approver for a transfer its organisation takes part in)."""

    @extend_schema(responses=TransferSerializer(many=True))
    def get(self, request, slug, code):
        plan_round, system = self.place(request, slug, code)
        transfers = selectors.transfers_for(request.user, plan_round, system).order_by("-pk")
        return Response([transfer_data(t, selectors.pending_parties(t)) for t in transfers])

    @extend_schema(request=TransferInputSerializer, responses={201: TransferSerializer})
    def post(self, request, slug, code):
        plan_round, system = self.place(request, slug, code)
        if not policy.can_propose_transfer(request.user, system):
            raise PermissionDenied("Transfers are proposed by the system lead or an approver.")
        incoming = TransferInputSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        moves, problems = [], []
        for n, line in enumerate(incoming.validated_data["lines"], start=1):
            try:
                amount = parse_value(line["amount"])
                if amount is None:
                    raise ValueProblem("is not an amount: give a figure")
                moves.append((line["organisation"], amount))
            except ValueProblem as exc:
                problems.append({"cell": f"line {n}", "value": line["amount"],
                                 "problem": str(exc)})  # fmt: skip
        if problems:
            raise ProblemList("Nothing was proposed: some amounts have problems.", problems)
        transfer = transfers.transfer_propose(
            actor=request.user, plan_round=plan_round, system=system, moves=moves,
            reason=incoming.validated_data["reason"],
        )  # fmt: skip
        return Response(_transfer(request.user, plan_round, system, transfer.pk), status=201)


def _transfer(user, plan_round, system, pk: int) -> dict:
    transfer = selectors.transfer_get(user, plan_round, system, pk)
    return transfer_data(transfer, selectors.pending_parties(transfer))


class TransferDetail(SystemView):
    @extend_schema(responses=TransferSerializer)
    def get(self, request, slug, code, pk):
        plan_round, system = self.place(request, slug, code)
        return Response(_transfer(request.user, plan_round, system, pk))


class TransferDecide(SystemView):
    """A party agrees or refuses: an involved organisation's approver, or the system lead.
    The transfer changes control totals once every party has agreed."""

    @extend_schema(request=TransferDecideSerializer, responses=TransferSerializer)
    def post(self, request, slug, code, pk):
        plan_round, system = self.place(request, slug, code)
        transfer = selectors.transfer_get(request.user, plan_round, system, pk)
        if not policy.transfer_parties(request.user, transfer):
            raise PermissionDenied("Only the parties' approvers and the system lead decide.")
        incoming = TransferDecideSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        ods = (incoming.validated_data.get("organisation") or "").strip().upper()
        organisation = system.organisations.filter(ods_code=ods).first() if ods else None
        if ods and organisation is None:
            raise ValidationError({"organisation": f"{ods} is not a partner in {system.name}."})
        transfers.transfer_decide(
            actor=request.user, transfer=transfer, agreed=incoming.validated_data["agreed"],
            reason=incoming.validated_data.get("reason", ""), organisation=organisation,
        )  # fmt: skip
        return Response(_transfer(request.user, plan_round, system, pk))


class TransferWithdraw(SystemView):
    """The proposer withdraws a transfer still being decided."""

    @extend_schema(request=None, responses=TransferSerializer)
    def post(self, request, slug, code, pk):
        plan_round, system = self.place(request, slug, code)
        transfer = selectors.transfer_get(request.user, plan_round, system, pk)
        transfers.transfer_withdraw(actor=request.user, transfer=transfer)
        return Response(_transfer(request.user, plan_round, system, pk))
