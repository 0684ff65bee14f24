"""Writes to planning data. Each is one transaction, checks the policy, and is audited."""

from plans.services.drafts import (
    SaveResult,
    draft_save,
    narrative_save,
    spread_cells,
    start_and_save,
    start_and_write,
    submission_start,
)
from plans.services.provided import provided_save
from plans.services.revision import round_revise
from plans.services.tables import start_and_table, table_save, table_section
from plans.services.templates import (
    BUILTIN_TEMPLATE,
    BUILTIN_TEMPLATES,
    CURRENT_TEMPLATE,
    round_save,
    template_load,
)
from plans.services.uploads import plan_upload, start_and_upload
from plans.services.workflow import (
    comment_add,
    submission_accept,
    submission_recall,
    submission_return,
    submission_submit,
)

__all__ = [
    "BUILTIN_TEMPLATE",
    "BUILTIN_TEMPLATES",
    "CURRENT_TEMPLATE",
    "SaveResult",
    "comment_add",
    "draft_save",
    "narrative_save",
    "plan_upload",
    "provided_save",
    "round_revise",
    "round_save",
    "spread_cells",
    "start_and_save",
    "start_and_upload",
    "start_and_table",
    "start_and_write",
    "submission_accept",
    "submission_recall",
    "submission_return",
    "submission_start",
    "submission_submit",
    "table_save",
    "table_section",
    "template_load",
]
