-- crm-user add: the logins on stdin (tenant, e-mail, role, password; COPY text format), made or updated in
-- one transaction. As the superuser, row-level security does not apply; the audit trigger records each row.
BEGIN;
CREATE TEMP TABLE incoming (tenant text NOT NULL, email public.citext NOT NULL,
                            role public.user_role NOT NULL,
                            password text NOT NULL CHECK (length(password) >= 12)) ON COMMIT DROP;
\copy incoming FROM pstdin
DO $$
DECLARE
    unknown text := (SELECT string_agg(DISTINCT i.tenant, ', ') FROM incoming i
                      WHERE NOT EXISTS (SELECT FROM public.tenants t WHERE t.slug = i.tenant));
BEGIN
    IF unknown IS NOT NULL THEN
        RAISE EXCEPTION 'crm-user add: no tenant %', unknown;
    END IF;
END $$;
INSERT INTO public.users (tenant_id, email, password_hash, full_name, role)
SELECT t.id, i.email, public.crypt(i.password, public.gen_salt('bf', 10)), split_part(i.email::text, '@', 1), i.role
  FROM incoming i JOIN public.tenants t ON t.slug = i.tenant
    ON CONFLICT ON CONSTRAINT users_tenant_email_key
    DO UPDATE SET password_hash = EXCLUDED.password_hash, role = EXCLUDED.role, is_active = true;
COMMIT;
