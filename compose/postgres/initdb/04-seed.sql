-- 04: sample data for tenants acme and globex (no logins: see 04-seed-tenant.psql), then ANALYZE.
-- Runs as crm_owner, so FORCE ROW LEVEL SECURITY applies: each tenant is
-- seeded in its own transaction with app.tenant_id set via
-- set_config(..., true) (transaction-local); tenant_id comes from the column
-- default. The per-tenant logic is in 04-seed-tenant.psql (included twice).
\set ON_ERROR_STOP on
\connect crm
SET ROLE crm_owner;
SET search_path = public;

INSERT INTO tenants (slug, name) VALUES
    ('acme',   'Acme Corporation'),
    ('globex', 'Globex Corporation');

-- acme: 3 employees, 5 clients, 2 suppliers, 1 professional, 4 projects, 2 orders, 10 tasks
\set slug acme
\set employee_names '{"Alice Martin","Bruno Costa","Chiara Rossi"}'
\set client_names '{"Northwind Traders","Blue Harbor Logistics","Café Lumière","Granite Peak Builders","Sunrise Dental Clinic"}'
\set supplier_names '{"Acme Paper Supply","Rapid Office Parts"}'
\set professional_names '{"Dr. Helen Park"}'
\set project_names '{"Website relaunch","Warehouse move","ERP integration","Annual audit"}'
\set n_tasks 10
\ir 04-seed-tenant.psql

-- globex: 2 employees, 4 clients, 2 suppliers, 1 professional, 3 projects, 2 orders, 7 tasks
\set slug globex
\set employee_names '{"Hank Scorpio","Mindy Simmons"}'
\set client_names '{"Springfield Nuclear","Cypress Creek Realty","Kwik-E-Mart Holdings","Évora Vinhos"}'
\set supplier_names '{"Globex Steel Works","Volcano Lair Outfitters"}'
\set professional_names '{"Frank Grimes, P.E."}'
\set project_names '{"Hammock district","Doomsday device QA","Staff onboarding"}'
\set n_tasks 7
\ir 04-seed-tenant.psql

RESET ROLE;

ANALYZE;
