"""Make the audit trail append-only in the database itself.

The application never updates or deletes an audit event; this trigger makes sure nothing
else does either (a bug, a stray admin action, a hand-written SQL statement). A superuser can
still disable the trigger, which is why every event is also hash-chained and verifiable.
"""

from django.db import migrations

FORWARD = """
CREATE FUNCTION openbook_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only: % on % is not allowed', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER openbook_auditevent_no_update_delete
    BEFORE UPDATE OR DELETE ON openbook_auditevent
    FOR EACH ROW EXECUTE FUNCTION openbook_audit_append_only();

CREATE TRIGGER openbook_auditevent_no_truncate
    BEFORE TRUNCATE ON openbook_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION openbook_audit_append_only();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS openbook_auditevent_no_truncate ON openbook_auditevent;
DROP TRIGGER IF EXISTS openbook_auditevent_no_update_delete ON openbook_auditevent;
DROP FUNCTION IF EXISTS openbook_audit_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("openbook", "0001_auditevent")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
