\connect crm
DROP SCHEMA archive;
DROP TABLE professionals;
ALTER TABLE employees ALTER COLUMN id DROP DEFAULT, ALTER COLUMN id TYPE text;
ALTER TABLE orders ALTER COLUMN status DROP DEFAULT, ALTER COLUMN status TYPE text;
DROP TYPE order_status;
DROP TRIGGER tasks_set_updated_at ON tasks;
DROP INDEX tasks_tenant_id_project_id_idx;
