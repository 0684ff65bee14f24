"""Row-level security on plans: the second wall behind the selectors.

Each table gets four policies, for whoever is not its owner (the application role):
reading (SELECT, and the rows an UPDATE may touch, so a row one may see can be locked and a
refused change is an error, not a silent nothing), INSERT, UPDATE's new row and DELETE. The
platform scope (administrators, the worker's system-wide runs) passes every one. Otherwise,
mirroring accounts/policy.py:

- submissions and monthly returns: read by everyone who sees the organisation (its system's
  partners, leads and viewers, the region's reviewers); made and changed by the
  organisation's preparers and approvers, and a submission also changed by its system's lead
  (accept, return);
- versions of either: the working draft (number 0) read only by the organisation's own
  people (can_view_drafts), submitted versions by whoever sees the plan; made by the
  organisation's preparers and approvers, and changed or deleted by them only while a draft
  (a submitted version never changes);
- their figures, narratives, year totals and the draft's history: read as their version is,
  made in their organisation's versions, changed or deleted only in its working draft;
- uploads waiting for the worker: only their uploader's, while they may prepare;
- comments: read by the organisation's people, and by whoever sees the plan once it has a
  submitted version; written as oneself (the service says who may comment).

A child's policy asks for its parent's id among the parent rows the scope sees, so the parent's
own policy decides. Every set of ids is an array worked out once per statement, and not at all
in the platform scope (the OR stops at its first term), so the planner costs a policy as a
cheap filter and keeps the index scans it would choose without one.
"""

from django.db import migrations

PLATFORM = "(SELECT openbook_platform_scope())"


def among(column: str, ids: str) -> str:
    """`column` is one of the ids the scope gives (an array, worked out once per statement)."""
    return f"{column} = ANY ({ids})"


def given(function: str) -> str:
    """The ids a function of accounts migration 0009 gives for the scope, once per statement
    (the cast keeps PostgreSQL from reading the parentheses as a subquery of rows)."""
    return f"(SELECT {function}())::bigint[]"


def rows_of(table: str, where: str = "") -> str:
    """The ids of the rows of `table` the scope sees (that table's own policy decides)."""
    return f"ARRAY(SELECT id FROM {table}{' WHERE ' + where if where else ''})"  # noqa: S608


def plans_of(which: str) -> str:
    return rows_of(
        "plans_submission", among("organisation_id", given(f"openbook_{which}_organisations"))
    )


def returns_of(which: str) -> str:
    return rows_of(
        "plans_monthlyreturn",
        among("organisation_id", given(f"openbook_{which}_organisations")),
    )


WORKING = among("organisation_id", given("openbook_working_organisations"))
VISIBLE = among("organisation_id", given("openbook_visible_organisations"))
VERSIONS = among("version_id", rows_of("plans_version"))
RETURN_VERSIONS = among("version_id", rows_of("plans_returnversion"))
# A version is written by its organisation's preparers and approvers: made (a submission makes
# a new one), and while it is the working draft, changed; a submitted version never changes.
OWN_PLAN = among("submission_id", plans_of("working"))
OWN_DRAFT = f"number = 0 AND {OWN_PLAN}"
OWN_RETURN = among("monthly_return_id", returns_of("working"))
OWN_RETURN_DRAFT = f"number = 0 AND {OWN_RETURN}"
IN_OWN_VERSIONS = among("version_id", rows_of("plans_version", OWN_PLAN))
IN_OWN_DRAFTS = among("version_id", rows_of("plans_version", OWN_DRAFT))
IN_OWN_RETURN_VERSIONS = among("version_id", rows_of("plans_returnversion", OWN_RETURN))
IN_OWN_RETURN_DRAFTS = among("version_id", rows_of("plans_returnversion", OWN_RETURN_DRAFT))
FIGURES = (VERSIONS, IN_OWN_VERSIONS, IN_OWN_DRAFTS)
APPROVED_PLAN = among(
    "submission_id",
    rows_of(
        "plans_submission",
        among("organisation_id",
              "(SELECT openbook_organisations_with_role(ARRAY['org_approver']))::bigint[]"),
    ),
)  # fmt: skip
SUBMITTED_PLAN = among(
    "submission_id", "ARRAY(SELECT submission_id FROM plans_version WHERE number > 0)"
)  # noqa: S608 (constants)
UPLOADER = f"actor_id = (SELECT openbook_person()) AND {WORKING}"
# A comment is written as oneself.
AS_ONESELF = "author_id = (SELECT openbook_person())"

# table: (who reads, who makes rows, who changes or deletes them)
TABLES = {
    "plans_submission": (
        VISIBLE,
        WORKING,
        f"{WORKING} OR " + among("organisation_id", given("openbook_led_organisations")),
    ),
    "plans_version": (
        among("submission_id", plans_of("member"))
        + " OR (number > 0 AND "
        + among("submission_id", rows_of("plans_submission"))
        + ")",
        # A submitted version is made by the organisation's approvers only (can_submit).
        f"({OWN_DRAFT}) OR (number > 0 AND {APPROVED_PLAN})",
        OWN_DRAFT,
    ),
    "plans_value": FIGURES,
    "plans_narrative": FIGURES,
    "plans_yeartotals": FIGURES,
    "plans_draftedit": FIGURES,
    "plans_cellchange": FIGURES,
    "plans_comment": (
        # As the plan's page shows them: to the organisation's own people always, to others
        # once the plan has a submitted version (the versions' own policy decides which).
        among("submission_id", plans_of("member")) + f" OR {SUBMITTED_PLAN}",
        among("submission_id", rows_of("plans_submission")) + f" AND {AS_ONESELF}",
        among("submission_id", rows_of("plans_submission")) + f" AND {AS_ONESELF}",
    ),
    "plans_monthlyreturn": (VISIBLE, WORKING, WORKING),
    "plans_returnversion": (
        among("monthly_return_id", returns_of("member"))
        + " OR (number > 0 AND "
        + among("monthly_return_id", rows_of("plans_monthlyreturn"))
        + ")",
        OWN_RETURN,
        OWN_RETURN_DRAFT,
    ),
    "plans_returnvalue": (RETURN_VERSIONS, IN_OWN_RETURN_VERSIONS, IN_OWN_RETURN_DRAFTS),
    # A file left with the worker holds a private draft: its uploader's, while they may still
    # prepare the organisation's figures (uploads_q).
    "plans_upload": (UPLOADER, UPLOADER, UPLOADER),
}


# Figures are changed only where they are changeable now, as well as after: an UPDATE may not
# take a submitted version's figure into a draft. (Other tables keep UPDATE's old rows to what
# one reads, so a row one may see can still be locked, and a refused change is an error.)
FIGURE_TABLES = {
    "plans_value", "plans_narrative", "plans_yeartotals", "plans_draftedit", "plans_cellchange",
    "plans_returnvalue",
}  # fmt: skip


def policies(table: str, read: str, make: str, change: str) -> str:
    old = f"({read} AND {change})" if table in FIGURE_TABLES else read
    return f"""
ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
CREATE POLICY {table}_read ON {table} FOR SELECT USING ({PLATFORM} OR {read});
CREATE POLICY {table}_insert ON {table} FOR INSERT WITH CHECK ({PLATFORM} OR {make});
CREATE POLICY {table}_update ON {table} FOR UPDATE
    USING ({PLATFORM} OR {old}) WITH CHECK ({PLATFORM} OR {change});
CREATE POLICY {table}_delete ON {table} FOR DELETE USING ({PLATFORM} OR {change});
"""


def no_policies(table: str) -> str:
    return f"""
DROP POLICY IF EXISTS {table}_read ON {table};
DROP POLICY IF EXISTS {table}_insert ON {table};
DROP POLICY IF EXISTS {table}_update ON {table};
DROP POLICY IF EXISTS {table}_delete ON {table};
ALTER TABLE {table} DISABLE ROW LEVEL SECURITY;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0009_row_security"),
        ("plans", "0009_uploads"),
    ]

    operations = [
        migrations.RunSQL(
            [policies(table, *rules) for table, rules in TABLES.items()],
            [no_policies(table) for table in reversed(TABLES)],
        )
    ]
