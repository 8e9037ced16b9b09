-- Paths to tenant data around row-level security, none of them on a table the profile lists.
\connect crm
-- An invoices table with a tenant column and no row-level security, readable by the app through column grants.
CREATE TABLE public.invoices (
    id        uuid    PRIMARY KEY DEFAULT uuid_generate_v4(),
    tenant_id uuid    NOT NULL REFERENCES tenants (id),
    amount    numeric NOT NULL
);
INSERT INTO invoices (tenant_id, amount) SELECT id, 100 FROM tenants;
GRANT SELECT (id, tenant_id, amount) ON invoices TO crm_app;
-- A view owned by the superuser, who bypasses row-level security: it shows every tenant's clients.
CREATE VIEW public.client_directory AS SELECT id, tenant_id, name FROM clients;
GRANT SELECT ON client_directory TO crm_app;
-- A materialized view: row-level security never applies to one.
CREATE MATERIALIZED VIEW public.task_counts AS SELECT tenant_id, count(*) AS tasks FROM tasks GROUP BY tenant_id;
GRANT SELECT ON task_counts TO crm_app;
-- A SECURITY DEFINER function that reads every tenant's clients for whoever calls it.
CREATE FUNCTION public.client_names() RETURNS SETOF text LANGUAGE sql SECURITY DEFINER
    AS $$ SELECT name FROM clients $$;
GRANT EXECUTE ON FUNCTION public.client_names() TO crm_app;
-- A view without the tenant column, owned by the superuser: every tenant's client names and e-mail addresses.
CREATE VIEW public.client_contacts AS SELECT name, email FROM clients;
GRANT SELECT ON client_contacts TO crm_app;
-- Notes keyed by a client's id, with no tenant column and no policy: every tenant's notes.
CREATE TABLE public.client_notes (
    id        uuid PRIMARY KEY DEFAULT uuid_generate_v4(),
    client_id uuid NOT NULL REFERENCES clients (id),
    body      text NOT NULL
);
CREATE INDEX ON client_notes (client_id);
INSERT INTO client_notes (client_id, body) SELECT id, 'called back' FROM clients;
GRANT SELECT ON client_notes TO crm_app;
