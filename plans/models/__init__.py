"""Planning rounds, templates (versioned, defined as data), submissions and their versions.

A submission is one organisation's plan for one round. Its working draft is the one editable
version; every submission freezes a copy of the draft as a new, numbered, immutable version.
"""

from plans.models.returns import MonthlyReturn, ReturnValue, ReturnVersion
from plans.models.rounds import (
    MONTH_LABELS,
    MONTHS,
    Line,
    PlanningRound,
    Section,
    Template,
    TemplateRevision,
    TemplateVersion,
)
from plans.models.submissions import (
    CellChange,
    Comment,
    DraftEdit,
    DraftMigration,
    Narrative,
    ProvidedFigure,
    ReminderSent,
    Submission,
    TableRow,
    Value,
    Version,
    YearTotals,
)
from plans.models.system import SystemComment, SystemSubmission, SystemVersion, VersionSeen
from plans.models.uploads import Upload

__all__ = [
    "Line",
    "MONTHS",
    "MONTH_LABELS",
    "PlanningRound",
    "Section",
    "Template",
    "TemplateRevision",
    "TemplateVersion",
    "CellChange",
    "Comment",
    "DraftEdit",
    "DraftMigration",
    "Narrative",
    "ProvidedFigure",
    "ReminderSent",
    "Submission",
    "TableRow",
    "Value",
    "Version",
    "YearTotals",
    "SystemComment",
    "SystemSubmission",
    "SystemVersion",
    "VersionSeen",
    "Upload",
    "MonthlyReturn",
    "ReturnValue",
    "ReturnVersion",
]
