-- crm-user samples: the development seed's logins (claim N3), <role>@<tenant>.test for every role of every
-- tenant, bcrypt (cost 10) of the seed_password secret. Logins that exist are left as they are.
\set seed_password `cat /run/secrets/seed_password`
INSERT INTO public.users (tenant_id, email, password_hash, full_name, role)
SELECT t.id, r.role::text || '@' || t.slug || '.test', public.crypt(:'seed_password', public.gen_salt('bf', 10)),
       initcap(t.slug) || ' ' || initcap(r.role::text), r.role
  FROM public.tenants t CROSS JOIN unnest(enum_range(NULL::public.user_role)) AS r(role)
    ON CONFLICT ON CONSTRAINT users_tenant_email_key DO NOTHING;
\unset seed_password
