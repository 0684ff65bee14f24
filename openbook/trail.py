"""A system's audit trail, shown: its events through a selector over accounts.policy, the
filters people use on the timeline, where each event's object lives, and the chain exported
with everything needed to check it independently."""

from __future__ import annotations

import csv
import io
import json
from typing import TYPE_CHECKING, Any

import django_filters
from django.db.models import QuerySet
from django.http import Http404
from django.urls import reverse

from accounts import policy
from accounts.models import Organisation
from openbook.audit import GENESIS_HASH, audit_verify_chain, canonical_json, event_fields
from openbook.forms import DateInputField
from openbook.models import AuditEvent, system_chain

if TYPE_CHECKING:
    from accounts.models import System
    from accounts.policy import AnyUser

ALGORITHM = (
    "Each event's hash is sha256(previous event's hash + the canonical JSON of its fields): "
    "keys sorted, separators ',' and ':', UTF-8, no ASCII escaping. The first event's previous "
    f"hash is {GENESIS_HASH[:8]}… (64 zeros)."
)


def audit_events_for(user: AnyUser, system: System) -> QuerySet[AuditEvent]:
    """The system's chain, for people who may see the system (404 otherwise)."""
    if not policy.can_view_audit(user, system):
        raise Http404("No such system.")
    return AuditEvent.objects.filter(chain=system_chain(system.pk))


def verify(user: AnyUser, system: System):
    audit_events_for(user, system)  # the same check
    return audit_verify_chain(system_chain(system.pk))


def kind_of(action: str) -> str:
    return action.split(".", 1)[0]


KIND_LABELS = {
    "agreement": "Agreements and signatures",
    "settlement": "Settlements and decisions",
    "transfer": "Transfers",
    "control_total": "Control totals",
    "submission": "Plans",
    "system_plan": "System plan",
    "return": "Monthly returns",
    "fund": "The fund",
    "comment": "Comments",
}


class TimelineFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(method="by_kind", empty_label="Every kind")
    organisation = django_filters.ModelChoiceFilter(
        queryset=Organisation.objects.none(), empty_label="Every organisation",
        to_field_name="ods_code",
    )  # fmt: skip
    person = django_filters.CharFilter(field_name="actor_label", lookup_expr="icontains")
    since = django_filters.DateFilter(field_name="occurred_at", lookup_expr="date__gte")
    until = django_filters.DateFilter(field_name="occurred_at", lookup_expr="date__lte")

    class Meta:
        model = AuditEvent
        fields: list[str] = []

    def __init__(self, *args, system: System, **kwargs):
        super().__init__(*args, **kwargs)
        actions = self.queryset.order_by().values_list("action", flat=True).distinct()
        kinds = sorted({kind_of(a) for a in actions})
        self.filters["kind"].extra["choices"] = [(k, KIND_LABELS.get(k, k.title())) for k in kinds]
        self.filters["organisation"].queryset = system.organisations.order_by("name")

    def by_kind(self, queryset, name, value):
        return queryset.filter(action__startswith=value + ".") if value else queryset


class DateInputFilter(django_filters.DateFilter):
    """A date typed in the NHS.UK date input's three boxes (day, month, year)."""

    field_class = DateInputField


class TimelinePageFilter(TimelineFilter):
    """The timeline page's filters: dates in the NHS.UK date input. (The API keeps
    ?since=YYYY-MM-DD.)"""

    since = DateInputFilter(field_name="occurred_at", lookup_expr="date__gte", label="From date")
    until = DateInputFilter(field_name="occurred_at", lookup_expr="date__lte", label="To date")


ACTION_LABELS = {
    "agreement.drafted": "Agreement drafted",
    "agreement.changed": "Agreement changed",
    "agreement.signed": "Agreement signed",
    "agreement.agreed": "Agreement agreed by every partner",
    "settlement.entered": "Settlement entered",
    "settlement.proposed": "Settlement proposed",
    "settlement.accepted": "Settlement accepted",
    "settlement.disputed": "Settlement disputed",
    "settlement.escalated": "Dispute escalated to the region",
    "settlement.agreed": "Settlement agreed",
    "settlement.decided": "Settlement decided by the region",
    "settlement.set_aside": "Settlement set aside by the region",
    "settlement.withdrawn": "Settlement withdrawn",
    "settlement.superseded": "Settlement superseded",
    "transfer.proposed": "Transfer proposed",
    "transfer.agreed": "Transfer agreed",
    "transfer.refused": "Transfer refused",
    "transfer.applied": "Transfer applied",
    "submission.submitted": "Plan submitted",
    "submission.accepted": "Plan accepted",
    "submission.returned": "Plan returned",
    "submission.recalled": "Plan recalled",
    "return.submitted": "Monthly return submitted",
}


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action.replace("_", " ").replace(".", ": ").capitalize())


def _where(object_type: str, ids: list[int]) -> dict[int, str]:
    """Page addresses for objects of one kind, in one query."""
    from payments.models import (
        Agreement,
        ControlTotal,
        DiscretionaryRelease,
        Settlement,
        Transfer,
    )
    from plans.models import MonthlyReturn, Submission, SystemComment, SystemSubmission

    if object_type == "payments.agreement":
        rows = Agreement.objects.select_related("round", "system").in_bulk(ids)
        return {pk: reverse("agreement_detail", args=[a.round.slug, a.system.code, a.pk])
                for pk, a in rows.items()}  # fmt: skip
    if object_type == "payments.settlement":
        rows = Settlement.objects.select_related("agreement__round", "agreement__system")
        return {pk: reverse("settlement_detail", args=[s.agreement.round.slug,
                                                       s.agreement.system.code,
                                                       s.agreement_id, s.pk])
                for pk, s in rows.in_bulk(ids).items()}  # fmt: skip
    if object_type == "payments.transfer":
        rows = Transfer.objects.select_related("round", "system").in_bulk(ids)
        return {pk: reverse("control_totals", args=[t.round.slug, t.system.code])
                for pk, t in rows.items()}  # fmt: skip
    if object_type == "plans.submission":
        rows = Submission.objects.select_related("round", "organisation").in_bulk(ids)
        return {pk: reverse("plan_detail", args=[s.round.slug, s.organisation.ods_code])
                for pk, s in rows.items()}  # fmt: skip
    if object_type in ("plans.systemsubmission", "plans.systemcomment"):
        model = SystemSubmission if object_type == "plans.systemsubmission" else SystemComment
        via = "" if model is SystemSubmission else "submission__"
        rows = model.objects.select_related(f"{via}round", f"{via}system").in_bulk(ids)
        subs = {pk: (o if model is SystemSubmission else o.submission) for pk, o in rows.items()}
        return {pk: reverse("system_plan", args=[s.round.slug, s.system.code]) + "#region"
                for pk, s in subs.items()}  # fmt: skip
    if object_type == "payments.controltotal":
        rows = ControlTotal.objects.select_related("round", "organisation__system").in_bulk(ids)
        return {pk: reverse("control_totals", args=[c.round.slug, c.organisation.system.code])
                for pk, c in rows.items()}  # fmt: skip
    if object_type == "payments.discretionaryrelease":
        rows = DiscretionaryRelease.objects.select_related(
            "fund__round", "organisation__system").in_bulk(ids)  # fmt: skip
        return {pk: reverse("fund", args=[r.fund.round.slug, r.organisation.system.code])
                for pk, r in rows.items()}  # fmt: skip
    if object_type == "plans.monthlyreturn":
        rows = MonthlyReturn.objects.select_related("round", "organisation").in_bulk(ids)
        return {pk: reverse("return_detail", args=[r.round.slug, r.organisation.ods_code,
                                                   r.month])
                for pk, r in rows.items()}  # fmt: skip
    return {}


def object_urls(events) -> dict[int, str]:
    """Where each event's object can be seen (for kinds with a page): event id → address,
    one query per kind of object on the page rather than one per event."""
    wanted: dict[str, set[int]] = {}
    for event in events:
        if event.object_id.isdigit():
            wanted.setdefault(event.object_type, set()).add(int(event.object_id))
    found = {kind: _where(kind, sorted(ids)) for kind, ids in wanted.items()}
    urls = {
        event.pk: found[event.object_type][int(event.object_id)]
        for event in events
        if event.object_id.isdigit() and int(event.object_id) in found[event.object_type]
    }
    # A fund is a round's, not a system's: its events link to the fund page of the system
    # the event was recorded in.
    fund_events = [e for e in events if e.object_type == "payments.fund" and e.system_id]
    if fund_events:
        from accounts.models import System
        from payments.models import Fund

        funds = Fund.objects.select_related("round").in_bulk(
            {int(e.object_id) for e in fund_events if e.object_id.isdigit()}
        )
        codes = dict(
            System.objects.filter(pk__in={e.system_id for e in fund_events}).values_list(
                "pk", "code"
            )
        )
        for e in fund_events:
            fund = funds.get(int(e.object_id)) if e.object_id.isdigit() else None
            if fund is not None and e.system_id in codes:
                urls[e.pk] = reverse("fund", args=[fund.round.slug, codes[e.system_id]])
    return urls


def export_rows_list(events) -> list[dict[str, Any]]:
    """As export_rows, for events already fetched (a page)."""
    return [{**event_fields(e), "prev_hash": e.prev_hash, "hash": e.hash} for e in events]


def export_rows(events) -> list[dict[str, Any]]:
    """Every event as hashed, with its previous hash and hash, oldest first."""
    return [
        {**event_fields(e), "prev_hash": e.prev_hash, "hash": e.hash}
        for e in events.order_by("seq").iterator(chunk_size=2000)
    ]


def export_json(system: System, events) -> str:
    return json.dumps(
        {
            "chain": system_chain(system.pk),
            "system": system.code,
            "algorithm": ALGORITHM,
            "events": export_rows(events),
        },
        ensure_ascii=False,
        indent=1,
    )


CSV_FIELDS = ["chain", "seq", "occurred_at", "actor_id", "actor_label", "organisation_id",
              "system_id", "action", "object_type", "object_id", "before", "after", "payload",
              "reason", "request_id", "prev_hash", "hash"]  # fmt: skip


def export_csv(events) -> str:
    """The chain as CSV for reading and keeping: JSON fields (before, after, payload) as
    canonical JSON text. Text a spreadsheet would run as a formula gets a leading apostrophe,
    so recompute hashes from the JSON export (or strip it first)."""
    from openbook.exports import neutralise

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_FIELDS)
    for row in export_rows(events):
        values = []
        for name in CSV_FIELDS:
            value = row[name]
            if name in ("before", "after", "payload"):
                value = "" if value is None else canonical_json(value)
            values.append("" if value is None else neutralise(value))
        writer.writerow(values)
    return out.getvalue()
