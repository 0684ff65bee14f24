"""Keep each audit chain's head where deleting events cannot rewind it.

Every insert into the trail moves its chain's head forward, in the same transaction, by a
trigger: so every writer (the application, a bulk load, a hand-written INSERT) keeps it, and
no code path can forget to. The head itself only moves forward: an UPDATE to a lower
sequence number, or to another hash at the same one, a DELETE and a TRUNCATE are refused.
Deleting the newest events then leaves the head pointing past the chain's end, which
verification reports. Checkpoints are append-only like the events.

Heads of chains written before this migration are taken from their last events.
"""

from django.db import migrations

FORWARD = """
CREATE FUNCTION openbook_audithead_advance() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO openbook_audithead (chain, seq, hash, updated_at)
        VALUES (NEW.chain, NEW.seq, NEW.hash, now())
    ON CONFLICT (chain) DO UPDATE
        SET seq = EXCLUDED.seq, hash = EXCLUDED.hash, updated_at = EXCLUDED.updated_at
        WHERE openbook_audithead.seq < EXCLUDED.seq;
    RETURN NULL;
END;
$$;

CREATE TRIGGER openbook_auditevent_advance_head
    AFTER INSERT ON openbook_auditevent
    FOR EACH ROW EXECUTE FUNCTION openbook_audithead_advance();

CREATE FUNCTION openbook_audithead_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.chain = OLD.chain
            AND (NEW.seq > OLD.seq OR (NEW.seq = OLD.seq AND NEW.hash = OLD.hash)) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'an audit chain''s head only moves forward: % on % is not allowed',
        TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER openbook_audithead_no_rewind
    BEFORE UPDATE OR DELETE ON openbook_audithead
    FOR EACH ROW EXECUTE FUNCTION openbook_audithead_forward_only();

CREATE TRIGGER openbook_audithead_no_truncate
    BEFORE TRUNCATE ON openbook_audithead
    FOR EACH STATEMENT EXECUTE FUNCTION openbook_audit_append_only();

CREATE TRIGGER openbook_auditcheckpoint_no_update_delete
    BEFORE UPDATE OR DELETE ON openbook_auditcheckpoint
    FOR EACH ROW EXECUTE FUNCTION openbook_audit_append_only();

CREATE TRIGGER openbook_auditcheckpoint_no_truncate
    BEFORE TRUNCATE ON openbook_auditcheckpoint
    FOR EACH STATEMENT EXECUTE FUNCTION openbook_audit_append_only();

INSERT INTO openbook_audithead (chain, seq, hash, updated_at)
    SELECT DISTINCT ON (chain) chain, seq, hash, now()
    FROM openbook_auditevent ORDER BY chain, seq DESC;
"""

BACKWARD = """
DROP TRIGGER IF EXISTS openbook_auditcheckpoint_no_truncate ON openbook_auditcheckpoint;
DROP TRIGGER IF EXISTS openbook_auditcheckpoint_no_update_delete ON openbook_auditcheckpoint;
DROP TRIGGER IF EXISTS openbook_audithead_no_truncate ON openbook_audithead;
DROP TRIGGER IF EXISTS openbook_audithead_no_rewind ON openbook_audithead;
DROP FUNCTION IF EXISTS openbook_audithead_forward_only();
DROP TRIGGER IF EXISTS openbook_auditevent_advance_head ON openbook_auditevent;
DROP FUNCTION IF EXISTS openbook_audithead_advance();
DELETE FROM openbook_audithead;
"""


class Migration(migrations.Migration):
    dependencies = [("openbook", "0003_audit_heads_and_checkpoints")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
