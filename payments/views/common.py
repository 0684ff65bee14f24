"""What the money pages share: the round and system a page is about, found through the
selectors (an outsider gets 404), and the addresses pages send people back to."""

from __future__ import annotations

from django.urls import reverse

from plans.views.common import round_and_system

__all__ = ["agreement_url", "round_and_system"]


def agreement_url(agreement) -> str:
    return reverse(
        "agreement_detail", args=[agreement.round.slug, agreement.system.code, agreement.pk]
    )
