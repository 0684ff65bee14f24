"""The matrix's rows for webhooks: the system's lead only. Its other people (and the region's
reviewers and administrators, who may see the system) get 403; outsiders 404."""

from __future__ import annotations

from tests.isolation.common import LOGIN_REDIRECT, Route
from tests.isolation.plans import _system_api

_lead_page = {"anonymous": LOGIN_REDIRECT, "outsider": 404, "other_lead": 404,
              "other_reviewer": 404}  # fmt: skip
_HOOK = "https://finance.example.nhs.uk/openbook"


def _with_webhook(world) -> None:
    """A webhook of S1's, with one delivery already tried (so it can be sent again)."""
    from webhooks.models import Delivery
    from webhooks.services import endpoint_create, endpoint_ping

    endpoint = endpoint_create(actor=world.people["lead"], system=world.s1, url=_HOOK,
                               events=["transfer.applied"])  # fmt: skip
    delivery = endpoint_ping(actor=world.people["lead"], endpoint=endpoint)
    Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.FAILED, attempts=1)


def _hook(world, rest: str = "", api: bool = False) -> str:
    from webhooks.models import Endpoint

    base = "/api/v1" if api else ""
    return f"{base}/systems/{world.s1.code}/webhooks/{Endpoint.objects.get().pk}/{rest}"


def _delivery() -> str:
    from webhooks.models import Delivery

    return Delivery.objects.get().webhook_id


_FORM = {"url": _HOOK, "events": ["plan.submitted"], "description": "Ledger", "active": "on"}

ROUTES: list[Route] = [
    Route("webhook_list", "GET", lambda w: f"/systems/{w.s1.code}/webhooks/",
          {**_lead_page, "lead": 200}, 403, setup=_with_webhook,
          notes="a system's webhooks are its lead's: not its partners', region's or admins'"),
    Route("webhook_list", "POST", lambda w: f"/systems/{w.s1.code}/webhooks/",
          {**_lead_page, "lead": 302}, 403, data=lambda w: _FORM),
    Route("webhook_detail", "GET", lambda w: _hook(w), {**_lead_page, "lead": 200}, 403,
          setup=_with_webhook),
    Route("webhook_detail", "POST", lambda w: _hook(w), {**_lead_page, "lead": 302}, 403,
          data=lambda w: _FORM, setup=_with_webhook),
    Route("webhook_ping", "POST", lambda w: _hook(w, "ping/"), {**_lead_page, "lead": 302},
          403, setup=_with_webhook),
    Route("webhook_rotate_secret", "POST", lambda w: _hook(w, "rotate-secret/"),
          {**_lead_page, "lead": 302}, 403, setup=_with_webhook),
    Route("webhook_remove", "POST", lambda w: _hook(w, "remove/"), {**_lead_page, "lead": 302},
          403, setup=_with_webhook),
    Route("webhook_resend", "POST", lambda w: _hook(w, f"deliveries/{_delivery()}/resend/"),
          {**_lead_page, "lead": 302}, 403, setup=_with_webhook),
    Route("api_webhook_list", "GET", lambda w: f"/api/v1/systems/{w.s1.code}/webhooks/",
          {**_system_api, "lead": 200}, 403, api=True, setup=_with_webhook),
    Route("api_webhook_list", "POST", lambda w: f"/api/v1/systems/{w.s1.code}/webhooks/",
          {**_system_api, "lead": 201}, 403, api=True,
          data=lambda w: {"url": _HOOK, "events": ["transfer.applied", "plan.accepted"]}),
    Route("api_webhook_detail", "GET", lambda w: _hook(w, api=True),
          {**_system_api, "lead": 200}, 403, api=True, setup=_with_webhook),
    Route("api_webhook_detail", "PATCH", lambda w: _hook(w, api=True),
          {**_system_api, "lead": 200}, 403, api=True, setup=_with_webhook,
          data=lambda w: {"active": False}),
    Route("api_webhook_detail", "DELETE", lambda w: _hook(w, api=True),
          {**_system_api, "lead": 204}, 403, api=True, setup=_with_webhook),
    Route("api_webhook_rotate_secret", "POST", lambda w: _hook(w, "rotate-secret/", api=True),
          {**_system_api, "lead": 200}, 403, api=True, setup=_with_webhook),
    Route("api_webhook_ping", "POST", lambda w: _hook(w, "ping/", api=True),
          {**_system_api, "lead": 202}, 403, api=True, setup=_with_webhook),
    Route("api_webhook_deliveries", "GET", lambda w: _hook(w, "deliveries/", api=True),
          {**_system_api, "lead": 200}, 403, api=True, setup=_with_webhook),
    Route("api_webhook_resend", "POST",
          lambda w: _hook(w, f"deliveries/{_delivery()}/resend/", api=True),
          {**_system_api, "lead": 202}, 403, api=True, setup=_with_webhook),
]  # fmt: skip
