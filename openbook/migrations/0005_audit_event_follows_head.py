"""An audit event is accepted only as the next one after its chain's head.

Without this, the head caught deleted newest events only until the next event was written:
the application numbers an event from the chain's last one, so after a deletion the next
insert took the deleted event's place, the head moved on past it, and the chain verified
again. Now an insert must carry the head's sequence number plus one and the head's hash as its
previous hash (the first event of a chain, number 1 from the genesis hash). After newest
events are deleted behind the application's back, nothing more is written to that chain until
someone who can alter the database puts it right, and verification says why.
"""

from django.db import migrations

FORWARD = """
CREATE FUNCTION openbook_auditevent_follows_head() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    head_seq bigint;
    head_hash varchar(64);
    follows boolean;
BEGIN
    SELECT seq, hash INTO head_seq, head_hash FROM openbook_audithead
        WHERE chain = NEW.chain FOR UPDATE;
    IF FOUND THEN
        follows := NEW.seq = head_seq + 1 AND NEW.prev_hash = head_hash;
    ELSE
        follows := NEW.seq = 1 AND NEW.prev_hash = repeat('0', 64);
    END IF;
    IF NOT follows THEN
        RAISE EXCEPTION 'audit event % of chain % does not follow its head (event %): the '
            'chain''s newest events are missing; run openbook audit verify',
            NEW.seq, NEW.chain, coalesce(head_seq, 0)
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    -- The head moves here, row by row, not in an AFTER trigger: those fire only once a
    -- statement has inserted all its rows, and a bulk insert's second row follows its first.
    INSERT INTO openbook_audithead (chain, seq, hash, updated_at)
        VALUES (NEW.chain, NEW.seq, NEW.hash, now())
    ON CONFLICT (chain) DO UPDATE
        SET seq = EXCLUDED.seq, hash = EXCLUDED.hash, updated_at = EXCLUDED.updated_at;
    RETURN NEW;
END;
$$;

DROP TRIGGER openbook_auditevent_advance_head ON openbook_auditevent;
DROP FUNCTION openbook_audithead_advance();

CREATE TRIGGER openbook_auditevent_follows_head
    BEFORE INSERT ON openbook_auditevent
    FOR EACH ROW EXECUTE FUNCTION openbook_auditevent_follows_head();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS openbook_auditevent_follows_head ON openbook_auditevent;
DROP FUNCTION IF EXISTS openbook_auditevent_follows_head();

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
"""


class Migration(migrations.Migration):
    dependencies = [("openbook", "0004_audit_head_moves_forward_only")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
