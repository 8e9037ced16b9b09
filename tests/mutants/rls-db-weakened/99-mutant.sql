\connect crm
ALTER TABLE tasks NO FORCE ROW LEVEL SECURITY;
ALTER TABLE orders DISABLE ROW LEVEL SECURITY;
DROP EXTENSION pg_trgm CASCADE;
-- Writes to clients leave no audit row, and the app role may delete the audit trail.
DROP TRIGGER clients_audit ON clients;
GRANT USAGE ON SCHEMA audit TO crm_app;
GRANT SELECT, DELETE ON audit.events TO crm_app;
