-- 02: extensions, schemas, types, tables, indexes, triggers in database crm.
\set ON_ERROR_STOP on
\connect crm

------------------------------------------------------------------------------
-- Schemas (as superuser): everything owned by crm_owner, PUBLIC gets nothing.
------------------------------------------------------------------------------
ALTER SCHEMA public OWNER TO crm_owner;
REVOKE ALL ON SCHEMA public FROM PUBLIC;       -- includes CREATE (and USAGE)
CREATE SCHEMA audit   AUTHORIZATION crm_owner;
CREATE SCHEMA temp    AUTHORIZATION crm_owner;
CREATE SCHEMA archive AUTHORIZATION crm_owner;
REVOKE ALL ON SCHEMA audit, temp, archive FROM PUBLIC;

------------------------------------------------------------------------------
-- Extensions (several are not "trusted": created by the superuser, in public)
------------------------------------------------------------------------------
CREATE EXTENSION IF NOT EXISTS "uuid-ossp"        WITH SCHEMA public;
CREATE EXTENSION IF NOT EXISTS pgcrypto           WITH SCHEMA public;
CREATE EXTENSION IF NOT EXISTS pg_stat_statements WITH SCHEMA public;
CREATE EXTENSION IF NOT EXISTS pg_trgm            WITH SCHEMA public;
CREATE EXTENSION IF NOT EXISTS btree_gin          WITH SCHEMA public;
CREATE EXTENSION IF NOT EXISTS btree_gist         WITH SCHEMA public;
CREATE EXTENSION IF NOT EXISTS citext             WITH SCHEMA public;
CREATE EXTENSION IF NOT EXISTS fuzzystrmatch      WITH SCHEMA public;
CREATE EXTENSION IF NOT EXISTS unaccent           WITH SCHEMA public;
CREATE EXTENSION IF NOT EXISTS pgstattuple        WITH SCHEMA public;

------------------------------------------------------------------------------
-- From here on everything is created by (and owned by) crm_owner.
------------------------------------------------------------------------------
SET ROLE crm_owner;
SET search_path = public;

-- Functions created later by crm_owner are not executable by PUBLIC.
ALTER DEFAULT PRIVILEGES FOR ROLE crm_owner REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
-- Tables created later by crm_owner in public are readable by crm_readonly.
ALTER DEFAULT PRIVILEGES FOR ROLE crm_owner IN SCHEMA public GRANT SELECT ON TABLES TO crm_readonly;

-- Enums ---------------------------------------------------------------------
CREATE TYPE user_role      AS ENUM ('admin', 'employee', 'client', 'supplier', 'professional');
CREATE TYPE project_status AS ENUM ('planned', 'active', 'on_hold', 'completed', 'cancelled');
CREATE TYPE task_status    AS ENUM ('todo', 'in_progress', 'blocked', 'done', 'cancelled');
CREATE TYPE task_priority  AS ENUM ('low', 'medium', 'high', 'urgent');
CREATE TYPE order_status   AS ENUM ('draft', 'pending', 'confirmed', 'shipped', 'delivered', 'cancelled');

-- Trigger function ----------------------------------------------------------
CREATE FUNCTION public.update_updated_at() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION public.update_updated_at() IS 'BEFORE UPDATE trigger: sets updated_at = now()';
REVOKE ALL ON FUNCTION public.update_updated_at() FROM PUBLIC;

------------------------------------------------------------------------------
-- tenants: directory of tenants, no RLS (the API resolves slug -> id here).
------------------------------------------------------------------------------
CREATE TABLE tenants (
    id          uuid        PRIMARY KEY DEFAULT uuid_generate_v4(),
    slug        citext      NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    name        text        NOT NULL CHECK (btrim(name) <> ''),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

------------------------------------------------------------------------------
-- Tenant-scoped tables. tenant_id defaults to the session's app.tenant_id;
-- references between tenant tables are composite (tenant_id, x_id) so a row
-- can never point at another tenant's row (FK checks bypass RLS).
------------------------------------------------------------------------------
CREATE TABLE users (
    id             uuid        PRIMARY KEY DEFAULT uuid_generate_v4(),
    tenant_id      uuid        NOT NULL DEFAULT NULLIF(current_setting('app.tenant_id', true), '')::uuid
                               REFERENCES tenants (id),
    email          citext      NOT NULL CHECK (email ~ '^[^@[:space:]]+@[^@[:space:]]+$'),
    password_hash  text        NOT NULL,
    full_name      text        NOT NULL CHECK (btrim(full_name) <> ''),
    role           user_role   NOT NULL,
    is_active      boolean     NOT NULL DEFAULT true,
    last_login_at  timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_tenant_email_key UNIQUE (tenant_id, email),
    CONSTRAINT users_tenant_id_id_key UNIQUE (tenant_id, id)
);

CREATE TABLE employees (
    id          uuid        PRIMARY KEY DEFAULT uuid_generate_v4(),
    tenant_id   uuid        NOT NULL DEFAULT NULLIF(current_setting('app.tenant_id', true), '')::uuid
                            REFERENCES tenants (id),
    user_id     uuid,
    full_name   text        NOT NULL CHECK (btrim(full_name) <> ''),
    email       citext,
    phone       text,
    job_title   text,
    department  text,
    hire_date   date,
    is_active   boolean     NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT employees_user_fkey FOREIGN KEY (tenant_id, user_id)
        REFERENCES users (tenant_id, id) ON DELETE SET NULL (user_id)
);

CREATE TABLE clients (
    id            uuid        PRIMARY KEY DEFAULT uuid_generate_v4(),
    tenant_id     uuid        NOT NULL DEFAULT NULLIF(current_setting('app.tenant_id', true), '')::uuid
                              REFERENCES tenants (id),
    user_id       uuid,
    name          text        NOT NULL CHECK (btrim(name) <> ''),
    contact_name  text,
    email         citext,
    phone         text,
    tax_id        text,
    address       text,
    notes         text,
    is_active     boolean     NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT clients_tenant_id_id_key UNIQUE (tenant_id, id),
    CONSTRAINT clients_user_fkey FOREIGN KEY (tenant_id, user_id)
        REFERENCES users (tenant_id, id) ON DELETE SET NULL (user_id)
);

CREATE TABLE suppliers (
    id            uuid        PRIMARY KEY DEFAULT uuid_generate_v4(),
    tenant_id     uuid        NOT NULL DEFAULT NULLIF(current_setting('app.tenant_id', true), '')::uuid
                              REFERENCES tenants (id),
    user_id       uuid,
    name          text        NOT NULL CHECK (btrim(name) <> ''),
    contact_name  text,
    email         citext,
    phone         text,
    tax_id        text,
    address       text,
    category      text,
    is_active     boolean     NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT suppliers_tenant_id_id_key UNIQUE (tenant_id, id),
    CONSTRAINT suppliers_user_fkey FOREIGN KEY (tenant_id, user_id)
        REFERENCES users (tenant_id, id) ON DELETE SET NULL (user_id)
);

CREATE TABLE professionals (
    id              uuid          PRIMARY KEY DEFAULT uuid_generate_v4(),
    tenant_id       uuid          NOT NULL DEFAULT NULLIF(current_setting('app.tenant_id', true), '')::uuid
                                  REFERENCES tenants (id),
    user_id         uuid,
    full_name       text          NOT NULL CHECK (btrim(full_name) <> ''),
    email           citext,
    phone           text,
    profession      text,
    license_number  text,
    hourly_rate     numeric(10,2) CHECK (hourly_rate >= 0),
    is_active       boolean       NOT NULL DEFAULT true,
    created_at      timestamptz   NOT NULL DEFAULT now(),
    updated_at      timestamptz   NOT NULL DEFAULT now(),
    CONSTRAINT professionals_user_fkey FOREIGN KEY (tenant_id, user_id)
        REFERENCES users (tenant_id, id) ON DELETE SET NULL (user_id)
);

CREATE TABLE projects (
    id           uuid           PRIMARY KEY DEFAULT uuid_generate_v4(),
    tenant_id    uuid           NOT NULL DEFAULT NULLIF(current_setting('app.tenant_id', true), '')::uuid
                                REFERENCES tenants (id),
    client_id    uuid,
    name         text           NOT NULL CHECK (btrim(name) <> ''),
    description  text,
    status       project_status NOT NULL DEFAULT 'planned',
    budget       numeric(12,2)  CHECK (budget >= 0),
    start_date   date,
    end_date     date,
    created_at   timestamptz    NOT NULL DEFAULT now(),
    updated_at   timestamptz    NOT NULL DEFAULT now(),
    CONSTRAINT projects_dates_check CHECK (end_date IS NULL OR start_date IS NULL OR end_date >= start_date),
    CONSTRAINT projects_tenant_id_id_key UNIQUE (tenant_id, id),
    CONSTRAINT projects_client_fkey FOREIGN KEY (tenant_id, client_id)
        REFERENCES clients (tenant_id, id) ON DELETE SET NULL (client_id)
);

CREATE TABLE orders (
    id            uuid          PRIMARY KEY DEFAULT uuid_generate_v4(),
    tenant_id     uuid          NOT NULL DEFAULT NULLIF(current_setting('app.tenant_id', true), '')::uuid
                                REFERENCES tenants (id),
    client_id     uuid,
    supplier_id   uuid,
    order_number  text          NOT NULL CHECK (btrim(order_number) <> ''),
    status        order_status  NOT NULL DEFAULT 'draft',
    total         numeric(12,2) NOT NULL DEFAULT 0 CHECK (total >= 0),
    currency      char(3)       NOT NULL DEFAULT 'EUR' CHECK (currency ~ '^[A-Z]{3}$'),
    ordered_at    timestamptz   NOT NULL DEFAULT now(),
    notes         text,
    created_at    timestamptz   NOT NULL DEFAULT now(),
    updated_at    timestamptz   NOT NULL DEFAULT now(),
    CONSTRAINT orders_tenant_order_number_key UNIQUE (tenant_id, order_number),
    CONSTRAINT orders_client_fkey FOREIGN KEY (tenant_id, client_id)
        REFERENCES clients (tenant_id, id) ON DELETE SET NULL (client_id),
    CONSTRAINT orders_supplier_fkey FOREIGN KEY (tenant_id, supplier_id)
        REFERENCES suppliers (tenant_id, id) ON DELETE SET NULL (supplier_id)
);

CREATE TABLE tasks (
    id            uuid          PRIMARY KEY DEFAULT uuid_generate_v4(),
    tenant_id     uuid          NOT NULL DEFAULT NULLIF(current_setting('app.tenant_id', true), '')::uuid
                                REFERENCES tenants (id),
    project_id    uuid,
    assignee_id   uuid,
    title         text          NOT NULL CHECK (btrim(title) <> ''),
    description   text,
    status        task_status   NOT NULL DEFAULT 'todo',
    priority      task_priority NOT NULL DEFAULT 'medium',
    due_date      date,
    completed_at  timestamptz,
    created_at    timestamptz   NOT NULL DEFAULT now(),
    updated_at    timestamptz   NOT NULL DEFAULT now(),
    CONSTRAINT tasks_project_fkey FOREIGN KEY (tenant_id, project_id)
        REFERENCES projects (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT tasks_assignee_fkey FOREIGN KEY (tenant_id, assignee_id)
        REFERENCES users (tenant_id, id) ON DELETE SET NULL (assignee_id)
);

------------------------------------------------------------------------------
-- Indexes: one leading with the columns of every foreign key, the lookup that
-- a foreign-key check or ON DELETE makes ((tenant_id, x_id) for the composite
-- keys; the tenant_id indexes also serve "list newest first" under RLS), plus
-- trigram search.
------------------------------------------------------------------------------
CREATE INDEX users_tenant_id_created_at_idx         ON users         (tenant_id, created_at);
CREATE INDEX employees_tenant_id_created_at_idx     ON employees     (tenant_id, created_at);
CREATE INDEX employees_tenant_id_user_id_idx        ON employees     (tenant_id, user_id);
CREATE INDEX clients_tenant_id_created_at_idx       ON clients       (tenant_id, created_at);
CREATE INDEX clients_tenant_id_user_id_idx          ON clients       (tenant_id, user_id);
CREATE INDEX clients_name_trgm_idx                  ON clients       USING gin (name gin_trgm_ops);
CREATE INDEX suppliers_tenant_id_created_at_idx     ON suppliers     (tenant_id, created_at);
CREATE INDEX suppliers_tenant_id_user_id_idx        ON suppliers     (tenant_id, user_id);
CREATE INDEX professionals_tenant_id_created_at_idx ON professionals (tenant_id, created_at);
CREATE INDEX professionals_tenant_id_user_id_idx    ON professionals (tenant_id, user_id);
CREATE INDEX projects_tenant_id_created_at_idx      ON projects      (tenant_id, created_at);
CREATE INDEX projects_tenant_id_client_id_idx       ON projects      (tenant_id, client_id);
CREATE INDEX orders_tenant_id_created_at_idx        ON orders        (tenant_id, created_at);
CREATE INDEX orders_tenant_id_client_id_idx         ON orders        (tenant_id, client_id);
CREATE INDEX orders_tenant_id_supplier_id_idx       ON orders        (tenant_id, supplier_id);
CREATE INDEX tasks_tenant_id_created_at_idx         ON tasks         (tenant_id, created_at);
CREATE INDEX tasks_tenant_id_project_id_idx         ON tasks         (tenant_id, project_id);
CREATE INDEX tasks_tenant_id_assignee_id_idx        ON tasks         (tenant_id, assignee_id);

------------------------------------------------------------------------------
-- updated_at triggers
------------------------------------------------------------------------------
CREATE TRIGGER tenants_set_updated_at       BEFORE UPDATE ON tenants       FOR EACH ROW EXECUTE FUNCTION public.update_updated_at();
CREATE TRIGGER users_set_updated_at         BEFORE UPDATE ON users         FOR EACH ROW EXECUTE FUNCTION public.update_updated_at();
CREATE TRIGGER employees_set_updated_at     BEFORE UPDATE ON employees     FOR EACH ROW EXECUTE FUNCTION public.update_updated_at();
CREATE TRIGGER clients_set_updated_at       BEFORE UPDATE ON clients       FOR EACH ROW EXECUTE FUNCTION public.update_updated_at();
CREATE TRIGGER suppliers_set_updated_at     BEFORE UPDATE ON suppliers     FOR EACH ROW EXECUTE FUNCTION public.update_updated_at();
CREATE TRIGGER professionals_set_updated_at BEFORE UPDATE ON professionals FOR EACH ROW EXECUTE FUNCTION public.update_updated_at();
CREATE TRIGGER projects_set_updated_at      BEFORE UPDATE ON projects      FOR EACH ROW EXECUTE FUNCTION public.update_updated_at();
CREATE TRIGGER orders_set_updated_at        BEFORE UPDATE ON orders        FOR EACH ROW EXECUTE FUNCTION public.update_updated_at();
CREATE TRIGGER tasks_set_updated_at         BEFORE UPDATE ON tasks         FOR EACH ROW EXECUTE FUNCTION public.update_updated_at();

RESET ROLE;
