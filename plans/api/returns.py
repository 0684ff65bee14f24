"""Monthly finance returns through the API: list and start, read and replace the draft,
submit. The same checks, all-or-nothing saving and revision rule as the pages."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.selectors import organisation_get
from openbook import numbers
from openbook.errors import ProblemList
from plans import monthly_returns, selectors
from plans.models import MONTH_LABELS, ReturnVersion
from plans.services import returns as services


class ReturnValueSerializer(serializers.Serializer):
    line = serializers.CharField(max_length=20)
    month = serializers.IntegerField(min_value=1, max_value=12)
    # A string or number as typed; checked against the line like any figure.
    value = serializers.CharField(max_length=40, allow_blank=True, allow_null=True)


class ReturnVersionSerializer(serializers.ModelSerializer):
    created_by = serializers.EmailField(source="created_by.email")

    class Meta:
        model = ReturnVersion
        fields = ["number", "created_at", "created_by"]


class ReturnSummarySerializer(serializers.Serializer):
    month = serializers.IntegerField()
    month_label = serializers.CharField()
    status = serializers.CharField()
    revision = serializers.IntegerField()


class ReturnDetailSerializer(ReturnSummarySerializer):
    version = serializers.IntegerField()
    versions = ReturnVersionSerializer(many=True)
    year_to_date = serializers.DecimalField(max_digits=18, decimal_places=3)
    forecast_outturn = serializers.DecimalField(max_digits=18, decimal_places=3)
    values = serializers.ListField(child=serializers.DictField())


class ReturnStartSerializer(serializers.Serializer):
    month = serializers.IntegerField(min_value=1, max_value=12)


class ReturnSaveSerializer(serializers.Serializer):
    revision = serializers.IntegerField(
        min_value=0, help_text="The revision you read; a newer one means someone saved since."
    )
    values = ReturnValueSerializer(many=True, max_length=2000)


class ReturnSubmitSerializer(serializers.Serializer):
    revision = serializers.IntegerField(min_value=0)


def _summary(monthly_return) -> dict:
    return {
        "month": monthly_return.month,
        "month_label": monthly_return.month_label,
        "status": monthly_return.status,
        "revision": monthly_return.revision,
    }


class ReturnList(APIView):
    """An organisation's returns for the round; POST starts the return for a month."""

    @extend_schema(responses=ReturnSummarySerializer(many=True))
    def get(self, request, slug, ods_code):
        plan_round = selectors.round_get(request.user, slug)
        organisation = organisation_get(request.user, ods_code)
        returns = selectors.returns_visible_to(request.user).filter(
            round=plan_round, organisation=organisation
        )
        return Response([_summary(r) for r in returns.order_by("month")])

    @extend_schema(request=ReturnStartSerializer, responses={201: ReturnSummarySerializer})
    def post(self, request, slug, ods_code):
        plan_round = selectors.round_get(request.user, slug)
        organisation = organisation_get(request.user, ods_code)
        incoming = ReturnStartSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        monthly_return = services.return_start(
            actor=request.user,
            plan_round=plan_round,
            organisation=organisation,
            month=incoming.validated_data["month"],
        )
        return Response(_summary(monthly_return), status=status.HTTP_201_CREATED)


class ReturnDetail(APIView):
    """One return: the draft (to the organisation) or latest submitted version, with its
    position; PUT replaces the draft's figures (every figure of the return, all or nothing)."""

    def _get(self, request, slug, ods_code, month):
        plan_round = selectors.round_get(request.user, slug)
        return selectors.return_get(request.user, plan_round, ods_code, month)

    @extend_schema(responses=ReturnDetailSerializer)
    def get(self, request, slug, ods_code, month):
        monthly_return = self._get(request, slug, ods_code, month)
        number = request.query_params.get("version")
        version = selectors.return_version_shown(
            request.user, monthly_return, numbers.whole(number)
        )
        lines = services.return_lines(monthly_return.round, monthly_return.organisation.kind)
        cells = services.version_cells(version)
        position = monthly_returns.position(cells, monthly_return.month, lines.flat, lines.surplus)
        data = _summary(monthly_return) | {
            "version": version.number,
            "versions": list(selectors.return_versions_visible(request.user, monthly_return)),
            "year_to_date": position.year_to_date,
            "forecast_outturn": position.outturn,
            "values": [
                {
                    "line": code,
                    "month": m,
                    "value": str(value),
                    "kind": "actual" if m <= monthly_return.month else "forecast",
                }  # fmt: skip
                for (code, m), value in sorted(cells.items())
            ],
        }
        return Response(ReturnDetailSerializer(data).data)

    @extend_schema(request=ReturnSaveSerializer, responses={200: ReturnSummarySerializer})
    def put(self, request, slug, ods_code, month):
        monthly_return = self._get(request, slug, ods_code, month)
        incoming = ReturnSaveSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        lines = services.return_lines(monthly_return.round, monthly_return.organisation.kind)
        raw: dict[tuple[str, int], object] = {}
        duplicates = []
        for row in incoming.validated_data["values"]:
            key = (row["line"], row["month"])
            if key in raw:
                duplicates.append(
                    {
                        "cell": f"{key[0]}, {MONTH_LABELS[key[1] - 1]}",
                        "value": row["value"],
                        "problem": "is given twice",
                    }  # fmt: skip
                )
            raw[key] = row["value"]
        checked = monthly_returns.check_cells(
            raw, lines.specs, lambda code, m: f"{code}, {MONTH_LABELS[m - 1]}"
        )
        problems = duplicates + checked.problems
        if problems:
            raise ProblemList(f"{len(problems)} problem(s); nothing was saved.", problems)
        saved = services.return_save(
            actor=request.user,
            monthly_return=monthly_return,
            cells=checked.cells,
            expected_revision=incoming.validated_data["revision"],
            source="api",
        )
        return Response(_summary(saved))


class ReturnSubmit(APIView):
    """An approver submits the draft as the next version."""

    @extend_schema(request=ReturnSubmitSerializer, responses={201: ReturnVersionSerializer})
    def post(self, request, slug, ods_code, month):
        plan_round = selectors.round_get(request.user, slug)
        monthly_return = selectors.return_get(request.user, plan_round, ods_code, month)
        incoming = ReturnSubmitSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        version = services.return_submit(
            actor=request.user,
            monthly_return=monthly_return,
            expected_revision=incoming.validated_data["revision"],
        )
        return Response(ReturnVersionSerializer(version).data, status=status.HTTP_201_CREATED)
