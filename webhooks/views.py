"""A system lead's webhooks pages: the list and registering one, then each one's settings,
secret, test event and the deliveries with every attempt."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from openbook.refusals import attempt
from webhooks import selectors, services
from webhooks.forms import EndpointForm
from webhooks.models import SUBSCRIBABLE

EVENTS_HELP = [(e.value, e.label) for e in SUBSCRIBABLE]


def _wait(seconds: int) -> str:
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size and seconds % size == 0:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"


def _terms() -> dict:
    """The delivery terms as configured, for the page's explanation."""
    return {"timeout": settings.WEBHOOKS_TIMEOUT_SECONDS,
            "waits": [_wait(s) for s in services.retry_waits()]}  # fmt: skip


@login_required
@require_http_methods(["GET", "POST"])
def webhook_list(request, code):
    system = selectors.system_for_webhooks(request.user, code)
    form = EndpointForm(request.POST or None, initial={"active": True})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with attempt(form=form) as call:
            endpoint = services.endpoint_create(actor=request.user, system=system, url=data["url"],
                                                events=data["events"],
                                                description=data["description"])  # fmt: skip
        if call.ok:
            messages.success(request, "The webhook is registered. Give your finance system the "
                             "signing secret below, then send a test event.")  # fmt: skip
            return redirect("webhook_detail", system.code, endpoint.pk)
    return render(
        request,
        "webhooks/list.html",
        {"system": system, "endpoints": selectors.endpoints_for(request.user, system),
         "form": form, "limit": services.MAX_ENDPOINTS, **_terms()},
        status=422 if request.method == "POST" else 200,
    )  # fmt: skip


@login_required
@require_http_methods(["GET", "POST"])
def webhook_detail(request, code, pk):
    system = selectors.system_for_webhooks(request.user, code)
    endpoint = selectors.endpoint_get(request.user, system, pk)
    initial = {"url": endpoint.url, "description": endpoint.description,
               "events": list(endpoint.events), "active": endpoint.is_active}  # fmt: skip
    form = EndpointForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with attempt(form=form) as call:
            services.endpoint_update(actor=request.user, endpoint=endpoint, url=data["url"],
                                     events=data["events"], description=data["description"],
                                     is_active=data["active"],
                                     expected_revision=data["revision"])  # fmt: skip
        if call.ok:
            messages.success(request, "The webhook's settings are saved.")
            return redirect("webhook_detail", system.code, endpoint.pk)
    deliveries = selectors.deliveries_for(request.user, endpoint)
    page = Paginator(deliveries, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "webhooks/detail.html",
        {"system": system, "endpoint": endpoint, "form": form, "page": page, **_terms()},
        status=422 if request.method == "POST" else 200,
    )


def _act(request, code, pk, do, done: str):
    system = selectors.system_for_webhooks(request.user, code)
    endpoint = selectors.endpoint_get(request.user, system, pk)
    with attempt(request) as call:
        do(endpoint)
    if call.ok:
        messages.success(request, done)
    return redirect("webhook_detail", system.code, endpoint.pk)


@login_required
@require_POST
def webhook_ping(request, code, pk):
    return _act(request, code, pk,
                lambda e: services.endpoint_ping(actor=request.user, endpoint=e),
                "A test event is on its way: it is listed under Deliveries below.")  # fmt: skip


@login_required
@require_POST
def webhook_rotate_secret(request, code, pk):
    return _act(request, code, pk,
                lambda e: services.endpoint_rotate_secret(actor=request.user, endpoint=e),
                "A new signing secret is in use from the next delivery on: give it to your "
                "finance system now.")  # fmt: skip


@login_required
@require_POST
def webhook_remove(request, code, pk):
    system = selectors.system_for_webhooks(request.user, code)
    endpoint = selectors.endpoint_get(request.user, system, pk)
    services.endpoint_remove(actor=request.user, endpoint=endpoint)
    messages.success(request, f"The webhook to {endpoint.url} is removed.")
    return redirect("webhook_list", system.code)


@login_required
@require_POST
def webhook_resend(request, code, pk, delivery_id):
    def resend(endpoint):
        delivery = selectors.delivery_get(request.user, endpoint, delivery_id)
        services.delivery_resend(actor=request.user, delivery=delivery)

    return _act(request, code, pk, resend, "Sent again: the new attempt is listed below.")
