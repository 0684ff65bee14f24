"""A person's signed-in browsers: recorded at sign-in, noted as seen at most once a minute,
listed on their sessions page, and ended one at a time or all but this one.

Django's sessions (cached_db) know nothing of whose they are until decoded, so each sign-in
also writes a UserSession row. Ending one deletes the Django session through the session
store (its cache entry and its row): that browser's next request is anonymous.
"""

from __future__ import annotations

from datetime import timedelta
from importlib import import_module
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from accounts.models import UserSession
from openbook.audit import audit_record
from openbook.client_address import client_address

if TYPE_CHECKING:
    from accounts.models import User

# In the session's own data: which UserSession row it is. Kept when Django gives the session a
# new key (a password change does), so the row follows the session rather than being lost.
ROW_KEY = "_openbook_session_row"
TOUCH_SECONDS = 60


def _touch_key(session_key: str) -> str:
    # A hash, so the cache's key names never spell a session key.
    return "session-seen:" + salted_hmac("session-seen", session_key).hexdigest()[:32]


def session_started(request, user: User) -> None:
    """At sign-in (accounts/receivers.py): record the browser against the person."""
    session = getattr(request, "session", None)
    if session is None or not session.session_key:
        return
    if previous := session.get(ROW_KEY):  # signing in again in the same browser
        UserSession.objects.filter(pk=previous, user=user).delete()
    row = UserSession.objects.create(
        user=user,
        session_key=session.session_key,
        user_agent=request.headers.get("User-Agent", "")[:300],
        client_address=client_address(request)[:45],
    )
    session[ROW_KEY] = row.pk
    cache.set(_touch_key(row.session_key), 1, TOUCH_SECONDS)


def session_signed_out(request) -> None:
    """At sign-out: the row goes with the session."""
    session = getattr(request, "session", None)
    if session is not None and session.session_key:
        UserSession.objects.filter(session_key=session.session_key).delete()


def session_seen(request) -> None:
    """Note that this signed-in browser was seen: a cache flag lets one request a minute through
    to the database. A session from before the rows were kept, or given a new key since, has
    its row found or made here."""
    session_key = request.session.session_key
    if not cache.add(_touch_key(session_key), 1, TOUCH_SECONDS):
        return
    user, now = request.user, timezone.now()
    if UserSession.objects.filter(session_key=session_key, user=user).update(last_seen_at=now):
        return
    row_id = request.session.get(ROW_KEY)
    if row_id and UserSession.objects.filter(pk=row_id, user=user).update(
        session_key=session_key, last_seen_at=now
    ):
        return
    try:
        with transaction.atomic():
            row = UserSession.objects.create(
                user=user,
                session_key=session_key,
                user_agent=request.headers.get("User-Agent", "")[:300],
                client_address=client_address(request)[:45],
            )
    except IntegrityError:
        return  # another request of the same browser made it
    request.session[ROW_KEY] = row.pk


class SessionSeenMiddleware:
    """Keeps each signed-in browser's "last seen" (after AuthenticationMiddleware)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # No session cookie, no session to note (and nothing loaded to find out).
        if request.session.session_key and request.user.is_authenticated:
            session_seen(request)
        return self.get_response(request)


# --- reads -------------------------------------------------------------------------------------


def _still_signed_in(user: User, data: dict) -> bool:
    """Would this session's data still sign this person in? (A changed password ends every
    other session at its next request; until then its row is still there.)"""
    return str(data.get(SESSION_KEY)) == str(user.pk) and constant_time_compare(
        data.get(HASH_SESSION_KEY, ""), user.get_session_auth_hash()
    )


def sessions_of(user: User) -> list[UserSession]:
    """The person's own sessions that still sign them in, most recently seen first. Two
    queries however many there are: the rows, and the sessions they name."""
    rows = list(UserSession.objects.filter(user=user))
    live = Session.objects.filter(
        session_key__in=[r.session_key for r in rows], expire_date__gt=timezone.now()
    )
    signed_in = {s.session_key for s in live if _still_signed_in(user, s.get_decoded())}
    return [r for r in rows if r.session_key in signed_in]


def session_get(user: User, pk: int) -> UserSession:
    """One of the person's own sessions; another's is as good as absent (404)."""
    from django.shortcuts import get_object_or_404

    return get_object_or_404(UserSession, pk=pk, user=user)


# --- writes ------------------------------------------------------------------------------------


def _end(rows: list[UserSession]) -> None:
    """Delete the Django sessions and their rows. The sessions' table rows go in this
    transaction; their cached copies are dropped now and again once it commits, so a request
    from that browser in between cannot load the session from the table (where the delete is
    not yet visible) and put it back in the cache."""
    from django.contrib.sessions.models import Session

    keys = [row.session_key for row in rows]
    store = import_module(settings.SESSION_ENGINE).SessionStore

    def drop_cached() -> None:
        for key in keys:
            session = store(session_key=key)
            if hasattr(session, "_cache"):  # the cached_db and cache engines
                session._cache.delete(session.cache_key)

    Session.objects.filter(session_key__in=keys).delete()
    drop_cached()
    transaction.on_commit(drop_cached)
    UserSession.objects.filter(pk__in=[r.pk for r in rows]).delete()


def _described(row: UserSession) -> dict[str, str]:
    return {"device": row.device, "ip": row.client_address, "signed_in": row.created_at.isoformat()}


@transaction.atomic
def session_end(*, actor: User, user_session: UserSession) -> None:
    """Sign one of the person's browsers out."""
    if user_session.user_id != actor.pk:
        raise PermissionDenied("You can only sign out your own sessions.")  # the view 404s first
    _end([user_session])
    audit_record(action="session.ended", actor=actor, obj=actor, payload=_described(user_session))


@transaction.atomic
def sessions_end_others(*, actor: User, keep_session_key: str | None) -> int:
    """Sign the person out everywhere but this browser; return how many sessions ended. Only
    the sessions that still signed them in (those the page lists) are counted and audited;
    rows of sessions already over go quietly."""
    others = UserSession.objects.filter(user=actor).exclude(session_key=keep_session_key)
    live = {r.pk for r in sessions_of(actor)}
    rows = list(others)
    ended = [r for r in rows if r.pk in live]
    _end(rows)
    if ended:
        audit_record(action="sessions.ended_elsewhere", actor=actor, obj=actor,
                     payload={"ended": [_described(r) for r in ended]})  # fmt: skip
    return len(ended)


def sessions_end_all(user: User) -> int:
    """Every session of the person (an expired account); the caller audits."""
    rows = list(UserSession.objects.filter(user=user))
    _end(rows)
    return len(rows)


def sessions_forget_stale(*, now) -> int:
    """Rows whose session is over: not seen for longer than a session lasts (and a day, as
    "seen" is noted only once a minute), and with no unexpired session of that key left."""
    cutoff = now - timedelta(seconds=settings.SESSION_COOKIE_AGE, days=1)
    live = Session.objects.filter(expire_date__gt=now).values("session_key")
    stale = UserSession.objects.filter(last_seen_at__lt=cutoff).exclude(session_key__in=live)
    return stale.delete()[0]
