"""A person's sessions page: where they are signed in, and signing out of the others."""

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from accounts import sessions


@login_required
@require_GET
def session_list(request):
    current = request.session.session_key
    rows = sessions.sessions_of(request.user)
    return render(
        request,
        "accounts/session_list.html",
        {
            "sessions": [(row, row.session_key == current) for row in rows],
            "others": sum(row.session_key != current for row in rows),
        },
    )


@login_required
@require_POST
def session_end(request, pk: int):
    row = sessions.session_get(request.user, pk)
    if row.session_key == request.session.session_key:
        logout(request)  # this browser: an ordinary sign-out
        return redirect("login")
    sessions.session_end(actor=request.user, user_session=row)
    messages.success(request, f"{row.device} has been signed out.")
    return redirect("session_list")


@login_required
@require_POST
def sessions_end_others(request):
    ended = sessions.sessions_end_others(
        actor=request.user, keep_session_key=request.session.session_key
    )
    if ended:
        messages.success(
            request, f"Signed out of {ended} other session{'s' if ended != 1 else ''}."
        )
    else:
        messages.info(request, "You were not signed in anywhere else.")
    return redirect("session_list")
