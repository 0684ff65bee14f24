"""What the money pages share: the round and system a page is about, found through the
selectors (an outsider gets 404), and the addresses pages send people back to."""

from __future__ import annotations

from django.urls import reverse

from accounts.selectors import system_get
from plans import selectors as plan_selectors


def round_and_system(request, slug: str, code: str):
    return plan_selectors.round_get(request.user, slug), system_get(request.user, code)


def agreement_url(agreement) -> str:
    return reverse(
        "agreement_detail", args=[agreement.round.slug, agreement.system.code, agreement.pk]
    )
