-- Tenant rows reached without the tenant column, kept in the tenant all the same (RLS-15): a view that runs with
-- the reader's rights, and notes keyed by a client's id behind a policy through the client.
\set ON_ERROR_STOP on
\connect crm
SET ROLE crm_owner;
SET search_path = public;

CREATE VIEW public.client_contacts WITH (security_invoker = true) AS SELECT name, email FROM clients;
GRANT SELECT ON client_contacts TO crm_app;

CREATE TABLE public.client_notes (
    id        uuid PRIMARY KEY DEFAULT uuid_generate_v4(),
    client_id uuid NOT NULL REFERENCES clients (id),
    body      text NOT NULL
);
CREATE INDEX ON client_notes (client_id);
ALTER TABLE client_notes ENABLE ROW LEVEL SECURITY;
ALTER TABLE client_notes FORCE ROW LEVEL SECURITY;
CREATE POLICY notes_of_visible_clients ON client_notes
    USING (EXISTS (SELECT 1 FROM clients c WHERE c.id = client_id))
    WITH CHECK (EXISTS (SELECT 1 FROM clients c WHERE c.id = client_id));
GRANT SELECT, INSERT, UPDATE, DELETE ON client_notes TO crm_app;
RESET ROLE;
INSERT INTO client_notes (client_id, body) SELECT id, 'called back' FROM clients;
