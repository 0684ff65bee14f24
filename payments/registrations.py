"""What the money app tells the platform (openbook/registry.py): its audit actions, the pages
its audited objects are seen on, and what waits on a person."""

from __future__ import annotations

from django.urls import reverse

from openbook import registry
from openbook.registry import Link

KINDS = {
    "agreement": "Agreements and signatures",
    "settlement": "Settlements and decisions",
    "transfer": "Transfers",
    "control_total": "Control totals",
    "fund": "The fund",
}
ACTIONS = {
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
    "fund.rules_set": "Fund rules set",
    "fund.allocation_set": "Fund allocation set",
    "fund.system_share_chosen": "System share of the fund chosen",
    "fund.release_proposed": "Fund release proposed to the region",
    "fund.release_agreed": "Fund release agreed by the region",
    "fund.release_refused": "Fund release refused by the region",
    "fund.release_withdrawn": "Fund release withdrawn",
    "recalculation.national_requested": "Every system's figures recalculated",
}


def _and(names: list[str]) -> str:
    return " and ".join(names) if len(names) < 3 else ", ".join(names[:-1]) + " and " + names[-1]


def _fund_links(events) -> dict[int, Link]:
    """A fund is a round's, not a system's: its events link to the fund page of the system the
    event was recorded in."""
    from accounts.models import System
    from payments.models import Fund

    events = [e for e in events if e.system_id]
    funds = Fund.objects.select_related("round").in_bulk({int(e.object_id) for e in events})
    codes = dict(
        System.objects.filter(pk__in={e.system_id for e in events}).values_list("pk", "code")
    )
    return {
        e.pk: Link(
            reverse("fund", args=[funds[int(e.object_id)].round.slug, codes[e.system_id]]),
            f"{funds[int(e.object_id)].name}, {funds[int(e.object_id)].round.name}",
        )
        for e in events
        if int(e.object_id) in funds and e.system_id in codes
    }


def register() -> None:
    from payments import selectors
    from payments.models import (
        Agreement,
        ControlTotal,
        DiscretionaryRelease,
        Settlement,
        Transfer,
    )

    registry.register_actions(KINDS, ACTIONS)
    registry.register_object(
        "payments.agreement",
        lambda: Agreement.objects.select_related("round", "system"),
        lambda a: a.name,
    )
    registry.register_object(
        "payments.settlement",
        lambda: Settlement.objects.select_related("agreement__round", "agreement__system"),
        lambda s: f"{s.agreement.name}: {s.get_period_display()} settlement",
    )
    registry.register_object(
        "payments.transfer",
        lambda: Transfer.objects.select_related("round", "system").prefetch_related(
            "lines__organisation"
        ),
        lambda t: "Transfer between " + _and(sorted(ln.organisation.name for ln in t.lines.all())),
    )
    registry.register_object(
        "payments.controltotal",
        lambda: ControlTotal.objects.select_related("round", "organisation__system"),
        lambda c: f"{c.organisation.name}: control total",
    )
    registry.register_object(
        "payments.discretionaryrelease",
        lambda: DiscretionaryRelease.objects.select_related("fund__round", "organisation__system"),
        lambda r: f"{r.fund.name}: Q{r.quarter} release to {r.organisation.name}",
    )
    registry.register_linker("payments.fund", _fund_links)
    registry.register_attention(selectors.attention_for)
