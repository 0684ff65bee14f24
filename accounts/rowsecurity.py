"""Row-level security: the second wall behind the selectors.

The selectors scope every read through accounts/policy.py. Behind them, PostgreSQL's own
policies on the tenant tables (plans and payments migrations, over the SQL functions of
accounts migration 0009) give a query only the rows the same policy allows, so a query that
forgets its selector still gets nothing it should not.

They apply to the application role (settings.DATABASE_APP_ROLE), which owns no table. Every
request and every Celery task switches to it and says whose scope it works in:

- a person's (`openbook.scope` = 'person', `openbook.user_id`): what accounts/policy.py lets
  them see and change;
- the platform's ('platform'): everything. Said explicitly, for the worker's system-wide work
  and commands, never implied by a missing scope;
- no one's (anything else, or nothing set): no tenant rows at all. A request before sign-in,
  and a task that has not said whom it acts for, fail closed.

A request's scope lives in its transaction (the settings are set local to it, as SET LOCAL
does), so it cannot outlast the request on a pooled connection. A task runs in several
transactions and between them, so its scope is set for the connection's session and taken
away when it ends (and set again on a new connection made meanwhile). Migrations and
management commands run as the connecting role, the tables' owner, which the policies do not
bind; a command that should act within a scope says so (`platform()`, `acting_for()`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, transaction
from rest_framework.permissions import BasePermission

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse

    from accounts.policy import AnyUser


@dataclass(frozen=True)
class Scope:
    """Whose rows the database shows: kind 'person' (with their id), 'platform' or 'none'."""

    kind: str
    user_id: int | None = None


PLATFORM = Scope("platform")
NO_ONE = Scope("none")


def scope_of(user: AnyUser | None) -> Scope:
    """A signed-in person's scope. A platform administrator's is theirs too: the SQL functions
    give them every system, as policy.py does, but drafts only of organisations they belong
    to (can_view_drafts); the platform scope is for the worker's system-wide work."""
    if user is None or not user.is_authenticated or not user.is_active:
        return NO_ONE
    return Scope("person", user.pk)


# The scopes entered on this thread (Django's connections are per thread too), innermost last,
# each with whether it was set local to a transaction (True) or for the session (False).
_entered = threading.local()


def _stack() -> list[tuple[Scope, bool]]:
    if not hasattr(_entered, "stack"):
        _entered.stack = []
    return _entered.stack


def current() -> Scope | None:
    """The innermost scope entered on this thread, None outside any."""
    stack = _stack()
    return stack[-1][0] if stack else None


SET_SCOPE = (
    "SELECT set_config('role', %s, %s), set_config('openbook.scope', %s, %s), "
    "set_config('openbook.user_id', %s, %s)"
)


def _set(db, scope: Scope | None, *, local: bool) -> None:
    """Switch to the application role in `scope`, or (None) back to the connecting role."""
    role = settings.DATABASE_APP_ROLE if scope is not None else "none"
    kind = scope.kind if scope is not None else ""
    user_id = str(scope.user_id) if scope is not None and scope.user_id is not None else ""
    with db.cursor() as cursor:
        cursor.execute(SET_SCOPE, [role, local, kind, local, user_id, local])


@contextmanager
def scoped(scope: Scope, *, restore: bool = True) -> Iterator[Scope]:
    """Work in `scope` until the block ends, then in whatever scope was in force before.

    Inside a transaction the scope is set local to it; outside one, for the session.
    `restore=False` is for a block that ends with its transaction (a request's), where
    PostgreSQL drops local settings itself."""
    local = connection.in_atomic_block
    _set(connection, scope, local=local)
    stack = _stack()
    stack.append((scope, local))
    depth = len(stack)
    try:
        yield scope
    finally:
        del stack[depth - 1 :]
        if restore:
            _restore(local)


def _restore(local: bool) -> None:
    before = current()
    if local:
        # A transaction that must roll back takes this block's settings with it.
        if connection.connection is not None and not connection.needs_rollback:
            _set(connection, before, local=True)
        return
    if connection.connection is None:
        return  # closed meanwhile: the session's settings went with it
    try:
        _set(connection, before, local=False)
    except DatabaseError:
        # Never leave a session working in a scope nobody asked for: drop the connection.
        connection.close()


def platform() -> AbstractContextManager[Scope]:
    """Every row: for work the whole platform asks for (the worker's runs, benchmarks)."""
    return scoped(PLATFORM)


def acting_for(user: AnyUser) -> AbstractContextManager[Scope]:
    """What `user` may see and change: for work done on a person's behalf (their upload)."""
    return scoped(scope_of(user))


def _reapply_on_new_connection(sender: Any, connection: Any, **kwargs: Any) -> None:
    """A task's connection made again mid-task (closed as too old, or lost) gets the task's
    scope back before its first query."""
    if connection.alias != DEFAULT_DB_ALIAS:
        return
    session = [scope for scope, local in _stack() if not local]
    if session:
        _set(connection, session[-1], local=False)


# --- requests ---------------------------------------------------------------------------------


def consistent_snapshot(view: Callable) -> Callable:
    """Mark a view whose reads must come from one snapshot (checking the audit trail): its
    request's transaction starts REPEATABLE READ, since a query (setting the scope) comes
    before the view could ask for it itself."""
    view.row_security_snapshot = True  # type: ignore[attr-defined]
    return view


def no_tenant_data(view: Callable) -> Callable:
    """Mark a view that reads no tenant table (the API's schema; single sign-on, which waits
    on the identity provider and must not hold a transaction open meanwhile): it runs outside
    any request transaction and scope, as the connecting role."""
    view.row_security_none = True  # type: ignore[attr-defined]
    return view


def _marked(view: Callable, mark: str) -> bool:
    cls = getattr(view, "cls", None)  # a REST framework view's class
    return bool(getattr(view, mark, False) or getattr(cls, mark, False))


class _RequestScope:
    """The transaction a request's view runs in, and its scope within it."""

    def __init__(self, request: HttpRequest, snapshot: bool) -> None:
        self.outermost = not connection.in_atomic_block
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        try:
            if snapshot and self.outermost:
                with connection.cursor() as cursor:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            self.scope = scoped(scope_of(request.user), restore=not self.outermost)
            self.scope.__enter__()
        except BaseException as exc:
            self.atomic.__exit__(type(exc), exc, exc.__traceback__)
            raise

    def narrow(self, user: AnyUser) -> None:
        """The person was found by the view itself (an API token): their scope from now on."""
        stack = _stack()
        scope = scope_of(user)
        if stack and stack[-1][0] == scope:
            return
        _set(connection, scope, local=connection.in_atomic_block)
        if stack:
            stack[-1] = (scope, stack[-1][1])

    def close(self, response: HttpResponse | None, exc: BaseException | None) -> None:
        try:
            if exc is None and response is not None and response.streaming:
                # Streamed content is read after the view returns: read it while the scope
                # holds. If reading fails, the scope and the transaction still end, below.
                response.streaming_content = list(response.streaming_content)  # type: ignore[attr-defined]
        except BaseException as failed:
            exc = failed
            raise
        finally:
            if exc is not None or (response is not None and response.status_code >= 500):
                # A request that failed keeps nothing it wrote.
                transaction.set_rollback(True)
            try:
                self.scope.__exit__(None, None, None)
            finally:
                if exc is None:
                    self.atomic.__exit__(None, None, None)
                else:
                    self.atomic.__exit__(type(exc), exc, exc.__traceback__)


class RowSecurityMiddleware:
    """Every request that reaches a view runs in one transaction, as the application role in
    the signed-in person's scope (no one's before sign-in). A response of 500 or more rolls it
    back. Placed after sign-in, so the person is known."""

    def __init__(self, get_response: Callable) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request._row_security = None  # type: ignore[attr-defined]
        try:
            response = self.get_response(request)
        except BaseException as exc:
            if request._row_security is not None:  # type: ignore[attr-defined]
                request._row_security.close(None, exc)  # type: ignore[attr-defined]
            raise
        if request._row_security is not None:  # type: ignore[attr-defined]
            request._row_security.close(response, None)  # type: ignore[attr-defined]
        return response

    def process_view(self, request: HttpRequest, view: Callable, args: Any, kwargs: Any) -> None:
        if not _marked(view, "row_security_none"):
            snapshot = _marked(view, "row_security_snapshot")
            request._row_security = _RequestScope(request, snapshot)  # type: ignore[attr-defined]


class ApiUserScope(BasePermission):
    """First of the API's permission classes, so it runs as soon as the REST framework has
    found the person (by token, session or a test's forced sign-in): the request's scope
    becomes theirs. The middleware knew only the session's user, and no one for a token. It
    refuses nothing; the permission classes after it decide."""

    def has_permission(self, request: Any, view: Any) -> bool:
        opened = getattr(request._request, "_row_security", None)
        if opened is not None:
            opened.narrow(request.user)
        return True


# --- tasks ------------------------------------------------------------------------------------


def _task_started(task: Any = None, **kwargs: Any) -> None:
    """A task works in the scope it declares (`row_scope="platform"` on the task), or no one's
    until it says whom it acts for (`acting_for`)."""
    scope = PLATFORM if getattr(task, "row_scope", None) == "platform" else NO_ONE
    entered = scoped(scope)
    entered.__enter__()
    task.request.row_security = entered


def _task_finished(task: Any = None, **kwargs: Any) -> None:
    entered = getattr(task.request, "row_security", None)
    if entered is not None:
        task.request.row_security = None
        entered.__exit__(None, None, None)


def connect() -> None:
    """Called once the apps are ready (accounts/apps.py)."""
    from celery.signals import task_postrun, task_prerun
    from django.db.backends.signals import connection_created

    connection_created.connect(_reapply_on_new_connection, dispatch_uid="rowsecurity.reapply")
    task_prerun.connect(_task_started, dispatch_uid="rowsecurity.task_started")
    task_postrun.connect(_task_finished, dispatch_uid="rowsecurity.task_finished")
