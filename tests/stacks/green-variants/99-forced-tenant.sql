-- Every tenant table's rows take their tenant from the session: a row sent with another tenant's id lands in the
-- sender's own. With no tenant set, the row keeps what it was given, and row-level security decides.
\set ON_ERROR_STOP on
\connect crm
SET ROLE crm_owner;
SET search_path = public;

CREATE FUNCTION public.force_tenant() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NULLIF(current_setting('app.tenant_id', true), '') IS NOT NULL THEN
        NEW.tenant_id := current_setting('app.tenant_id', true)::uuid;
    END IF;
    RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION public.force_tenant() FROM PUBLIC;

DO $$
DECLARE
    name text;
BEGIN
    FOREACH name IN ARRAY ARRAY['users', 'employees', 'clients', 'suppliers', 'professionals', 'projects', 'orders',
                                'tasks'] LOOP
        EXECUTE format('CREATE TRIGGER force_tenant BEFORE INSERT ON public.%I '
                       'FOR EACH ROW EXECUTE FUNCTION public.force_tenant()', name);
    END LOOP;
END
$$;
