"""Platform pages: the home page (what waits on a person, from every app), the API reference
and a system's audit trail."""

from csp.decorators import csp_update
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone
from django.utils.decorators import method_decorator
from drf_spectacular.views import SpectacularRedocView

from accounts import selectors
from accounts.selectors import system_get
from openbook import registry, trail
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
        },
    )


@login_required
def audit_export(request, code, fmt):
    from django.http import Http404, HttpResponse

    system = system_get(request.user, code)
    events = trail.audit_events_for(request.user, system)
    if fmt == "json":
        response = HttpResponse(trail.export_json(system, events), content_type="application/json")
    elif fmt == "csv":
        response = HttpResponse(csv_content(trail.export_csv(events)), content_type=CSV_TYPE)
    else:
        raise Http404("No such format.")
    response["Content-Disposition"] = f'attachment; filename="audit-{system.code}.{fmt}"'
    return response
