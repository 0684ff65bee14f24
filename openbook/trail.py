"""A system's audit trail, shown: its events through a selector over accounts.policy, the
filters people use on the timeline, where each event's object lives, and the chain exported
with everything needed to check it independently."""

from __future__ import annotations

import csv
import io
import json
from typing import TYPE_CHECKING, Any, NamedTuple

import django_filters
from django.db.models import QuerySet
from django.http import Http404
from django.urls import reverse

from accounts import policy
from accounts.models import Organisation
from openbook.audit import (
    GENESIS_HASH,
    audit_verify_chain_cached,
    canonical_json,
    event_fields,
)
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
    """The chain checked, re-hashing only events added since the last good check."""
    audit_events_for(user, system)  # the same check
    return audit_verify_chain_cached(system_chain(system.pk))


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
    "transfer.agreed_by_party": "Transfer agreed by a party",
    "transfer.agreed": "Transfer agreed",
    "transfer.refused": "Transfer refused",
    "transfer.withdrawn": "Transfer withdrawn",
    "transfer.applied": "Transfer applied to the control totals",
    "control_total.set": "Control total set",
    "submission.started": "Plan started",
    "submission.submitted": "Plan submitted",
    "submission.accepted": "Plan accepted",
    "submission.returned": "Plan returned",
    "submission.recalled": "Plan recalled",
    "draft.saved": "Draft saved",
    "draft.narrative_saved": "Narrative saved",
    "comment.added": "Comment added",
    "system_plan.submitted": "System plan sent to the region",
    "system_plan.approved": "System plan approved by the region",
    "system_plan.returned": "System plan returned by the region",
    "system_plan.comment_added": "The region commented on the system plan",
    "return.started": "Monthly return started",
    "return.saved": "Monthly return saved",
    "return.submitted": "Monthly return submitted",
    "fund.rules_set": "Fund rules set",
    "fund.allocation_set": "Fund allocation set",
    "fund.system_share_chosen": "System share of the fund chosen",
    "fund.release_proposed": "Fund release proposed to the region",
    "fund.release_agreed": "Fund release agreed by the region",
    "fund.release_refused": "Fund release refused by the region",
    "fund.release_withdrawn": "Fund release withdrawn",
    "recalculation.national_requested": "Every system's figures recalculated",
    "round.created": "Planning round opened",
    "round.changed": "Planning round changed",
    "template.loaded": "Plan template loaded",
    "template.help_updated": "Template guidance changed",
    "membership.created": "Role given",
    "membership.changed": "Role changed",
    "membership.deleted": "Role taken away",
    "token.created": "API token created",
    "token.revoked": "API token revoked",
    "auth.login": "Signed in",
    "auth.logout": "Signed out",
    "auth.login_failed": "Sign-in refused",
}


def action_label(action: str) -> str:
    if action in ACTION_LABELS:
        return ACTION_LABELS[action]
    if action.endswith(".changed_in_admin"):  # a model name: "controltotal.changed_in_admin"
        return "Changed by a platform administrator"
    return action.replace("_", " ").replace(".", ": ").capitalize()


class Link(NamedTuple):
    """Where an event's object is seen, and its name as that page gives it."""

    url: str
    name: str


def _in_round(round_name: str, name: str) -> str:
    return f"{name}, {round_name}"


def _where(object_type: str, ids: list[int]) -> dict[int, Link]:
    """Pages and names for objects of one kind, in one query (two for transfers)."""
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
        return {pk: Link(reverse("agreement_detail", args=[a.round.slug, a.system.code, a.pk]),
                         a.name)
                for pk, a in rows.items()}  # fmt: skip
    if object_type == "payments.settlement":
        rows = Settlement.objects.select_related("agreement__round", "agreement__system")
        return {pk: Link(reverse("settlement_detail", args=[s.agreement.round.slug,
                                                            s.agreement.system.code,
                                                            s.agreement_id, s.pk]),
                         f"{s.agreement.name}: {s.get_period_display()} settlement")
                for pk, s in rows.in_bulk(ids).items()}  # fmt: skip
    if object_type == "payments.transfer":
        rows = Transfer.objects.select_related("round", "system").prefetch_related(
            "lines__organisation").in_bulk(ids)  # fmt: skip
        return {pk: Link(reverse("control_totals", args=[t.round.slug, t.system.code]),
                         "Transfer between " + _and(sorted(line.organisation.name
                                                           for line in t.lines.all())))
                for pk, t in rows.items()}  # fmt: skip
    if object_type == "plans.submission":
        rows = Submission.objects.select_related("round", "organisation").in_bulk(ids)
        return {pk: Link(reverse("plan_detail", args=[s.round.slug, s.organisation.ods_code]),
                         _in_round(s.round.name, s.organisation.name))
                for pk, s in rows.items()}  # fmt: skip
    if object_type in ("plans.systemsubmission", "plans.systemcomment"):
        model = SystemSubmission if object_type == "plans.systemsubmission" else SystemComment
        via = "" if model is SystemSubmission else "submission__"
        rows = model.objects.select_related(f"{via}round", f"{via}system").in_bulk(ids)
        subs = {pk: (o if model is SystemSubmission else o.submission) for pk, o in rows.items()}
        return {pk: Link(reverse("system_plan", args=[s.round.slug, s.system.code]) + "#region",
                         _in_round(s.round.name, f"{s.system.name}: system plan"))
                for pk, s in subs.items()}  # fmt: skip
    if object_type == "payments.controltotal":
        rows = ControlTotal.objects.select_related("round", "organisation__system").in_bulk(ids)
        return {pk: Link(reverse("control_totals", args=[c.round.slug,
                                                         c.organisation.system.code]),
                         f"{c.organisation.name}: control total")
                for pk, c in rows.items()}  # fmt: skip
    if object_type == "payments.discretionaryrelease":
        rows = DiscretionaryRelease.objects.select_related(
            "fund__round", "organisation__system").in_bulk(ids)  # fmt: skip
        return {pk: Link(reverse("fund", args=[r.fund.round.slug, r.organisation.system.code]),
                         f"{r.fund.name}: Q{r.quarter} release to {r.organisation.name}")
                for pk, r in rows.items()}  # fmt: skip
    if object_type == "plans.monthlyreturn":
        rows = MonthlyReturn.objects.select_related("round", "organisation").in_bulk(ids)
        return {pk: Link(reverse("return_detail", args=[r.round.slug, r.organisation.ods_code,
                                                        r.month]),
                         f"{r.organisation.name}: {r.month_label} finance return")
                for pk, r in rows.items()}  # fmt: skip
    return {}


def _and(names: list[str]) -> str:
    return " and ".join(names) if len(names) < 3 else ", ".join(names[:-1]) + " and " + names[-1]


def object_links(events) -> dict[int, Link]:
    """Where each event's object can be seen and what it is called there (for kinds with a
    page): event id → link, one query per kind of object on the page rather than one per
    event."""
    wanted: dict[str, set[int]] = {}
    for event in events:
        if event.object_id.isdigit():
            wanted.setdefault(event.object_type, set()).add(int(event.object_id))
    found = {kind: _where(kind, sorted(ids)) for kind, ids in wanted.items()}
    links = {
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
                links[e.pk] = Link(
                    reverse("fund", args=[fund.round.slug, codes[e.system_id]]),
                    _in_round(fund.round.name, fund.name),
                )
    return links


LONG_LIST = 12  # longer lists are counted on the page; the exports hold every entry


def _text(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return str(value)


def _flatten(label: str, value: Any, out: list[tuple[str, str]]) -> None:
    if isinstance(value, dict):
        if not value:
            out.append((label, "none"))
        for key, inner in value.items():
            name = str(key) if key.isupper() else str(key).replace("_", " ")
            _flatten(f"{label} › {name}" if label else name[:1].upper() + name[1:], inner, out)
    elif isinstance(value, list):
        if len(value) > LONG_LIST:
            out.append((label, f"{len(value)} entries (every one is in the JSON and CSV "
                               "downloads)"))  # fmt: skip
        elif all(not isinstance(v, dict | list) for v in value):
            out.append((label, ", ".join(_text(v) for v in value) or "none"))
        else:
            for n, inner in enumerate(value, start=1):
                _flatten(f"{label} {n}", inner, out)
    else:
        out.append((label, _text(value)))


def event_details(event: AuditEvent) -> list[tuple[str, str]]:
    """An event's before, after and other details as (label, text) rows for people: keys in
    words, nested figures by path ("After › flows › ZB1"), long lists counted."""
    rows: list[tuple[str, str]] = []
    for label, value in (("Before", event.before), ("After", event.after),
                         ("", event.payload)):  # fmt: skip
        if value is None:
            continue
        if isinstance(value, dict):
            _flatten(label, value, rows)  # a payload's keys are its labels
        else:
            _flatten(label or "Details", value, rows)
    return rows


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
