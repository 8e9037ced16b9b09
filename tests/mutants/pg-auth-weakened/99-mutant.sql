-- The app role gains attributes, a superuser membership and grants it must not have.
ALTER ROLE crm_app CREATEDB CREATEROLE BYPASSRLS;
GRANT postgres TO crm_app;
\connect crm
GRANT TRUNCATE, REFERENCES ON clients TO crm_app;
GRANT CREATE ON SCHEMA temp TO PUBLIC;
-- And a role the API never uses, where a reader looks last: the read-only role streams replication and reaches the
-- server's files and programs.
ALTER ROLE crm_readonly REPLICATION;
GRANT pg_read_server_files, pg_write_server_files, pg_execute_server_program TO crm_readonly;
