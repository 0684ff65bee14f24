"""The current request's id, readable from services without passing the request around."""

from contextvars import ContextVar

_request_id: ContextVar[str | None] = ContextVar("openbook_request_id", default=None)


def current_request_id() -> str | None:
    return _request_id.get()


def set_request_id(value: str | None):  # noqa: ANN201  (returns a contextvars.Token)
    return _request_id.set(value)


def reset_request_id(token) -> None:  # noqa: ANN001
    _request_id.reset(token)
