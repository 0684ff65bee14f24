"""Errors services raise, shown to people as messages and to API clients as JSON."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

SHOWN_PROBLEMS = 200  # more than this is a file to fix, not a list to read
# Characters of what a problem quotes: enough to recognise it (a cell can hold 32,767, a CSV
# row far more, and a reason may quote what it found).
SHOWN_TEXT = {"cell": 80, "value": 80, "problem": 240}


def shown(problems: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The problems a person is shown: the first SHOWN_PROBLEMS, each cut to SHOWN_TEXT."""
    listed = []
    for problem in problems[:SHOWN_PROBLEMS]:
        for key, limit in SHOWN_TEXT.items():
            text = problem.get(key)
            if isinstance(text, str) and len(text) > limit:
                problem = {**problem, key: text[: limit - 1] + "…"}
        listed.append(problem)
    return listed


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
