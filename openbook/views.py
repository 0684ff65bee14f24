"""Platform pages: the home page (what waits on a person, from every app), the API reference
and a system's audit trail."""

import json

from csp.decorators import csp_update
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone
from django.utils.decorators import method_decorator
from drf_spectacular.views import SpectacularRedocView

from accounts import policy, selectors
from accounts.rowsecurity import consistent_snapshot
from accounts.selectors import system_get
from openbook import checkpoints, registry, trail
from openbook.exports import CSV_TYPE, csv_content


def by_urgency(items: list[dict], now=None) -> list[dict]:
    """Dated items first, the soonest (or most overdue) at the top, each with its days left;
    then the undated ones in the order the workflows gave them."""
    now = now or timezone.now()
    for item in items:
        due = item.get("due")
        if due is not None:
            days = (timezone.localdate(due) - timezone.localdate(now)).days
            item["days_left"] = max(days, 0)
            item["days_ago"] = max(-days, 0)
            item["overdue"] = due < now
    dated = sorted((i for i in items if i.get("due")), key=lambda i: i["due"])
    return dated + [i for i in items if not i.get("due")]


@login_required
def home(request):
    memberships = list(selectors.memberships_of(request.user))
    return render(
        request,
        "openbook/home.html",
        {
            # By system, so the page can gather each system's links once.
            "organisation_memberships": sorted(
                (m for m in memberships if m.organisation_id),
                key=lambda m: (m.organisation.system.name, m.organisation.name),
            ),
            "system_memberships": [m for m in memberships if m.system_id],
            "region_memberships": [m for m in memberships if m.region_id],
            "round": registry.current("round", request.user),
            # What every app registered as waiting on people (openbook/registry.py).
            "attention": by_urgency(registry.attention_for(request.user)),
            "can_import_people": policy.can_import_people(request.user),
        },
    )


@method_decorator(
    # Redoc styles itself with inline <style> and runs its search in a blob: worker; this
    # page alone is allowed both. Everything else keeps the strict policy.
    csp_update({"style-src": ["'unsafe-inline'"], "worker-src": ["blob:"]}),
    name="get",
)
class ApiDocsView(SpectacularRedocView):
    """The API reference, rendered by Redoc served from our own origin."""

    template_name = "openbook/api_docs.html"


# --- a system's audit trail --------------------------------------------------------------------


@consistent_snapshot  # the chain is checked on the page
@login_required
def audit_timeline(request, code):
    from django.core.paginator import Paginator

    system = system_get(request.user, code)
    events = trail.audit_events_for(request.user, system).select_related("actor", "organisation")
    filtered = trail.TimelinePageFilter(request.GET or None, queryset=events, system=system)
    rows = filtered.qs.order_by("-seq") if filtered.is_bound and filtered.is_valid() else (
        events.order_by("-seq"))  # fmt: skip
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    links = trail.object_links(page.object_list)
    for event in page:
        event.link = links.get(event.pk)
        event.kind_label = registry.KIND_LABELS.get(trail.kind_of(event.action), "")
        event.label = trail.action_label(event.action)
        event.details = trail.event_details(event)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "openbook/audit_timeline.html",
        {
            "system": system,
            "filter": filtered,
            "page": page,
            "query": query.urlencode(),
            "report": trail.verify(request.user, system),
            "algorithm": trail.ALGORITHM,
            "checkpoints": trail.checkpoints_kept(request.user, system)[:10],
            "key_id": checkpoints.key_id_of(checkpoints.public_key()),
        },
    )


@consistent_snapshot
@login_required
def audit_export(request, code, fmt):
    from django.http import Http404, HttpResponse

    system = system_get(request.user, code)
    events = trail.audit_events_for(request.user, system)
    if fmt not in ("json", "csv"):
        raise Http404("No such format.")
    checkpoint = trail.checkpoint_now(request.user, system)
    if fmt == "json":
        body = trail.export_json(system, events, checkpoint)
        response = HttpResponse(body, content_type="application/json")
    else:
        response = HttpResponse(csv_content(trail.export_csv(events)), content_type=CSV_TYPE)
    if checkpoint is not None:
        # The CSV's columns are the events'; its signed head travels in a header.
        response[CHECKPOINT_HEADER] = json.dumps(_signed_part(checkpoint), separators=(",", ":"))
    response["Content-Disposition"] = f'attachment; filename="audit-{system.code}.{fmt}"'
    return response


CHECKPOINT_HEADER = "Openbook-Audit-Checkpoint"


def _signed_part(checkpoint: dict) -> dict:
    return {k: checkpoint[k] for k in (*checkpoints.SIGNED_FIELDS, "signature")}


def _json_download(data: dict, filename: str):
    from django.http import HttpResponse

    response = HttpResponse(json.dumps(data, indent=1), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@consistent_snapshot
@login_required
def audit_checkpoint(request, code):
    """The chain's head now, signed: a file for a partner to keep."""
    from django.http import HttpResponse

    system = system_get(request.user, code)
    signed = trail.checkpoint_now(request.user, system)
    if signed is None:
        return HttpResponse("The chain is empty or does not verify, so its head is not signed.",
                            status=409, content_type="text/plain; charset=utf-8")  # fmt: skip
    return _json_download(signed, f"audit-{system.code}-checkpoint-{signed['seq']}.json")


@login_required
def audit_checkpoint_kept(request, code, pk):
    """One of the nightly checkpoints, as it was issued."""
    from django.shortcuts import get_object_or_404

    system = system_get(request.user, code)
    kept = get_object_or_404(trail.checkpoints_kept(request.user, system), pk=pk)
    return _json_download(checkpoints.document(kept),
                          f"audit-{system.code}-checkpoint-{kept.seq}.json")  # fmt: skip


def audit_signing_key(request):
    """The public key that checks checkpoints: public, so anyone holding one can check it."""
    from django.http import HttpResponse

    return HttpResponse(checkpoints.public_key_pem(), content_type="application/x-pem-file")
