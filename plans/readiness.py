"""Whether a draft can be submitted: where each section stands (complete, empty or with
problems) and what stops the plan, each with where to fix it."""

from __future__ import annotations

from dataclasses import dataclass

from plans.calculations import MONTHS
from plans.models import MONTH_LABELS, Narrative, Section, Submission, TableRow, Value, Version
from plans.selectors import lines_for, sections_for


@dataclass(frozen=True)
class Blocker:
    """Something that stops the plan being submitted, and where to fix it."""

    section: Section
    message: str
    line: str = ""  # the line to go to, for a grid


@dataclass
class Readiness:
    """Where each section of a draft stands (complete, empty or has problems) and what
    stops the plan being submitted."""

    status: dict[str, str]  # section code → "complete" | "empty" | "problems"
    blockers: list[Blocker]


def readiness(submission: Submission, draft: Version | None) -> Readiness:
    """Read once: which lines have figures in which months, and which narratives have text."""
    kind = submission.organisation.kind
    sections = sections_for(submission.round.template_version_id, kind)
    filled: set[tuple[int, int]] = set()  # (line id, month): no join to read a plan's lines
    written: set[str] = set()
    if draft is not None:
        filled = set(Value.objects.filter(version=draft).values_list("line_id", "month").distinct())
        written = set(
            Narrative.objects.filter(version=draft).values_list("section__code", flat=True)
        ) | set(TableRow.objects.filter(version=draft).values_list("section__code", flat=True))
    lines = list(lines_for(submission.round.template_version_id, kind))
    status: dict[str, str] = {}
    blockers: list[Blocker] = []
    for section in sections:
        if section.kind != Section.Kind.GRID:  # a narrative has text, a table has rows
            status[section.code] = "complete" if section.code in written else "empty"
            if section.required and section.code not in written:
                empty = (
                    "the narrative is empty"
                    if section.kind == Section.Kind.NARRATIVE
                    else ("no rows are listed")
                )
                blockers.append(Blocker(section, empty))
            continue
        kept = [line for line in lines if line.section_id == section.pk and not line.is_derived]
        any_figure = any((line.pk, m) in filled for line in kept for m in MONTHS)
        gaps = []
        for line in kept:
            # Only what the organisation types can hold its plan up (not figures a table
            # adds up, nor the round owner's).
            if not line.required or line.fed_by or line.provided:
                continue
            months = [MONTH_LABELS[m - 1] for m in MONTHS if (line.pk, m) not in filled]
            if months:
                where = "every month" if len(months) == 12 else ", ".join(months)
                gaps.append(
                    Blocker(
                        section, f"{line.code} {line.label} has no figure for {where}", line.code
                    )
                )
        blockers += gaps
        status[section.code] = "problems" if gaps else "complete" if any_figure else "empty"
    return Readiness(status, blockers)
