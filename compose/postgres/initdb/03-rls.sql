-- 03: row level security and privileges in database crm.
-- Every tenant table: RLS enabled AND forced (applies to the owner too), one
-- FOR ALL policy whose USING and WITH CHECK compare tenant_id with the
-- transaction/session setting app.tenant_id. Unset/empty => NULL => no rows
-- visible and every INSERT/UPDATE rejected.
\set ON_ERROR_STOP on
\connect crm
SET ROLE crm_owner;
SET search_path = public;

ALTER TABLE users         ENABLE ROW LEVEL SECURITY;
ALTER TABLE users         FORCE  ROW LEVEL SECURITY;
ALTER TABLE employees     ENABLE ROW LEVEL SECURITY;
ALTER TABLE employees     FORCE  ROW LEVEL SECURITY;
ALTER TABLE clients       ENABLE ROW LEVEL SECURITY;
ALTER TABLE clients       FORCE  ROW LEVEL SECURITY;
ALTER TABLE suppliers     ENABLE ROW LEVEL SECURITY;
ALTER TABLE suppliers     FORCE  ROW LEVEL SECURITY;
ALTER TABLE professionals ENABLE ROW LEVEL SECURITY;
ALTER TABLE professionals FORCE  ROW LEVEL SECURITY;
ALTER TABLE projects      ENABLE ROW LEVEL SECURITY;
ALTER TABLE projects      FORCE  ROW LEVEL SECURITY;
ALTER TABLE orders        ENABLE ROW LEVEL SECURITY;
ALTER TABLE orders        FORCE  ROW LEVEL SECURITY;
ALTER TABLE tasks         ENABLE ROW LEVEL SECURITY;
ALTER TABLE tasks         FORCE  ROW LEVEL SECURITY;

CREATE POLICY users_tenant_isolation ON users FOR ALL
    USING      (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
CREATE POLICY employees_tenant_isolation ON employees FOR ALL
    USING      (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
CREATE POLICY clients_tenant_isolation ON clients FOR ALL
    USING      (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
CREATE POLICY suppliers_tenant_isolation ON suppliers FOR ALL
    USING      (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
CREATE POLICY professionals_tenant_isolation ON professionals FOR ALL
    USING      (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
CREATE POLICY projects_tenant_isolation ON projects FOR ALL
    USING      (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
CREATE POLICY orders_tenant_isolation ON orders FOR ALL
    USING      (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
CREATE POLICY tasks_tenant_isolation ON tasks FOR ALL
    USING      (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

------------------------------------------------------------------------------
-- Privileges. Only what the API and the read-only role need.
-- (Extension functions such as uuid_generate_v4(), crypt(), gen_salt() keep
-- their default EXECUTE for PUBLIC; update_updated_at() is not executable by
-- anyone but its owner — trigger functions need no EXECUTE at fire time.)
------------------------------------------------------------------------------
GRANT USAGE ON SCHEMA public TO crm_app, crm_readonly;

GRANT SELECT ON tenants TO crm_app;
GRANT SELECT, INSERT, UPDATE, DELETE
    ON users, employees, clients, suppliers, professionals, projects, orders, tasks
    TO crm_app;

GRANT SELECT
    ON tenants, users, employees, clients, suppliers, professionals, projects, orders, tasks
    TO crm_readonly;

RESET ROLE;
