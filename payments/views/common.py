"""What the money pages share: the round and system a page is about, found through the
selectors (an outsider gets 404), and the addresses pages send people back to."""

from __future__ import annotations

from decimal import Decimal

from django.urls import reverse

from openbook import numbers
from payments.calculations.mechanisms import FIGURE_LABELS
from plans.views.common import round_and_system

__all__ = ["agreement_url", "figure_rows", "round_and_system"]


def agreement_url(agreement) -> str:
    return reverse(
        "agreement_detail", args=[agreement.round.slug, agreement.system.code, agreement.pk]
    )


def figure_rows(figures: dict[str, Decimal | None]) -> list[tuple[str, str]]:
    """A mechanism's named figures as (label, the figure with its unit), those given only."""
    rows = []
    for name, value in figures.items():
        if value is None:
            continue
        if name.endswith("_gbp"):
            text = numbers.amount(value, numbers.GBP)
        elif name.endswith("_percent"):
            text = numbers.figure(value, numbers.PERCENT, places=2)
        else:
            text = f"{numbers.exact(value)} people"
        rows.append((FIGURE_LABELS[name], text))
    return rows
