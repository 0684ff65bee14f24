"""A service's refusal, told on the page: the HTML twin of openbook/api.py's error handler.

Services refuse with Django's ValidationError (a ProblemList when there are several specific
problems: a cell, the value found, why) or with a Conflict (someone else changed it first);
nothing is stored either way. A view runs the call inside `attempt`; a refusal becomes the
page's NHS.UK error summary after the redirect (the message, then the problems as a list),
or, for a view that shows its form again (`attempt(form=form)`), the form's errors: on the
field a refusal names, else on the form as a whole.
Permission refusals are not caught: they are the 403 page.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError

from openbook.errors import SHOWN_PROBLEMS, Conflict, ProblemList, shown

PROBLEM = "problem"  # the extra tag of a message that is one of a refusal's problems


@dataclass
class Refusal:
    """What a refused call tells the person."""

    message: str
    problems: list[dict[str, Any]] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)  # form field → its reason
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    conflict: bool = False  # someone else changed it first

    def as_problems(self, cell: str) -> list[dict[str, Any]]:
        """For a page that lists problems cell by cell: the refusal's own, or its message as
        one problem with `cell`, what the page calls the thing refused."""
        return self.problems or [{"cell": cell, "value": "", "problem": self.message}]


def refusal(exc: ValidationError | Conflict, prefix: str = "") -> Refusal:
    """One wording for every refusal, whatever raised it."""
    lead = f"{prefix} " if prefix else ""
    if isinstance(exc, Conflict):
        return Refusal(lead + exc.message, conflicts=exc.conflicts, conflict=True)
    if isinstance(exc, ProblemList):
        return Refusal(lead + exc.summary, problems=exc.problems)
    fields = {}
    if hasattr(exc, "error_dict"):
        fields = {name: " ".join(reasons) for name, reasons in exc.message_dict.items()}
    return Refusal(lead + " ".join(exc.messages), fields=fields)


def problem_text(problem: dict[str, Any]) -> str:
    value = problem.get("value")
    shown = f"“{value}” " if value not in (None, "") else ""
    text = f"{problem.get('cell', '')}: {shown}{problem.get('problem', '')}".strip(": ")
    return text[:1].upper() + text[1:]  # a list item starts as a sentence: "Row 2: …"


def listed(problems: list[dict[str, Any]], count: int | None = None) -> dict[str, Any]:
    """A page's problem list: the first SHOWN_PROBLEMS, and how many there are in all (`count`
    when `problems` is already only the first of them)."""
    return {
        "problems": shown(problems),
        "problem_count": len(problems) if count is None else count,
    }


@dataclass
class Call:
    refusal: Refusal | None = None

    @property
    def ok(self) -> bool:
        return self.refusal is None


def show(request, found: Refusal) -> None:
    """Put a refusal on the next page's error summary."""
    messages.error(request, found.message)
    for problem in shown(found.problems):
        messages.error(request, problem_text(problem), extra_tags=PROBLEM)
    if len(found.problems) > SHOWN_PROBLEMS:
        messages.error(
            request,
            f"…and {len(found.problems) - SHOWN_PROBLEMS} more ({len(found.problems)} in all).",
            extra_tags=PROBLEM,
        )


def on_form(form: forms.BaseForm, found: Refusal) -> None:
    """A refusal on the fields it names (or on the form as a whole, for a name the form does
    not have), else its message on the form as a whole."""
    for name, reason in found.fields.items():
        form.add_error(name if name in form.fields else None, reason)
    if not found.fields and found.message:
        form.add_error(None, found.message)


@contextmanager
def attempt(
    request=None, *, prefix: str = "", form: forms.BaseForm | None = None
) -> Iterator[Call]:
    """Run a service call; if it refuses, note why on `call.refusal` and show it: on `form`
    when the view shows its form again, else (given the request) on the next page. Code after
    the with-block checks `call.ok`."""
    call = Call()
    try:
        yield call
    except (ValidationError, Conflict) as exc:
        call.refusal = refusal(exc, prefix)
        if form is not None:
            on_form(form, call.refusal)
        elif request is not None:
            show(request, call.refusal)
