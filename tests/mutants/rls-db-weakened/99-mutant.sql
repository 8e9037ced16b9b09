\connect crm
ALTER TABLE tasks NO FORCE ROW LEVEL SECURITY;
ALTER TABLE orders DISABLE ROW LEVEL SECURITY;
DROP EXTENSION pg_trgm CASCADE;
-- Updates of clients leave no audit row (its trigger fires on INSERT and DELETE only), and the app role may
-- write forged rows into the audit trail and delete it.
DROP TRIGGER clients_audit ON clients;
CREATE TRIGGER clients_audit AFTER INSERT OR DELETE ON clients FOR EACH ROW EXECUTE FUNCTION audit.record();
GRANT USAGE ON SCHEMA audit TO crm_app;
GRANT SELECT, INSERT, DELETE ON audit.events TO crm_app;
