-- Audit (claim P10): every write to a tenant table leaves a row saying who, what, when and for which
-- tenant. Who is the end user the API names for the transaction (app.user_id), or else the database role. The trigger runs as the owner; the app role has no privilege on the audit schema, so it can
-- neither read nor change nor delete what the trigger wrote.
\connect crm
SET ROLE crm_owner;
CREATE TABLE audit.events (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor      text        NOT NULL,
    tenant_id  uuid,
    table_name text        NOT NULL,
    operation  text        NOT NULL CHECK (operation IN ('INSERT', 'UPDATE', 'DELETE')),
    row_id     uuid
);
CREATE INDEX events_row_id_idx ON audit.events (row_id);

CREATE FUNCTION audit.record() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    changed record;
BEGIN
    IF TG_OP = 'DELETE' THEN changed := OLD; ELSE changed := NEW; END IF;
    INSERT INTO audit.events (actor, tenant_id, table_name, operation, row_id)
    VALUES (COALESCE(NULLIF(current_setting('app.user_id', true), ''), session_user), changed.tenant_id,
            TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, TG_OP, changed.id);
    RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION audit.record() FROM PUBLIC;

DO $$
DECLARE
    name text;
BEGIN
    FOREACH name IN ARRAY ARRAY['users', 'employees', 'clients', 'suppliers', 'professionals', 'projects',
                                'orders', 'tasks'] LOOP
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON public.%I '
                       'FOR EACH ROW EXECUTE FUNCTION audit.record()', name || '_audit', name);
    END LOOP;
END $$;
RESET ROLE;
