"""The isolation matrix's parts every table shares: who is who, a route and its expected
statuses.

The isolation matrix: every route × every kind of person → the status they must get.

Every URL the platform serves appears in ROUTES (or in EXEMPT, with the reason). Each later
capability adds its routes here; test_isolation_matrix fails if a route is missing.

Expectations are written per actor with a default for the rest, so a row reads as the policy:
"a partner in the same system sees it; an outsider from another system gets 404".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# Who is who (see tests/conftest.py): same-system people, then the ones who must see nothing.
SYSTEM_S1 = ["member", "approver", "viewer", "partner", "lead", "system_viewer"]
REGION_R1 = ["reviewer"]
OUTSIDERS = ["outsider", "other_lead", "other_reviewer"]
SIGNED_IN = [*SYSTEM_S1, *REGION_R1, *OUTSIDERS, "admin"]


@dataclass(frozen=True)
class Route:
    """One (URL pattern, method) with the status each actor must get."""

    name: str  # URL pattern name, as in reverse()
    method: str
    url: Callable[[Any], str]  # world → URL
    expect: dict[str, int]
    default: int
    data: Callable[[Any], dict] | None = None  # world → request body
    setup: Callable[[Any], None] | None = None
    api: bool = False
    notes: str = ""
    tags: tuple[str, ...] = field(default_factory=tuple)

    def status_for(self, actor: str) -> int:
        return self.expect.get(actor, self.default)


def _every_choice(frequency: str) -> dict[str, str]:
    from notifications.models import Kind

    return {kind: frequency for kind in Kind.values}


def _lead_notification() -> int:
    from notifications.models import Notification

    return Notification.objects.get(recipient__email="lead@example.nhs.uk").pk


def each(actors: list[str], status: int) -> dict[str, int]:
    return {a: status for a in actors}


LOGIN_REDIRECT = 302
API_ANONYMOUS = 401


# Pages visible to everybody signed in.
_page_for_everyone = {"anonymous": LOGIN_REDIRECT}
# An object in system S1: its people, the region's reviewers and administrators see it.
_s1_object_page = {"anonymous": LOGIN_REDIRECT, **each(OUTSIDERS, 404)}
_s1_object_api = {"anonymous": API_ANONYMOUS, **each(OUTSIDERS, 404)}
