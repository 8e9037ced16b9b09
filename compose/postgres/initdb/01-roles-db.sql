-- 01: roles and the crm database. Runs as postgres in database postgres.
-- Passwords are read from the secret files with psql backticks, so they never
-- appear on a command line; the init server does not log failing statements.
\set ON_ERROR_STOP on

\set app_password `cat /run/secrets/pg_app_password`
\set readonly_password `cat /run/secrets/pg_readonly_password`

-- Owns the database, the schemas and every table/type/function. Never logs in.
CREATE ROLE crm_owner
    NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT;

-- Used by the API. Owns nothing, member of nothing; subject to RLS.
CREATE ROLE crm_app
    LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT
    PASSWORD :'app_password';

-- Reporting / inspection. SELECT only (still subject to RLS: set app.tenant_id).
CREATE ROLE crm_readonly
    LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT
    CONNECTION LIMIT 10
    PASSWORD :'readonly_password';

\unset app_password
\unset readonly_password

CREATE DATABASE crm
    OWNER crm_owner
    TEMPLATE template0
    ENCODING 'UTF8'
    LOCALE 'C.UTF-8';

COMMENT ON DATABASE crm IS 'CRM reference stack (multi-tenant, row level security on app.tenant_id)';

-- Only the application roles may connect to crm; nobody but superusers may
-- connect to the maintenance databases.
REVOKE ALL ON DATABASE crm FROM PUBLIC;
GRANT CONNECT ON DATABASE crm TO crm_app, crm_readonly;
REVOKE ALL ON DATABASE postgres FROM PUBLIC;
REVOKE ALL ON DATABASE template1 FROM PUBLIC;
