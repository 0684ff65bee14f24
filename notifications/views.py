"""A person's notifications: the list, opening one, marking all read, choosing e-mails."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from notifications import selectors, services
from notifications.forms import PreferencesForm


@login_required
def notification_list(request):
    notifications = selectors.notifications_for(request.user)
    page = Paginator(notifications, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/list.html",
        {"page": page, "unread": notifications.filter(read_at__isnull=True).count()},
    )


@login_required
def notification_open(request, pk):
    """Follow a notification to what it is about, marking it read."""
    notification = selectors.notification_get(request.user, pk)
    url = services.notification_open(actor=request.user, notification=notification)
    if not url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}):
        url = "/notifications/"
    return redirect(url)


@login_required
@require_POST
def notifications_read(request):
    count = services.notifications_read_all(actor=request.user)
    messages.success(request, f"Marked {count} notification{'s' if count != 1 else ''} as read.")
    return redirect("notification_list")


@login_required
@require_http_methods(["GET", "POST"])
def notification_settings(request):
    form = PreferencesForm(
        request.POST if request.method == "POST" else None,
        initial_choices=selectors.preferences_of(request.user),
    )
    if request.method == "POST" and form.is_valid():
        services.preferences_set(actor=request.user, choices=form.cleaned_data)
        messages.success(request, "Your e-mail choices are saved.")
        return redirect("notification_settings")
    return render(
        request,
        "notifications/settings.html",
        {"form": form},
        status=422 if request.method == "POST" else 200,
    )
