-- The app role gains attributes, a superuser membership and grants it must not have.
ALTER ROLE crm_app CREATEDB CREATEROLE BYPASSRLS;
GRANT postgres TO crm_app;
\connect crm
GRANT TRUNCATE, REFERENCES ON clients TO crm_app;
GRANT CREATE ON SCHEMA temp TO PUBLIC;
