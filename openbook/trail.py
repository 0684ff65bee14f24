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
from django.urls import NoReverseMatch, reverse

from accounts import policy
from accounts.models import Organisation
from openbook.audit import GENESIS_HASH, audit_verify_chain, canonical_json, event_fields
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


def object_url(event: AuditEvent) -> str | None:
    """Where the event's object can be seen, for the kinds with a page."""
    from payments.models import Agreement, Settlement, Transfer
    from plans.models import MonthlyReturn, Submission

    try:
        pk = int(event.object_id)
    except (TypeError, ValueError):
        return None
    try:
        if event.object_type == "payments.agreement":
            a = Agreement.objects.select_related("round", "system").filter(pk=pk).first()
            return a and reverse("agreement_detail", args=[a.round.slug, a.system.code, a.pk])
        if event.object_type == "payments.settlement":
            s = Settlement.objects.select_related("agreement__round", "agreement__system")
            s = s.filter(pk=pk).first()
            return s and reverse("settlement_detail", args=[
                s.agreement.round.slug, s.agreement.system.code, s.agreement_id, s.pk])  # fmt: skip
        if event.object_type == "payments.transfer":
            t = Transfer.objects.select_related("round", "system").filter(pk=pk).first()
            return t and reverse("control_totals", args=[t.round.slug, t.system.code])
        if event.object_type == "plans.submission":
            sub = Submission.objects.select_related("round", "organisation").filter(pk=pk).first()
            return sub and reverse("plan_detail", args=[sub.round.slug, sub.organisation.ods_code])
        if event.object_type == "plans.monthlyreturn":
            r = MonthlyReturn.objects.select_related("round", "organisation").filter(pk=pk).first()
            return r and reverse("return_detail", args=[r.round.slug, r.organisation.ods_code,
                                                        r.month])  # fmt: skip
    except NoReverseMatch:
        return None
    return None


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
