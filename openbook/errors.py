"""Errors services raise, shown to people as messages and to API clients as JSON."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

SHOWN_PROBLEMS = 200  # more than this is a file to fix, not a list to read


class ProblemList(ValidationError):
    """Several specific problems (a cell, the value found, why it is wrong), nothing stored."""

    def __init__(self, message: str, problems: list[dict[str, Any]]):
        super().__init__(message, code="invalid")
        self.summary = message
        self.problems = problems


class Conflict(Exception):
    """Someone else changed the same thing first; nothing was stored."""

    def __init__(self, message: str, conflicts: list[dict[str, Any]] | None = None):
        super().__init__(message)
        self.message = message
        self.conflicts = conflicts or []
