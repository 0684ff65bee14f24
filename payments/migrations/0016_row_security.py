"""Row-level security on the money tables: the second wall behind the selectors.

As for plans (plans migration 0010): policies for reading (and the rows an UPDATE may touch),
INSERT, UPDATE's new row and DELETE; the platform scope passes every one. Mirroring
accounts/policy.py, where everything here is open book within a system:

- transfers, risk-share agreements, and through them their lines, decisions, versions,
  partners, settlements: read and written by whoever sees the system (the services say which
  of them may do what); signatures and settlement responses written only by the approvers of
  the organisation they are for;
- the recalculation's results and runs: read by whoever sees the system, written only in the
  platform scope (the worker).
"""

from django.db import migrations

PLATFORM = "(SELECT openbook_platform_scope())"
SYSTEM = "system_id = ANY ((SELECT openbook_visible_systems())::bigint[])"
APPROVER = (
    "organisation_id = ANY ((SELECT openbook_organisations_with_role(ARRAY['org_approver']))"
    "::bigint[])"
)


def child(column: str, parent: str) -> tuple[str, str]:
    """Read and written as the parent row is read (its own policy decides)."""
    rule = f"{column} = ANY (ARRAY(SELECT id FROM {parent}))"  # noqa: S608 (constants)
    return rule, rule


# table: (who reads, who writes)
TABLES = {
    "payments_transfer": (SYSTEM, SYSTEM),
    "payments_transferline": child("transfer_id", "payments_transfer"),
    "payments_transferdecision": child("transfer_id", "payments_transfer"),
    "payments_agreement": (SYSTEM, SYSTEM),
    "payments_agreementversion": child("agreement_id", "payments_agreement"),
    "payments_agreementversion_partners": child("agreementversion_id", "payments_agreementversion"),
    # Signed and answered for an organisation only by its approvers (can_sign_agreement,
    # can_answer_settlement).
    "payments_agreementsignature": (
        child("version_id", "payments_agreementversion")[0],
        f"{child('version_id', 'payments_agreementversion')[0]} AND {APPROVER}",
    ),
    "payments_settlement": child("agreement_id", "payments_agreement"),
    "payments_settlementresponse": (
        child("settlement_id", "payments_settlement")[0],
        f"{child('settlement_id', 'payments_settlement')[0]} AND {APPROVER}",
    ),
    "payments_systemresult": (SYSTEM, "false"),
    "payments_recalculationrun": (SYSTEM, "false"),
}


def policies(table: str, read: str, write: str) -> str:
    return f"""
ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
CREATE POLICY {table}_read ON {table} FOR SELECT USING ({PLATFORM} OR {read});
CREATE POLICY {table}_insert ON {table} FOR INSERT WITH CHECK ({PLATFORM} OR {write});
CREATE POLICY {table}_update ON {table} FOR UPDATE
    USING ({PLATFORM} OR {read}) WITH CHECK ({PLATFORM} OR {write});
CREATE POLICY {table}_delete ON {table} FOR DELETE USING ({PLATFORM} OR {write});
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
        ("payments", "0015_run_abandoned"),
    ]

    operations = [
        migrations.RunSQL(
            [policies(table, *rules) for table, rules in TABLES.items()],
            [no_policies(table) for table in reversed(TABLES)],
        )
    ]
