"""Row-level security, part one: the application role and who a scope lets see what.

The application role (DATABASE_APP_ROLE, `openbook_app`) owns nothing, so PostgreSQL applies
row-level security policies to it. It is made here if missing (roles belong to the whole
server, so two test databases migrating at once may both try: the loser's error is ignored),
given the right to read and write every table and sequence, now and made later by whoever
runs the migrations, and granted to the migrating role so it may SET ROLE to it.

The functions below answer accounts/policy.py's questions in SQL for the scope a request or
task sets with set_config (accounts/rowsecurity.py): `openbook.scope` is 'person' (with
`openbook.user_id`), 'platform', or anything else, which is no one. The policies on the tenant
tables (plans and payments migrations) are written over them. Each function reads only the
membership tables, which have no policies, so no policy ever reads itself; each gives its ids
as one array, which a policy reads once per statement (`= ANY ((SELECT f())::bigint[])`): the
planner then costs a policy as a cheap filter and still uses the indexes it would use without
one. They are PL/pgSQL so that their queries' plans are kept for the session (a SQL function
that is not inlined is planned again at every call).
"""

from django.conf import settings
from django.db import migrations

FUNCTIONS = """
CREATE OR REPLACE FUNCTION openbook_platform_scope() RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT coalesce(current_setting('openbook.scope', true), '') = 'platform' $$;

-- The person the scope is for, while they are active (as in policy.py, where an inactive
-- person has no memberships).
CREATE OR REPLACE FUNCTION openbook_person() RETURNS bigint
    LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
    person bigint;
BEGIN
    IF coalesce(current_setting('openbook.scope', true), '') <> 'person' THEN
        RETURN NULL;
    END IF;
    SELECT u.id INTO person FROM accounts_user u
    WHERE u.id = nullif(current_setting('openbook.user_id', true), '')::bigint AND u.is_active;
    RETURN person;
END
$$;

-- member_organisation_ids(user, roles)
CREATE OR REPLACE FUNCTION openbook_organisations_with_role(roles text[]) RETURNS bigint[]
    LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
    person bigint := openbook_person();
BEGIN
    IF person IS NULL THEN
        RETURN '{}';
    END IF;
    RETURN coalesce((
        SELECT array_agg(m.organisation_id) FROM accounts_membership m
        WHERE m.user_id = person AND m.organisation_id IS NOT NULL AND m.role = ANY (roles)
    ), '{}');
END
$$;

-- member_organisation_ids(user): drafts are seen by every role in the organisation
CREATE OR REPLACE FUNCTION openbook_member_organisations() RETURNS bigint[]
    LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
    RETURN openbook_organisations_with_role(
        ARRAY['org_viewer', 'org_preparer', 'org_approver']);
END
$$;

-- can_prepare: the organisations whose figures the person may change
CREATE OR REPLACE FUNCTION openbook_working_organisations() RETURNS bigint[]
    LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
    RETURN openbook_organisations_with_role(ARRAY['org_preparer', 'org_approver']);
END
$$;

-- visible_system_ids(user)
CREATE OR REPLACE FUNCTION openbook_visible_systems() RETURNS bigint[]
    LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
    person bigint := openbook_person();
    members bigint[];
BEGIN
    IF person IS NULL THEN
        RETURN '{}';
    END IF;
    -- is_platform_admin: every system (their drafts still only by membership)
    IF EXISTS (SELECT FROM accounts_user u WHERE u.id = person AND u.is_superuser) THEN
        RETURN coalesce((SELECT array_agg(s.id) FROM accounts_system s), '{}');
    END IF;
    members := openbook_member_organisations();
    RETURN coalesce((
        SELECT array_agg(DISTINCT id) FROM (
            SELECT o.system_id AS id FROM accounts_organisation o WHERE o.id = ANY (members)
            UNION ALL
            SELECT m.system_id FROM accounts_membership m
            WHERE m.user_id = person AND m.role IN ('system_viewer', 'system_lead')
            UNION ALL
            SELECT s.id FROM accounts_system s
            JOIN accounts_membership m ON m.region_id = s.region_id
            WHERE m.user_id = person AND m.role = 'region_reviewer'
        ) AS visible
    ), '{}');
END
$$;

-- organisations_q(user): open book within every visible system
CREATE OR REPLACE FUNCTION openbook_visible_organisations() RETURNS bigint[]
    LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
    systems bigint[] := openbook_visible_systems();
BEGIN
    RETURN coalesce((
        SELECT array_agg(o.id) FROM accounts_organisation o WHERE o.system_id = ANY (systems)
    ), '{}');
END
$$;

-- can_decide_submission: the organisations of the systems the person leads
CREATE OR REPLACE FUNCTION openbook_led_organisations() RETURNS bigint[]
    LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
    person bigint := openbook_person();
BEGIN
    IF person IS NULL THEN
        RETURN '{}';
    END IF;
    RETURN coalesce((
        SELECT array_agg(o.id) FROM accounts_organisation o
        JOIN accounts_membership m ON m.system_id = o.system_id
        WHERE m.user_id = person AND m.role = 'system_lead'
    ), '{}');
END
$$;
"""

DROP_FUNCTIONS = """
DROP FUNCTION IF EXISTS openbook_led_organisations();
DROP FUNCTION IF EXISTS openbook_visible_organisations();
DROP FUNCTION IF EXISTS openbook_visible_systems();
DROP FUNCTION IF EXISTS openbook_working_organisations();
DROP FUNCTION IF EXISTS openbook_member_organisations();
DROP FUNCTION IF EXISTS openbook_organisations_with_role(text[]);
DROP FUNCTION IF EXISTS openbook_person();
DROP FUNCTION IF EXISTS openbook_platform_scope();
"""

# {role} is the role's name quoted as an identifier, {name} as a string.
ROLE = """
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {name}) THEN
        BEGIN
            CREATE ROLE {role} NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;  -- made meanwhile by the migration of another database
        END;
    END IF;
    IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
       AND NOT pg_has_role(current_user, {name}, 'MEMBER') THEN
        BEGIN
            EXECUTE format('GRANT %I TO %I', {name}, current_user);
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE EXCEPTION 'the role % may not grant itself role %: ask the database '
                'administrator to run GRANT % TO %; (see deploy/README.md)',
                current_user, {name}, {name}, current_user;
        END;
    END IF;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', current_schema(), {name});
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO %I',
                   current_schema(), {name});
    EXECUTE format('GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA %I TO %I',
                   current_schema(), {name});
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT SELECT, INSERT, UPDATE, '
                   'DELETE ON TABLES TO %I', current_schema(), {name});
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT USAGE, SELECT, UPDATE ON '
                   'SEQUENCES TO %I', current_schema(), {name});
END
$$;
"""

UNGRANT = """
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = {name}) THEN
        EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I REVOKE ALL ON TABLES FROM %I',
                       current_schema(), {name});
        EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I REVOKE ALL ON SEQUENCES '
                       'FROM %I', current_schema(), {name});
        EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA %I FROM %I',
                       current_schema(), {name});
        EXECUTE format('REVOKE ALL ON ALL SEQUENCES IN SCHEMA %I FROM %I',
                       current_schema(), {name});
        EXECUTE format('REVOKE USAGE ON SCHEMA %I FROM %I', current_schema(), {name});
    END IF;
END
$$;
"""


def _sql(template: str, schema_editor) -> str:
    name = settings.DATABASE_APP_ROLE
    quote = schema_editor.connection.ops.quote_name
    # The name is checked in the settings (letters, digits, underscores), and quoted anyway.
    literal = "'" + name.replace("'", "''") + "'"
    return template.replace("{role}", quote(name)).replace("{name}", literal)


def make_role(apps, schema_editor) -> None:
    schema_editor.execute(_sql(ROLE, schema_editor), params=None)


def ungrant_role(apps, schema_editor) -> None:
    # The role itself stays: other databases on the server may use it.
    schema_editor.execute(_sql(UNGRANT, schema_editor), params=None)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0008_second_factor")]

    operations = [
        migrations.RunPython(make_role, ungrant_role),
        migrations.RunSQL(FUNCTIONS, DROP_FUNCTIONS),
    ]
