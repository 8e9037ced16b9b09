-- The admin role, which makes the logins and restores the backups, commits without waiting for its WAL on disk:
-- only pg_db_role_setting says so, never a session of the app role.
ALTER ROLE postgres SET synchronous_commit = off;
