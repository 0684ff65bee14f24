"""The planning API: rounds and templates to read; submissions, drafts, workflow, comments."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import policy
from accounts.selectors import system_get
from openbook.numbers import THOUSANDTH
from plans import selectors, services
from plans.api import serializers
from plans.calculations import MONTHS
from plans.cells import cells_from_rows
from plans.models import Comment, TemplateVersion
from plans.system_plan import (
    SUMS_SECONDS,
    build,
    fetch_plans,
    source_digest,
    standing,
    system_plan_get,
)
from plans.table_selectors import version_rows, version_tables
from plans.tables import RowInput, fingerprint


class RoundViewSet(viewsets.ReadOnlyModelViewSet):
    """Planning rounds: the financial year, deadlines and template version of each."""

    serializer_class = serializers.RoundSerializer
    lookup_field = "slug"

    def get_queryset(self):
        return selectors.rounds_visible_to(self.request.user)


class TemplateViewSet(viewsets.ReadOnlyModelViewSet):
    """Template versions, with their sections and lines."""

    def get_queryset(self):
        return TemplateVersion.objects.select_related("template").prefetch_related(
            "sections__lines"
        )

    def get_serializer_class(self):
        if self.action == "retrieve":
            return serializers.TemplateVersionDetailSerializer
        return serializers.TemplateVersionSerializer


class SubmissionList(APIView):
    """The round's submissions this person may see."""

    @extend_schema(responses=serializers.SubmissionSerializer(many=True))
    def get(self, request, slug):
        plan_round = selectors.round_get(request.user, slug)
        submissions = selectors.submissions_visible_to(request.user).filter(round=plan_round)
        return Response(serializers.SubmissionSerializer(submissions, many=True).data)


class _SubmissionView(APIView):
    def submission(self, request, slug, ods_code):
        plan_round = selectors.round_get(request.user, slug)
        return selectors.submission_get(request.user, plan_round, ods_code)


class SubmissionDetail(_SubmissionView):
    """One submission: its status and the versions this person may see."""

    @extend_schema(responses=serializers.SubmissionDetailSerializer)
    def get(self, request, slug, ods_code):
        submission = self.submission(request, slug, ods_code)
        submission.visible_versions = selectors.versions_visible(request.user, submission)
        return Response(serializers.SubmissionDetailSerializer(submission).data)


class VersionDetail(_SubmissionView):
    """A version's figures (0 is the working draft, for the organisation only)."""

    @extend_schema(responses=serializers.VersionValuesSerializer)
    def get(self, request, slug, ods_code, number):
        submission = self.submission(request, slug, ods_code)
        version = selectors.version_get(request.user, submission, number)
        data = {
            "number": version.number,
            "values": selectors.version_rows(version),
            "narratives": selectors.version_narratives(version),
            "tables": {
                code: [_row_out(row) for row in rows]
                for code, rows in version_tables(version).items()
            },
        }
        return Response(serializers.VersionValuesSerializer(data).data)


def _row_out(row) -> dict:
    return {"fields": row.fields, "amounts": [str(a) for a in row.amounts]}


class DraftTable(_SubmissionView):
    """A table section of the working draft (efficiency or capital schemes): read it, or
    replace its rows, all or nothing. The lines it adds up to change with it."""

    def _section(self, submission, section):
        try:
            return services.table_section(submission, section)
        except ValidationError:
            raise Http404("No such table.") from None

    @extend_schema(responses=serializers.TableSerializer)
    def get(self, request, slug, ods_code, section):
        submission = self.submission(request, slug, ods_code)
        draft = selectors.version_get(request.user, submission, 0)
        rows = version_rows(draft, self._section(submission, section))
        data = {"section": section, "rows": [_row_out(r) for r in rows],
                "fingerprint": fingerprint(rows)}  # fmt: skip
        return Response(serializers.TableSerializer(data).data)

    @extend_schema(
        request=serializers.TableInputSerializer,
        responses={200: serializers.DraftValuesResultSerializer},
    )
    def put(self, request, slug, ods_code, section):
        submission = self.submission(request, slug, ods_code)
        self._section(submission, section)
        incoming = serializers.TableInputSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        rows = [
            RowInput(dict(row["fields"]), dict(enumerate(row["amounts"], start=1)),
                     name=f"Row {n}")
            for n, row in enumerate(incoming.validated_data["rows"], start=1)
        ]  # fmt: skip
        result = services.table_save(
            actor=request.user, submission=submission, section_code=section, rows=rows,
            started=incoming.validated_data.get("started"), source="api",
        )  # fmt: skip
        return Response({"changed": result.changed, "revision": result.revision})


class DraftValues(APIView):
    """Set figures in the working draft: all or nothing; repeating a request changes nothing."""

    @extend_schema(
        request=serializers.DraftValuesInputSerializer,
        responses={200: serializers.DraftValuesResultSerializer},
    )
    def put(self, request, slug, ods_code):
        plan_round = selectors.round_get(request.user, slug)
        organisation, submission = selectors.submission_find(request.user, plan_round, ods_code)
        if not policy.can_edit_draft(request.user, organisation):
            raise PermissionDenied(
                "Only the organisation's preparers and approvers can change its plan."
            )
        incoming = serializers.DraftValuesInputSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        result = services.start_and_save(
            actor=request.user,
            plan_round=plan_round,
            organisation=organisation,
            submission=submission,
            cells=cells_from_rows(incoming.validated_data["values"]),
            source="api",
        )
        return Response({"changed": result.changed, "revision": result.revision})


class DraftNarrative(_SubmissionView):
    """Set a narrative section's text in the working draft."""

    @extend_schema(request=serializers.NarrativeInputSerializer, responses={204: None})
    def put(self, request, slug, ods_code, section):
        submission = self.submission(request, slug, ods_code)
        incoming = serializers.NarrativeInputSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        services.narrative_save(
            actor=request.user, submission=submission, section_code=section,
            text=incoming.validated_data["text"],
        )  # fmt: skip
        return Response(status=status.HTTP_204_NO_CONTENT)


class Submit(_SubmissionView):
    """An approver submits the draft, recording the board approval date."""

    @extend_schema(
        request=serializers.SubmitInputSerializer, responses={201: serializers.VersionSerializer}
    )
    def post(self, request, slug, ods_code):
        submission = self.submission(request, slug, ods_code)
        incoming = serializers.SubmitInputSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        version = services.submission_submit(
            actor=request.user, submission=submission, **incoming.validated_data
        )
        return Response(serializers.VersionSerializer(version).data, status=status.HTTP_201_CREATED)


class Accept(_SubmissionView):
    """The system lead accepts a submitted plan."""

    @extend_schema(
        request=serializers.AcceptInputSerializer, responses=serializers.SubmissionSerializer
    )
    def post(self, request, slug, ods_code):
        incoming = serializers.AcceptInputSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        submission = services.submission_accept(
            actor=request.user, submission=self.submission(request, slug, ods_code),
            note=incoming.validated_data["note"], version=incoming.validated_data.get("version"),
        )  # fmt: skip
        return Response(serializers.SubmissionSerializer(submission).data)


class Return(_SubmissionView):
    """The system lead returns a submitted plan with a reason."""

    @extend_schema(
        request=serializers.ReturnInputSerializer, responses=serializers.SubmissionSerializer
    )
    def post(self, request, slug, ods_code):
        incoming = serializers.ReturnInputSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        submission = services.submission_return(
            actor=request.user, submission=self.submission(request, slug, ods_code),
            reason=incoming.validated_data["reason"],
        )  # fmt: skip
        return Response(serializers.SubmissionSerializer(submission).data)


class Recall(_SubmissionView):
    """An approver recalls a submitted plan before the lead acts and before the deadline."""

    @extend_schema(request=None, responses=serializers.SubmissionSerializer)
    def post(self, request, slug, ods_code):
        submission = services.submission_recall(
            actor=request.user, submission=self.submission(request, slug, ods_code)
        )
        return Response(serializers.SubmissionSerializer(submission).data)


class Comments(_SubmissionView):
    """Comments on the submission and its lines, threaded."""

    @extend_schema(responses=serializers.CommentSerializer(many=True))
    def get(self, request, slug, ods_code):
        comments = selectors.comments_for(request.user, self.submission(request, slug, ods_code))
        return Response(serializers.CommentSerializer(comments, many=True).data)

    @extend_schema(
        request=serializers.CommentInputSerializer, responses={201: serializers.CommentSerializer}
    )
    def post(self, request, slug, ods_code):
        submission = self.submission(request, slug, ods_code)
        incoming = serializers.CommentInputSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        parent = None
        if data.get("parent"):
            parent = Comment.objects.filter(submission=submission, pk=data["parent"]).first()
            if parent is None:
                raise Http404("No such comment.")
        comment = services.comment_add(
            actor=request.user, submission=submission, body=data["body"],
            line_code=data.get("line") or None, parent=parent,
        )  # fmt: skip
        return Response(serializers.CommentSerializer(comment).data, status=status.HTTP_201_CREATED)


class Diff(_SubmissionView):
    """What changed between two versions: each cell, and the net change by unit."""

    @extend_schema(
        parameters=[
            OpenApiParameter("from", int, required=True, description="The earlier version number"),
            OpenApiParameter("to", int, required=True, description="The later version number"),
        ],
        responses=serializers.DiffSerializer,
    )
    def get(self, request, slug, ods_code):
        submission = self.submission(request, slug, ods_code)
        try:
            a, b = int(request.query_params["from"]), int(request.query_params["to"])
        except (KeyError, ValueError):
            from rest_framework.exceptions import ValidationError

            raise ValidationError({"from": "Give two version numbers, ?from=1&to=2."}) from None
        return Response(
            serializers.DiffSerializer(selectors.version_diff(request.user, submission, a, b)).data
        )


def _system_plan(request, slug, code):

    plan_round = selectors.round_get(request.user, slug)
    return system_plan_get(request.user, plan_round, system_get(request.user, code))


def _money(value: Decimal) -> str:
    """A figure as the API's decimal fields write it (three places, as text)."""
    return f"{value.quantize(THOUSANDTH):f}"


def system_plan_data(plan) -> dict:
    """What SystemPlanSerializer gives for a collated plan, written out directly: its
    thousands of totals are plain values, and a serializer object per total cost more than
    the collation itself. The serializer stays the published schema; a test holds the two
    to the same output."""
    c = plan.consolidated
    return {
        "round": plan.round.slug,
        "system": plan.system.code,
        "organisations": serializers.OrgStatusSerializer(plan.statuses, many=True).data,
        "surplus_by_organisation": {
            ods: _money(value) for ods, value in plan.surplus_by_organisation.items()
        },
        "consolidated": [
            {
                "month": m,
                "income": _money(c.income[m]),
                "expenditure": _money(c.expenditure[m]),
                "eliminated": _money(c.eliminated[m]),
                "surplus": _money(c.surplus_after[m]),
            }
            for m in MONTHS
        ],
        "totals": [
            {"line": code, "month": month, "value": _money(value)}
            for (code, month), value in sorted(plan.totals.items())
        ],
    }


class SystemPlanView(APIView):
    """A system's collated plan: where each organisation stands, surplus by organisation, the
    consolidated I&E by month (after eliminations) and every line's system total by month."""

    @extend_schema(responses=serializers.SystemPlanSerializer)
    def get(self, request, slug, code):
        plan_round = selectors.round_get(request.user, slug)
        system = system_get(request.user, code)
        if not policy.can_view_system(request.user, system):
            raise Http404("No such system.")
        # Stored beside the system's sums: the same counted plans, partners and statuses
        # always give the same answer, so it is worked out once for everyone who may see it.
        known = standing(plan_round, [system.pk])
        key = _answer_key("system-plan", plan_round, system, known)
        body = cache.get(key)  # the answer as JSON, written once: a national system's is
        if body is None:  # hundreds of kilobytes, and writing it was half a request
            fetched = fetch_plans(plan_round, [system.pk], known)
            body = JSONRenderer().render(system_plan_data(build(plan_round, system, fetched)))
            if fetched.keys[system.pk] == known.keys[system.pk]:  # else made from other plans
                cache.set(key, body, SUMS_SECONDS)
        if isinstance(request.accepted_renderer, JSONRenderer) and (
            "indent" not in request.accepted_media_type  # asked for laid out: rendered so
        ):
            return HttpResponse(body, content_type="application/json")
        return Response(json.loads(body))  # or the browsable API's page around it


# The code an answer is written by (the sums' key already names the collation's).
ANSWER_CODE = source_digest(__file__, serializers.__file__)


def _answer_key(kind: str, plan_round, system, known) -> str:
    """An answer made from a system's collation: its sums' key (which plans count, with which
    template) and where each partner stands, by name."""
    statuses = [
        (s.organisation.ods_code, s.organisation.name, s.organisation.kind, s.state, s.late)
        for s in known.statuses[system.pk]
    ]
    canonical = json.dumps(
        [ANSWER_CODE, kind, plan_round.slug, system.code, known.keys[system.pk], statuses]
    )
    return f"collation:{kind}:" + hashlib.sha256(canonical.encode()).hexdigest()


class BalancesView(APIView):
    """Agreement of balances: each provider–commissioner pair's figures (income and activity),
    flagged above the round's thresholds, and pay cost per WTE checks."""

    @extend_schema(responses=serializers.BalancesSerializer)
    def get(self, request, slug, code):
        plan = _system_plan(request, slug, code)
        data = {
            "round": plan.round.slug,
            "system": plan.system.code,
            "income_threshold": plan.round.balance_threshold,
            "activity_threshold_percent": plan.round.activity_threshold_percent,
            "pairs": plan.income_balances + plan.activity_balances,
            "pay_per_wte": plan.pay_checks,
        }
        return Response(serializers.BalancesSerializer(data).data)
